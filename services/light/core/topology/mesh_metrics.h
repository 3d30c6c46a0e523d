// Mesh metrics: volume, surface area, bounding box, centre of mass, degenerate and duplicate
// faces of a welded TriangleMesh.
//
//   MeshMetrics metrics = MeasureMesh(mesh);
//   double volume = std::abs(metrics.signed_volume);    // meaningful when watertight
//
// Volume is the sum of signed tetrahedra (face, reference point): positive when the faces wind
// counter-clockwise seen from outside. The centre of mass is that of a solid of uniform density
// (volume-weighted tetrahedron centroids); for a mesh that encloses no volume it falls back to
// the area-weighted centroid of the surface (`solid_center` false).
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_MESH_METRICS_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_MESH_METRICS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "services/light/core/topology/mesh.h"

namespace workerpair::light {

struct MeshMetrics {
  double signed_volume = 0;
  double area = 0;
  Box bounds;
  Vec3 center_of_mass;
  bool solid_center = false;
  // Faces with (near) zero area: collapsed by welding, or area <= 1e-12 * diagonal^2.
  std::uint64_t degenerate_face_count = 0;
  std::vector<std::uint32_t> degenerate_faces;  // the first `max_listed`, ascending
  // Faces with the same three vertices as an earlier face (either winding).
  std::uint64_t duplicate_face_count = 0;
  std::vector<std::uint32_t> duplicate_faces;  // the first `max_listed`, ascending
};

// Measures `mesh`; lists at most `max_listed` degenerate and duplicate face indices.
MeshMetrics MeasureMesh(const TriangleMesh& mesh, std::size_t max_listed = 100);

// Area of face `face` (which must exist).
double FaceArea(const TriangleMesh& mesh, std::size_t face);

// The area below which a face of `mesh` counts as degenerate.
double DegenerateAreaThreshold(const Box& bounds);

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_MESH_METRICS_H_
