// Inspection of one face or one edge of a welded TriangleMesh, by index.
//
//   WP_ASSIGN_OR_RETURN(FaceInspection face, InspectFace("parts/a.stl", mesh, 12));
//   EdgeTable edges = BuildEdgeTable(mesh);
//   WP_ASSIGN_OR_RETURN(EdgeInspection edge, InspectEdge("parts/a.stl", mesh, edges, 7));
//
// Face indices follow the file (OBJ polygons fan-triangulated in place); edge indices follow
// EdgeTable (ascending vertex pairs; see mesh_topology.h).
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_MESH_INSPECTION_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_MESH_INSPECTION_H_

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "services/light/core/topology/mesh.h"
#include "services/light/core/topology/mesh_topology.h"

namespace workerpair::light {

struct FaceInspection {
  std::uint64_t index = 0;
  std::array<std::uint32_t, 3> vertex_indices{};
  std::array<Vec3, 3> corners{};
  // Unit normal by the right-hand rule over the corners; zero for a degenerate face.
  Vec3 normal;
  double area = 0;
  // Centroid of the three corners.
  Vec3 centre;
  bool degenerate = false;
};

struct EdgeInspection {
  std::uint64_t index = 0;
  std::array<std::uint32_t, 2> vertex_indices{};
  Vec3 start;
  Vec3 end;
  double length = 0;
  // Faces sharing the edge, ascending: one on a hole's rim, two normally, more when non-manifold.
  std::vector<std::uint32_t> adjacent_faces;
  // Two faces that traverse it in opposite directions.
  bool consistent = false;
};

// Face `index` of `mesh` (from the file `display_path`). OUT_OF_RANGE naming the face count
// when there is no such face.
absl::StatusOr<FaceInspection> InspectFace(std::string_view display_path, const TriangleMesh& mesh,
                                           std::uint64_t index);

// Edge `index` of `edges` (built from `mesh`). OUT_OF_RANGE naming the edge count when there is
// no such edge.
absl::StatusOr<EdgeInspection> InspectEdge(std::string_view display_path, const TriangleMesh& mesh,
                                           const EdgeTable& edges, std::uint64_t index);

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_MESH_INSPECTION_H_
