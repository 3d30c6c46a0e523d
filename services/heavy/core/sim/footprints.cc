#include "services/heavy/core/sim/footprints.h"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "libs/common/str_cat.h"
#include "services/heavy/core/scene/manifest.h"

namespace workerpair::heavy::sim {
namespace {

using Point2 = std::array<double, 2>;

// Projects local point `l` of a frame (position `pos`, row-major rotation `mat`) onto x-y.
Point2 Project(const mjtNum* pos, const mjtNum* mat, double lx, double ly, double lz) {
  return {pos[0] + mat[0] * lx + mat[1] * ly + mat[2] * lz,
          pos[1] + mat[3] * lx + mat[4] * ly + mat[5] * lz};
}

// Points whose hull is the projected outline of a primitive shape of `type` and `size`.
std::vector<Point2> ShapePoints(int type, const mjtNum* size, const mjtNum* pos,
                                const mjtNum* mat) {
  std::vector<Point2> points;
  constexpr int kAround = 24;
  auto circle = [&](double cx, double cy, double r) {
    for (int i = 0; i < kAround; ++i) {
      const double a = 2 * M_PI * i / kAround;
      points.push_back({cx + r * std::cos(a), cy + r * std::sin(a)});
    }
  };
  switch (type) {
    case mjGEOM_SPHERE:
      circle(pos[0], pos[1], size[0]);
      break;
    case mjGEOM_CAPSULE: {  // the hull of the two end spheres' outlines
      const Point2 a = Project(pos, mat, 0, 0, -size[1]);
      const Point2 b = Project(pos, mat, 0, 0, size[1]);
      circle(a[0], a[1], size[0]);
      circle(b[0], b[1], size[0]);
      break;
    }
    case mjGEOM_CYLINDER:
      for (double z : {-size[1], size[1]}) {
        for (int i = 0; i < kAround; ++i) {
          const double a = 2 * M_PI * i / kAround;
          points.push_back(
              Project(pos, mat, size[0] * std::cos(a), size[0] * std::sin(a), z));
        }
      }
      break;
    case mjGEOM_ELLIPSOID:
      for (int i = 0; i < 12; ++i) {
        const double polar = M_PI * (i + 0.5) / 12;
        for (int j = 0; j < kAround; ++j) {
          const double a = 2 * M_PI * j / kAround;
          points.push_back(Project(pos, mat, size[0] * std::sin(polar) * std::cos(a),
                                   size[1] * std::sin(polar) * std::sin(a),
                                   size[2] * std::cos(polar)));
        }
      }
      break;
    default:  // box
      for (int corner = 0; corner < 8; ++corner) {
        points.push_back(Project(pos, mat, (corner & 1 ? 1 : -1) * size[0],
                                 (corner & 2 ? 1 : -1) * size[1],
                                 (corner & 4 ? 1 : -1) * size[2]));
      }
  }
  return points;
}

std::string BodyLabel(const mjModel* m, int b) {
  const char* name = mj_id2name(m, mjOBJ_BODY, b);
  return name != nullptr && name[0] != '\0' ? std::string(name) : StrCat("body", b);
}

}  // namespace

std::vector<Point2> ConvexHull(std::vector<Point2> points) {
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  if (points.size() < 3) return points;
  auto cross = [](const Point2& o, const Point2& a, const Point2& b) {
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  };
  std::vector<Point2> hull(2 * points.size());
  std::size_t k = 0;
  for (const Point2& p : points) {  // lower hull
    while (k >= 2 && cross(hull[k - 2], hull[k - 1], p) <= 0) --k;
    hull[k++] = p;
  }
  for (std::size_t i = points.size() - 1, lower = k + 1; i > 0; --i) {  // upper hull
    const Point2& p = points[i - 1];
    while (k >= lower && cross(hull[k - 2], hull[k - 1], p) <= 0) --k;
    hull[k++] = p;
  }
  hull.resize(k - 1);
  return hull;
}

std::vector<Footprint> TopDownFootprints(const mjModel* m, const mjData* d, int max_footprints) {
  std::vector<Footprint> footprints;
  auto add = [&](std::string label, FootprintKind kind, std::vector<Point2> points) {
    std::vector<Point2> hull = ConvexHull(std::move(points));
    for (const Point2& p : hull) {
      if (!std::isfinite(p[0]) || !std::isfinite(p[1])) return;
    }
    if (hull.size() >= 3) footprints.push_back({std::move(label), kind, std::move(hull)});
  };
  for (int g = 0; g < m->ngeom && static_cast<int>(footprints.size()) < max_footprints; ++g) {
    const int type = m->geom_type[g];
    if (type == mjGEOM_PLANE || type == mjGEOM_HFIELD) continue;
    const mjtNum* pos = d->geom_xpos + 3 * g;
    const mjtNum* mat = d->geom_xmat + 9 * g;
    std::vector<Point2> points;
    if (type == mjGEOM_MESH && m->geom_dataid[g] >= 0) {
      const int mesh = m->geom_dataid[g];
      const int count = m->mesh_vertnum[mesh];
      const float* vertices = m->mesh_vert + 3 * static_cast<std::size_t>(m->mesh_vertadr[mesh]);
      const int stride = std::max(1, count / 4096);
      for (int v = 0; v < count; v += stride) {
        const float* p = vertices + 3 * static_cast<std::size_t>(v);
        points.push_back(Project(pos, mat, p[0], p[1], p[2]));
      }
    } else {
      points = ShapePoints(type, m->geom_size + 3 * g, pos, mat);
    }
    const int body = m->geom_bodyid[g];
    if (body == 0) {
      const char* name = mj_id2name(m, mjOBJ_GEOM, g);
      add(name != nullptr && name[0] != '\0' ? std::string(name) : StrCat("geom", g),
          FootprintKind::kStaticPart, std::move(points));
    } else {
      add(BodyLabel(m, body), FootprintKind::kMovingPart, std::move(points));
    }
  }
  for (int s = 0; s < m->nsite && static_cast<int>(footprints.size()) < max_footprints; ++s) {
    const char* name = mj_id2name(m, mjOBJ_SITE, s);
    if (name == nullptr) continue;
    const std::string_view site(name);
    const bool goal = site.starts_with(scene::kGoalZonePrefix);
    if (!goal && !site.starts_with(scene::kForbidZonePrefix)) continue;
    add(std::string(site), goal ? FootprintKind::kGoalZone : FootprintKind::kForbidZone,
        ShapePoints(m->site_type[s], m->site_size + 3 * s, d->site_xpos + 3 * s,
                    d->site_xmat + 9 * s));
  }
  return footprints;
}

}  // namespace workerpair::heavy::sim
