#include "services/heavy/core/job/result_json.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace workerpair::heavy {
namespace {

// JSON has no infinity: a part that never touched anything has no safety factor.
nlohmann::json FiniteOrNull(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

}  // namespace

std::string ResultJson(const SimResult& result, const Manifest& manifest) {
  nlohmann::json json;
  json["outcome"] = std::string(OutcomeName(result.outcome));
  json["detail"] = result.detail;
  json["zone"] = result.zone;
  json["target_body"] = result.target_body;
  json["seed"] = result.seed;
  json["metrics"] = {
      {"sim_time_s", result.metrics.sim_time_s},
      {"steps", result.metrics.steps},
      {"wall_time_s", result.metrics.wall_time_s},
      {"timestep_s", result.metrics.timestep_s},
      {"energy_initial_j", FiniteOrNull(result.metrics.energy_initial_j)},
      {"energy_final_j", FiniteOrNull(result.metrics.energy_final_j)},
      {"energy_max_j", FiniteOrNull(result.metrics.energy_max_j)},
      {"max_velocity_mps", FiniteOrNull(result.metrics.max_linear_speed)},
      {"max_speed_body", result.metrics.max_speed_body},
      {"max_single_contact_force_n", FiniteOrNull(result.metrics.max_single_contact_force_n)},
  };
  // Two figures that differ by design (a box on four corners: the total is ~4x the single):
  // named and defined here so no reader takes one for the other.
  nlohmann::json stress = nlohmann::json::array();
  for (const BodyContactStress& part : result.stress) {
    if (part.body_id == 0) continue;  // the world's geoms are listed one by one below
    stress.push_back({{"part", part.body},
                      {"fixed", false},
                      {"peak_total_force_n", FiniteOrNull(part.peak_force_n)},
                      {"peak_single_contact_force_n", FiniteOrNull(part.peak_single_contact_n)},
                      {"mean_total_force_n", FiniteOrNull(part.mean_force_n)},
                      {"peak_time_s", part.peak_time_s},
                      {"peak_location", part.peak_pos},
                      {"safety_factor", FiniteOrNull(part.safety_factor)}});
  }
  for (const GeomContactLoad& load : result.geom_loads) {
    if (load.body_id != 0) continue;
    stress.push_back({{"part", load.label},
                      {"fixed", true},
                      {"peak_total_force_n", FiniteOrNull(load.peak_force_n)},
                      {"peak_single_contact_force_n", FiniteOrNull(load.peak_single_contact_n)},
                      {"mean_total_force_n", FiniteOrNull(load.mean_force_n)},
                      {"peak_time_s", load.peak_time_s},
                      {"peak_location", load.peak_pos},
                      {"safety_factor", FiniteOrNull(load.safety_factor)}});
  }
  json["stress"] = {
      {"label", SimResult::kStressLabel},
      {"yield_newtons", manifest.stress.yield_newtons},
      {"definitions",
       {{"peak_total_force_n",
         "per part: the forces of all of the part's contacts summed at one step, the largest "
         "such sum over the run; safety_factor = yield_newtons / peak_total_force_n"},
        {"peak_single_contact_force_n", "per part: the largest force of one of its contacts"},
        {"metrics.max_single_contact_force_n",
         "the largest force of one contact point anywhere in the scene"},
        {"fixed", "true for a geom of the world body (floor, ramp, wall): a static part"}}},
      {"parts", stress}};
  nlohmann::json events = nlohmann::json::array();
  for (const SimEvent& event : result.events) {
    events.push_back({{"time_s", event.time_s}, {"kind", event.kind}, {"text", event.text}});
  }
  json["events"] = events;
  json["warnings"] = result.warnings;
  json["adjustments"] = manifest.adjustments;
  // Non-finite doubles elsewhere (a payload's 1e308 overflowing to inf) print as null.
  return json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace workerpair::heavy
