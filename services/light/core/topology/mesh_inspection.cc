#include "services/light/core/topology/mesh_inspection.h"

#include "absl/status/status.h"
#include "libs/common/str_cat.h"
#include "services/light/core/topology/mesh_metrics.h"

namespace workerpair::light {

absl::StatusOr<FaceInspection> InspectFace(std::string_view display_path, const TriangleMesh& mesh,
                                           std::uint64_t index) {
  if (index >= mesh.triangles.size()) {
    return absl::OutOfRangeError(StrCat("face ", index, " is out of range: '", display_path,
                                        "' has ", mesh.triangles.size(), " faces"));
  }
  const std::size_t face = static_cast<std::size_t>(index);
  FaceInspection out;
  out.index = index;
  out.vertex_indices = mesh.triangles[face];
  for (int k = 0; k < 3; ++k) out.corners[k] = mesh.corner(face, k);
  const Vec3 cross = Cross(out.corners[1] - out.corners[0], out.corners[2] - out.corners[0]);
  const double length = Norm(cross);
  out.area = 0.5 * length;
  out.centre = (out.corners[0] + out.corners[1] + out.corners[2]) / 3.0;
  out.degenerate =
      mesh.collapsed(face) || out.area <= DegenerateAreaThreshold(BoundingBox(mesh.vertices));
  if (!out.degenerate && length > 0) out.normal = cross / length;
  return out;
}

absl::StatusOr<EdgeInspection> InspectEdge(std::string_view display_path, const TriangleMesh& mesh,
                                           const EdgeTable& edges, std::uint64_t index) {
  if (index >= edges.size()) {
    return absl::OutOfRangeError(StrCat("edge ", index, " is out of range: '", display_path,
                                        "' has ", edges.size(), " edges"));
  }
  const std::size_t edge = static_cast<std::size_t>(index);
  EdgeInspection out;
  out.index = index;
  out.vertex_indices = edges.edges[edge];
  out.start = mesh.vertices[out.vertex_indices[0]];
  out.end = mesh.vertices[out.vertex_indices[1]];
  out.length = Norm(out.end - out.start);
  const std::span<const std::uint32_t> faces = edges.FacesOf(edge);
  out.adjacent_faces.assign(faces.begin(), faces.end());
  out.consistent = edges.Consistent(edge);
  return out;
}

}  // namespace workerpair::light
