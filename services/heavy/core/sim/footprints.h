// Top-down outlines of a scene's parts and zones, for drawing on the contact map.
//
//   std::vector<Footprint> outlines = TopDownFootprints(model, data);  // after Simulate
//   // outlines[i].outline: convex polygon in world x-y (metres), counter-clockwise
//
// Every geom but planes and height fields (the floor is the map's background) gives one
// footprint: the convex hull of its shape projected onto z = 0 in the state `d` (a box's
// corners, a mesh's vertices, points around spheres, capsules, cylinders and ellipsoids). A
// geom of a moving body is labelled with its body's name, a geom of the world body (a static
// part: ramp, wall) with its own name. Zone sites (`zone_goal*`, `zone_forbid*`) give theirs.
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_SIM_FOOTPRINTS_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_SIM_FOOTPRINTS_H_

#include <mujoco/mujoco.h>

#include <array>
#include <string>
#include <vector>

namespace workerpair::heavy::sim {

enum class FootprintKind { kMovingPart, kStaticPart, kGoalZone, kForbidZone };

struct Footprint {
  std::string label;
  FootprintKind kind = FootprintKind::kMovingPart;
  std::vector<std::array<double, 2>> outline;  // convex, counter-clockwise, >= 3 points
};

// At most `max_footprints` (the first geoms, then zones; a scene of thousands of geoms would
// only clutter the map). A mesh contributes at most 4096 of its vertices (evenly strided).
std::vector<Footprint> TopDownFootprints(const mjModel* m, const mjData* d,
                                         int max_footprints = 256);

// Convex hull of 2D points (Andrew's monotone chain), counter-clockwise, no repeated point.
std::vector<std::array<double, 2>> ConvexHull(std::vector<std::array<double, 2>> points);

}  // namespace workerpair::heavy::sim

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_SIM_FOOTPRINTS_H_
