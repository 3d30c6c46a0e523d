#include "services/heavy/core/sim/zones.h"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "services/heavy/core/scene/manifest.h"

namespace workerpair::heavy::sim {

std::vector<Zone> FindZones(const mjModel* m) {
  std::vector<Zone> zones;
  for (int i = 0; i < m->nsite; ++i) {
    const char* name = mj_id2name(m, mjOBJ_SITE, i);
    if (name == nullptr) continue;
    const std::string_view site(name);
    if (site.starts_with(scene::kGoalZonePrefix)) {
      zones.push_back({i, std::string(site), true, ZoneBoundSquared(m, i)});
    }
    if (site.starts_with(scene::kForbidZonePrefix)) {
      zones.push_back({i, std::string(site), false, ZoneBoundSquared(m, i)});
    }
  }
  return zones;
}

double ZoneBoundSquared(const mjModel* m, int s) {
  const mjtNum* size = m->site_size + 3 * s;
  double r2 = 0;
  switch (m->site_type[s]) {
    case mjGEOM_SPHERE:
      r2 = size[0] * size[0];
      break;
    case mjGEOM_CYLINDER:
      r2 = size[0] * size[0] + size[1] * size[1];
      break;
    case mjGEOM_ELLIPSOID: {
      const double r = std::max({std::abs(size[0]), std::abs(size[1]), std::abs(size[2])});
      r2 = r * r;
      break;
    }
    case mjGEOM_CAPSULE: {
      const double r = std::abs(size[0]) + std::abs(size[1]);
      r2 = r * r;
      break;
    }
    default:  // box
      r2 = size[0] * size[0] + size[1] * size[1] + size[2] * size[2];
  }
  return r2 * (1 + 1e-6) + 1e-300;
}

bool InSite(const mjModel* m, const mjData* d, int s, const mjtNum* p) {
  const mjtNum* c = d->site_xpos + 3 * s;
  const mjtNum* r = d->site_xmat + 9 * s;  // row-major, local -> world
  const mjtNum* size = m->site_size + 3 * s;
  mjtNum l[3];
  for (int j = 0; j < 3; ++j) {
    l[j] = r[j] * (p[0] - c[0]) + r[3 + j] * (p[1] - c[1]) + r[6 + j] * (p[2] - c[2]);
  }
  switch (m->site_type[s]) {
    case mjGEOM_SPHERE:
      return l[0] * l[0] + l[1] * l[1] + l[2] * l[2] <= size[0] * size[0];
    case mjGEOM_CYLINDER:
      return l[0] * l[0] + l[1] * l[1] <= size[0] * size[0] && std::abs(l[2]) <= size[1];
    case mjGEOM_ELLIPSOID: {
      mjtNum sum = 0;
      for (int j = 0; j < 3; ++j) sum += (l[j] / size[j]) * (l[j] / size[j]);
      return sum <= 1;
    }
    case mjGEOM_CAPSULE: {
      const mjtNum z = std::clamp<mjtNum>(l[2], -size[1], size[1]);
      return l[0] * l[0] + l[1] * l[1] + (l[2] - z) * (l[2] - z) <= size[0] * size[0];
    }
    default:  // box
      return std::abs(l[0]) <= size[0] && std::abs(l[1]) <= size[1] && std::abs(l[2]) <= size[2];
  }
}

}  // namespace workerpair::heavy::sim
