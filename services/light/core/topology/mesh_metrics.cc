#include "services/light/core/topology/mesh_metrics.h"

#include <algorithm>
#include <utility>

namespace workerpair::light {

double FaceArea(const TriangleMesh& mesh, std::size_t face) {
  const Vec3 a = mesh.corner(face, 0);
  return 0.5 * Norm(Cross(mesh.corner(face, 1) - a, mesh.corner(face, 2) - a));
}

double DegenerateAreaThreshold(const Box& bounds) {
  const double diagonal = Norm(bounds.size());
  return 1e-12 * diagonal * diagonal;
}

MeshMetrics MeasureMesh(const TriangleMesh& mesh, std::size_t max_listed) {
  MeshMetrics metrics;
  metrics.bounds = BoundingBox(mesh.vertices);
  const double degenerate_below = DegenerateAreaThreshold(metrics.bounds);
  // Tetrahedra are taken against the box centre, which keeps the sums well conditioned for
  // parts far from the origin.
  const Vec3 origin = (metrics.bounds.min + metrics.bounds.max) * 0.5;

  double volume6 = 0;   // 6 x signed volume
  Vec3 moment24;        // 24 x first moment about `origin`
  Vec3 surface_moment;  // area-weighted face centroids
  // (sorted vertex set, face) per non-collapsed face, to find duplicates.
  std::vector<std::pair<std::array<std::uint32_t, 3>, std::uint32_t>> keyed;
  keyed.reserve(mesh.triangles.size());

  for (std::size_t f = 0; f < mesh.triangles.size(); ++f) {
    const Vec3 a = mesh.corner(f, 0) - origin;
    const Vec3 b = mesh.corner(f, 1) - origin;
    const Vec3 c = mesh.corner(f, 2) - origin;
    const double det = Dot(a, Cross(b, c));
    volume6 += det;
    moment24 = moment24 + (a + b + c) * det;
    const double area = 0.5 * Norm(Cross(b - a, c - a));
    metrics.area += area;
    surface_moment = surface_moment + (a + b + c) * (area / 3.0);

    const auto face = static_cast<std::uint32_t>(f);
    if (mesh.collapsed(f) || area <= degenerate_below) {
      if (metrics.degenerate_faces.size() < max_listed) metrics.degenerate_faces.push_back(face);
      ++metrics.degenerate_face_count;
    }
    if (mesh.collapsed(f)) continue;
    std::array<std::uint32_t, 3> key = mesh.triangles[f];
    std::sort(key.begin(), key.end());
    keyed.push_back({key, face});
  }
  // Duplicates: every face after the first of a run with the same vertex set.
  std::sort(keyed.begin(), keyed.end());
  std::vector<std::uint32_t> duplicates;
  for (std::size_t i = 1; i < keyed.size(); ++i) {
    if (keyed[i].first == keyed[i - 1].first) duplicates.push_back(keyed[i].second);
  }
  std::sort(duplicates.begin(), duplicates.end());
  metrics.duplicate_face_count = duplicates.size();
  duplicates.resize(std::min(duplicates.size(), max_listed));
  metrics.duplicate_faces = std::move(duplicates);

  metrics.signed_volume = volume6 / 6.0;
  const Box& box = metrics.bounds;
  const double scale = std::max({box.size().x, box.size().y, box.size().z});
  if (std::abs(metrics.signed_volume) > 1e-12 * scale * scale * scale) {
    metrics.center_of_mass = origin + moment24 / (4.0 * volume6);
    metrics.solid_center = true;
  } else if (metrics.area > 0) {
    metrics.center_of_mass = origin + surface_moment / metrics.area;
  } else {
    metrics.center_of_mass = origin;
  }
  return metrics;
}

}  // namespace workerpair::light
