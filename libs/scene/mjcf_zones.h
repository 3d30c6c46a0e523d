// The rule for zone sites in MJCF, written once for worker-light's linter and worker-heavy:
// a site named zone_goal* or zone_forbid* (scene_names.h) is a box with three positive
// half-extents or a sphere with a positive radius, its size written on the site itself.
//
//   for (const ZoneProblem& p : ZoneSiteProblems(site)) ... p.code, p.message ...
//
// The size must be explicit because the zone's extent is what the simulation judges a run by;
// MuJoCo's 5 mm default site size is never the intended zone.
#ifndef WORKERPAIR_LIBS_SCENE_MJCF_ZONES_H_
#define WORKERPAIR_LIBS_SCENE_MJCF_ZONES_H_

#include <optional>
#include <string>
#include <vector>

#include "libs/scene/mjcf_xml.h"

namespace workerpair::scene {

struct ZoneProblem {
  // "mjcf/zone-bad-type", "mjcf/zone-without-size" or "mjcf/zone-bad-size".
  std::string code;
  std::string message;
};

// The problems of the <site> element `site` as a zone (its type, then its size, each at most
// once); none for a good zone or no zone at all. Values quoted are cut (TextPreview).
std::vector<ZoneProblem> ZoneSiteProblems(const XmlElement& site);

}  // namespace workerpair::scene

#endif  // WORKERPAIR_LIBS_SCENE_MJCF_ZONES_H_
