#include "services/light/core/topology/interference.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"

namespace workerpair::light {
namespace {

// A point of the y-z plane (the projection along the rays).
struct P2 {
  double u, v;
};

// Orientation of q against the line a -> b (> 0: q on its left). Evaluated with the endpoints
// in a canonical order, so two triangles sharing the edge get exactly opposite values.
double EdgeFunction(P2 a, P2 b, P2 q) {
  const bool swapped = b.u < a.u || (b.u == a.u && b.v < a.v);
  if (swapped) std::swap(a, b);
  const double w = (b.u - a.u) * (q.v - a.v) - (b.v - a.v) * (q.u - a.u);
  return swapped ? -w : w;
}

// Top-left rule: of an edge and its reverse, exactly one owns the points on it.
bool OwnsEdge(double du, double dv) { return dv > 0 || (dv == 0 && du < 0); }

struct Crossing {
  double x;
  int sign;  // +1 entering (face normal against +x), -1 leaving
};

// Where the +x ray through (q.u, q.v) crosses `face`, if it does.
bool CrossFace(const PosedMesh& mesh, std::size_t face, P2 q, Crossing* crossing) {
  const auto& t = mesh.mesh->triangles[face];
  const Vec3 p[3] = {mesh.vertices[t[0]], mesh.vertices[t[1]], mesh.vertices[t[2]]};
  const P2 s[3] = {{p[0].y, p[0].z}, {p[1].y, p[1].z}, {p[2].y, p[2].z}};
  // The x component of the face normal; zero when the face is parallel to the ray.
  const double det = (s[1].u - s[0].u) * (s[2].v - s[0].v) - (s[1].v - s[0].v) * (s[2].u - s[0].u);
  if (det == 0) return false;
  const double orient = det > 0 ? 1.0 : -1.0;
  double e[3];
  for (int i = 0; i < 3; ++i) {
    const P2 a = s[i], b = s[(i + 1) % 3];
    e[i] = orient * EdgeFunction(a, b, q);
    if (e[i] < 0) return false;
    if (e[i] == 0 && !OwnsEdge(orient * (b.u - a.u), orient * (b.v - a.v))) return false;
  }
  const double sum = e[0] + e[1] + e[2];
  if (sum <= 0) return false;
  // e[i] weighs the vertex opposite edge i (i -> i+1), that is vertex i+2.
  crossing->x = (e[1] * p[0].x + e[2] * p[1].x + e[0] * p[2].x) / sum;
  crossing->sign = det < 0 ? 1 : -1;
  return true;
}

// The sampling grid over a region: counts and cell sizes per axis.
struct Grid {
  Box region;
  int n[3] = {1, 1, 1};
  double h[3] = {0, 0, 0};

