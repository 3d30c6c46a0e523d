// Goal and forbidden zones: the `zone_goal*` / `zone_forbid*` sites of a scene, and whether a
// point lies inside one.
//
//   std::vector<Zone> zones = FindZones(model);
//   const Zone& zone = zones[0];
//   bool inside = !OutsideBound(data, zone, point) && InSite(model, data, zone.site, point);
//
// Zones are sites: box (size = half-extents in the site frame), sphere (radius), cylinder,
// ellipsoid, capsule; any other type is tested as a box. OutsideBound is the cheap first test
// the step loop makes each step: a point farther from the site's centre than the radius of a
// sphere holding the whole shape (with a margin far above rounding) is outside whatever the
// site's orientation, so InSite, which rotates the point into the site frame, runs only near
// the zone. The pair answers exactly what InSite alone answers (simulate_test checks points
// around every shape).
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_SIM_ZONES_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_SIM_ZONES_H_

#include <mujoco/mujoco.h>

#include <string>
#include <vector>

namespace workerpair::heavy::sim {

struct Zone {
  int site = 0;
  std::string name;
  bool goal = false;            // else forbidden
  double bound_squared = 0;     // see ZoneBoundSquared
};

// The zone sites of `m`, in site order.
std::vector<Zone> FindZones(const mjModel* m);

// The squared radius of a sphere around site `s`'s centre that holds its whole shape, times
// (1 + 1e-6): every point InSite accepts lies strictly within it.
double ZoneBoundSquared(const mjModel* m, int s);

// True when world point `p` lies inside site `s` (its shape, size and current frame).
bool InSite(const mjModel* m, const mjData* d, int s, const mjtNum* p);

// True when world point `p` is certainly outside `zone` (beyond its bounding sphere). False says
// nothing; InSite decides. A NaN point or size compares false and goes to InSite.
inline bool OutsideBound(const mjData* d, const Zone& zone, const mjtNum* p) {
  const mjtNum* c = d->site_xpos + 3 * zone.site;
  const double dx = p[0] - c[0], dy = p[1] - c[1], dz = p[2] - c[2];
  return dx * dx + dy * dy + dz * dz > zone.bound_squared;
}

}  // namespace workerpair::heavy::sim

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_SIM_ZONES_H_
