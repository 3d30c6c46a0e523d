// result.json: the artifact every simulation ends with, for people and for the controller's
// flow.json. One function, used by the job pipeline.
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_JOB_RESULT_JSON_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_JOB_RESULT_JSON_H_

#include <string>

#include "services/heavy/core/scene/manifest.h"
#include "services/heavy/core/sim/simulate.h"

namespace workerpair::heavy {

// Outcome, metrics, per-part stress (the world excluded; infinities as null), events, warnings
// and the manifest's adjustments, pretty-printed.
std::string ResultJson(const SimResult& result, const Manifest& manifest);

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_JOB_RESULT_JSON_H_