  double Centre(int axis, int i) const { return region.min[axis] + (i + 0.5) * h[axis]; }
  // Indices i with Centre(axis, i) in [lo, hi], clamped to the grid; first > last when none.
  std::pair<int, int> Covered(int axis, double lo, double hi) const {
    const double first = std::ceil((lo - region.min[axis]) / h[axis] - 0.5);
    const double last = std::floor((hi - region.min[axis]) / h[axis] - 0.5);
    const double top = static_cast<double>(n[axis]);
    return {static_cast<int>(std::clamp(first, 0.0, top)),
            static_cast<int>(std::clamp(last, -1.0, top - 1))};
  }
};

Grid MakeGrid(const Box& region, int samples_per_axis) {
  Grid grid;
  grid.region = region;
  const Vec3 size = region.size();
  const double longest = std::max({size.x, size.y, size.z});
  for (int axis = 0; axis < 3; ++axis) {
    const double share = longest > 0 ? size[axis] / longest : 0;
    grid.n[axis] =
        std::clamp(static_cast<int>(std::lround(share * samples_per_axis)), 1, samples_per_axis);
    grid.h[axis] = size[axis] / grid.n[axis];
  }
  return grid;
}

// For every cell centre of `grid`, whether it is inside `mesh` (x fastest, then y, then z).
// RESOURCE_EXHAUSTED past `limits.max_crossings`; the budget's status when it runs out.
absl::StatusOr<std::vector<bool>> InsideCells(const PosedMesh& mesh, const Grid& grid,
                                              const OverlapLimits& limits) {
  const int ny = grid.n[1], nz = grid.n[2], nx = grid.n[0];
  std::vector<std::vector<Crossing>> rows(static_cast<std::size_t>(ny) * nz);
  std::uint64_t crossings_kept = 0;
  for (std::size_t f = 0; f < mesh.mesh->triangles.size(); ++f) {
    // Every triangle may cover every row: the work is triangles x rows, so ask often.
    if (limits.budget != nullptr && f % 256 == 0) WP_RETURN_IF_ERROR(limits.budget->Check());
    const auto& t = mesh.mesh->triangles[f];
    Box box;
    for (std::uint32_t v : t) box.Add(mesh.vertices[v]);
    // Crossings beyond the region's far x side cannot change any centre's winding.
    if (box.min.x > grid.region.max.x) continue;
    const auto [j0, j1] = grid.Covered(1, box.min.y, box.max.y);
    const auto [k0, k1] = grid.Covered(2, box.min.z, box.max.z);
    for (int k = k0; k <= k1; ++k) {
      for (int j = j0; j <= j1; ++j) {
        Crossing crossing;
        if (CrossFace(mesh, f, {grid.Centre(1, j), grid.Centre(2, k)}, &crossing)) {
          if (++crossings_kept > limits.max_crossings) {
            return absl::ResourceExhaustedError(StrCat(
                "the overlap estimate needs more than ", limits.max_crossings,
                " ray crossings (layered or very fine meshes); lower samples_per_axis"));
          }
          rows[static_cast<std::size_t>(k) * ny + j].push_back(crossing);
        }
      }
    }
  }
  std::vector<bool> inside(rows.size() * nx, false);
  for (std::size_t row = 0; row < rows.size(); ++row) {
    std::vector<Crossing>& crossings = rows[row];
    std::sort(crossings.begin(), crossings.end(),
              [](const Crossing& a, const Crossing& b) { return a.x < b.x; });
    int winding = 0;
    std::size_t next = 0;
    for (int i = 0; i < nx; ++i) {
      const double x = grid.Centre(0, i);
      while (next < crossings.size() && crossings[next].x < x) winding += crossings[next++].sign;
      inside[row * nx + i] = winding != 0;
    }
  }
  return inside;
}

}  // namespace

PosedMesh PoseMesh(const TriangleMesh& mesh, const Pose& pose) {
  PosedMesh posed;
  posed.mesh = &mesh;
  posed.vertices = PosedVertices(mesh, pose);
  posed.bounds = BoundingBox(posed.vertices);
  return posed;
}

absl::StatusOr<OverlapEstimate> EstimateOverlap(const PosedMesh& a, const PosedMesh& b,
                                                int samples_per_axis,
                                                const OverlapLimits& limits) {
  OverlapEstimate estimate;
  estimate.region = Intersect(a.bounds, b.bounds);
  if (estimate.region.empty() || estimate.region.volume() <= 0) return estimate;
  const Grid grid = MakeGrid(estimate.region, std::max(samples_per_axis, 1));
  WP_ASSIGN_OR_RETURN(const std::vector<bool> in_a, InsideCells(a, grid, limits));
  WP_ASSIGN_OR_RETURN(const std::vector<bool> in_b, InsideCells(b, grid, limits));
  estimate.samples = in_a.size();
  for (std::size_t i = 0; i < in_a.size(); ++i) {
    if (in_a[i] && in_b[i]) ++estimate.inside_both;
  }
  estimate.volume = estimate.region.volume() * static_cast<double>(estimate.inside_both) /
                    static_cast<double>(estimate.samples);
  return estimate;
}

int WindingNumber(const PosedMesh& mesh, Vec3 p) {
  int winding = 0;
  for (std::size_t f = 0; f < mesh.mesh->triangles.size(); ++f) {
    Crossing crossing;
    if (CrossFace(mesh, f, {p.y, p.z}, &crossing) && crossing.x < p.x) winding += crossing.sign;
  }
  return winding;
}

}  // namespace workerpair::light
