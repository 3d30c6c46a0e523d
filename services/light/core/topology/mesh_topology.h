// Mesh topology: the edge table, manifoldness, orientation, connected components, Euler
// characteristic and genus of a welded TriangleMesh.
//
//   EdgeTable edges = BuildEdgeTable(mesh);
//   TopologyReport topology = AnalyzeTopology(mesh, edges);
//   if (topology.watertight && topology.genus) ...      // closed, genus known
//
// Triangles that name one vertex twice (collapsed by welding) are left out of the topology;
// mesh metrics count them as degenerate. Edges are numbered in ascending order of (lower vertex
// index, higher vertex index), vertices in order of first appearance in the file.
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_MESH_TOPOLOGY_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_MESH_TOPOLOGY_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "services/light/core/topology/mesh.h"

namespace workerpair::light {

// Undirected edges and the faces around each.
struct EdgeTable {
  // Vertex pairs (a < b), sorted.
  std::vector<std::array<std::uint32_t, 2>> edges;
  // Faces of edge i: faces[offsets[i] .. offsets[i + 1]), ascending face index.
  std::vector<std::uint32_t> offsets;
  std::vector<std::uint32_t> faces;
  // How many of edge i's faces run a -> b (the rest run b -> a).
  std::vector<std::uint32_t> forward;

  std::size_t size() const { return edges.size(); }
  std::span<const std::uint32_t> FacesOf(std::size_t edge) const {
    return {faces.data() + offsets[edge], faces.data() + offsets[edge + 1]};
  }
  // Shared by exactly two faces that traverse it in opposite directions.
  bool Consistent(std::size_t edge) const {
    return offsets[edge + 1] - offsets[edge] == 2 && forward[edge] == 1;
  }
};

EdgeTable BuildEdgeTable(const TriangleMesh& mesh);

struct ComponentReport {
  // Smallest face index in the component (components are listed in this order).
  std::uint32_t first_face = 0;
  std::uint64_t vertex_count = 0;
  std::uint64_t edge_count = 0;
  std::uint64_t face_count = 0;
  // V - E + F of this component.
  std::int64_t euler_characteristic = 0;
  // Every edge shared by exactly two consistently oriented faces and every vertex a single fan.
  bool closed = false;
  // (2 - chi) / 2, only for closed components.
  std::optional<std::int64_t> genus;
};

struct TopologyReport {
  // Vertices referenced by non-collapsed triangles; edges; non-collapsed triangles.
  std::uint64_t vertex_count = 0;
  std::uint64_t edge_count = 0;
  std::uint64_t face_count = 0;
  // Edges with one face (holes), with more than two faces.
  std::uint64_t boundary_edge_count = 0;
  std::uint64_t non_manifold_edge_count = 0;
  // Two-face edges whose faces traverse it in the same direction.
  std::uint64_t inconsistent_edge_count = 0;
  // Vertices whose faces form more than one fan (e.g. two cubes touching at a corner).
  std::uint64_t non_manifold_vertex_count = 0;
  // Every edge shared by exactly two faces (no holes, no non-manifold edges), at least one face.
  bool watertight = false;
  // No non-manifold edge or vertex.
  bool manifold = false;
  // No inconsistent edge.
  bool consistently_oriented = false;
  // V - E + F over the whole mesh.
  std::int64_t euler_characteristic = 0;
  // Sum of the components' genera, (2 * components - chi) / 2, when every component is closed.
  std::optional<std::int64_t> genus;
  std::vector<ComponentReport> components;
};

TopologyReport AnalyzeTopology(const TriangleMesh& mesh, const EdgeTable& edges);

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_MESH_TOPOLOGY_H_
