// The top-down contact grid of a run, sized before the first step.
//
//   ContactGrid grid = MakeGrid(model, data, FindZones(model), /*resolution=*/128);
//   // grid.values: width * height zeros; x_min..x_max, y_min..y_max in world metres
//
// The grid covers every geom but planes and height fields (their bounding spheres) and every
// zone, padded by 15% (at least 0.1 m) for things that move a little beyond where they start, in
// square cells, `resolution` of them along the longer side. With nothing but planes: a 2 m square
// around the origin.
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_SIM_CONTACT_GRID_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_SIM_CONTACT_GRID_H_

#include <mujoco/mujoco.h>

#include <vector>

#include "services/heavy/core/sim/simulate.h"
#include "services/heavy/core/sim/zones.h"

namespace workerpair::heavy::sim {

ContactGrid MakeGrid(const mjModel* m, const mjData* d, const std::vector<Zone>& zones,
                     int resolution);

}  // namespace workerpair::heavy::sim

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_SIM_CONTACT_GRID_H_
