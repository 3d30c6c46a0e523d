#include "services/heavy/core/sim/contact_grid.h"

#include <algorithm>
#include <cmath>

namespace workerpair::heavy::sim {

ContactGrid MakeGrid(const mjModel* m, const mjData* d, const std::vector<Zone>& zones,
                     int resolution) {
  double lo[2] = {1e300, 1e300}, hi[2] = {-1e300, -1e300};
  auto include = [&](const mjtNum* center, double radius) {
    for (int j = 0; j < 2; ++j) {
      lo[j] = std::min(lo[j], center[j] - radius);
      hi[j] = std::max(hi[j], center[j] + radius);
    }
  };
  for (int g = 0; g < m->ngeom; ++g) {
    if (m->geom_type[g] == mjGEOM_PLANE || m->geom_type[g] == mjGEOM_HFIELD) continue;
    include(d->geom_xpos + 3 * g, m->geom_rbound[g]);
  }
  for (const Zone& zone : zones) {
    const mjtNum* size = m->site_size + 3 * zone.site;
    include(d->site_xpos + 3 * zone.site, std::max({size[0], size[1], size[2]}));
  }
  if (lo[0] > hi[0]) {  // nothing but planes: a 2 m square around the origin
    lo[0] = lo[1] = -1;
    hi[0] = hi[1] = 1;
  }
  ContactGrid grid;
  // Room for things that move a little beyond where they started.
  for (int j = 0; j < 2; ++j) {
    const double pad = std::max(0.1, 0.15 * (hi[j] - lo[j]));
    lo[j] -= pad;
    hi[j] += pad;
  }
  const double cell = std::max(hi[0] - lo[0], hi[1] - lo[1]) / std::max(1, resolution);
  grid.width = std::max(1, static_cast<int>(std::ceil((hi[0] - lo[0]) / cell - 1e-9)));
  grid.height = std::max(1, static_cast<int>(std::ceil((hi[1] - lo[1]) / cell - 1e-9)));
  grid.x_min = lo[0];
  grid.y_min = lo[1];
  grid.x_max = lo[0] + grid.width * cell;
  grid.y_max = lo[1] + grid.height * cell;
  grid.values.assign(static_cast<std::size_t>(grid.width) * grid.height, 0.0f);
  return grid;
}

}  // namespace workerpair::heavy::sim
