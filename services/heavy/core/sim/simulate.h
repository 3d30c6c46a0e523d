// Running a compiled scene to an outcome: success, or why it failed, with metrics and events.
//
//   WP_ASSIGN_OR_RETURN(LoadedScene scene, LoadScene(scratch, manifest, limits));
//   WP_ASSIGN_OR_RETURN(MjDataPtr data, MakeData(scene.model.get()));
//   ApplyJitter(scene.model.get(), data.get(), RunSeed(manifest.simulation.seed, run), jitter_m);
//   SimOptions options = SimOptionsFromManifest(manifest, limits);
//   std::atomic<bool> cancel{false};
//   WP_ASSIGN_OR_RETURN(SimResult result,
//                       Simulate(scene.model.get(), data.get(), options, &observer, &cancel));
//   // result.outcome == SimOutcome::kSuccess, OutcomeName(result.outcome) == "SUCCESS"
//
// Outcomes, checked after every mj_step in this order:
//   CANCELLED            *cancel became true
//   PHYSICS_INSTABILITY  NaN/inf in qpos/qvel/qacc, |qvel| or a body's linear speed > 1e4, a
//                        MuJoCo warning counter rising (bad qpos/qvel/qacc/ctrl, contact or
//                        constraint buffer full; MuJoCo resets the state on bad numbers), or a
//                        MuJoCo error raised while stepping
//   MOTOR_OVERLOAD       a force-limited actuator at >= 99% of its forcerange (same sign) for
//                        2 s of simulated time without a break
//   OUT_OF_BOUNDS        the target body's centre of mass below bounds.min_z or beyond
//                        bounds.max_abs_xy in x or y
//   FORBID_ZONE_HIT      the target's centre of mass inside a `zone_forbid*` site
//   SUCCESS              the target's centre of mass inside a `zone_goal*` site
//   TIMEOUT              duration elapsed without any of the above
// Zones are sites: box (size = half-extents in the site frame), sphere (radius), cylinder,
// ellipsoid, capsule. With no target (no free body and none named) only the first three
// can end a run early.
//
// Stress is a rigid-body CONTACT-FORCE ESTIMATE, not a material stress. Two figures, never to
// be mixed up:
//   per part (BodyContactStress::peak_force_n, "peak total"): the contact forces
//     (mj_contactForce, normal + friction magnitude) on all of the part's contacts summed at
//     one step, the largest such sum over the run; mean over the steps with contact, where the
//     peak happened, and safety factor = stress.yield_newtons / peak total.
//   per contact (SimMetrics::max_single_contact_force_n, BodyContactStress::
//     peak_single_contact_n): the largest force of ONE contact point. A box resting on four
//     corners has a peak total about four times its largest single contact.
// The world body's geoms (floor, a ramp, walls) are static parts of their own: `geom_loads`
// has the same figures per geom, so each can be coloured and named.
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_SIM_SIMULATE_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_SIM_SIMULATE_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <mujoco/mujoco.h>

#include "absl/status/statusor.h"
#include "libs/scene/scene_limits.h"
#include "services/heavy/core/scene/manifest.h"

namespace workerpair::heavy::sim {

enum class SimOutcome {
  kSuccess,
  kTimeout,
  kOutOfBounds,
  kForbidZoneHit,
  kPhysicsInstability,
  kMotorOverload,
  kCancelled,
};

// "SUCCESS", "TIMEOUT", "OUT_OF_BOUNDS", "FORBID_ZONE_HIT", "PHYSICS_INSTABILITY",
// "MOTOR_OVERLOAD", "CANCELLED".
std::string_view OutcomeName(SimOutcome outcome);

// What Simulate needs from the manifest (SimOptionsFromManifest) plus tuning knobs.
struct SimOptions {
  double duration_s = 5.0;                 // simulated seconds
  std::uint64_t seed = 0;                  // recorded in the result (jitter uses it)
  std::string target_body;                 // empty: first body with a free joint
  scene::SimulationBounds bounds;
  double yield_newtons = 1000.0;
  double overload_fraction = 0.99;         // of the actuator's forcerange
  double overload_duration_s = 2.0;        // continuous simulated time at the limit
  double max_speed = 1e4;                  // m/s (linear) and |qvel| entries
  double progress_interval_s = 0.1;        // simulated seconds between OnProgress calls
  int grid_resolution = 128;               // contact grid cells along the longer axis
  int max_events = 200;                    // further events are counted, not listed
  double mark_interval_s = 0.02;           // simulated seconds between contact-mark samples
  int max_marks = 1500;                    // contact marks kept (the per-geom peaks included)
  // energy_max_j over every step: a mass-matrix product a step, which no call of the service
  // reports; off, energy_max_j is the larger of the initial and final energy.
  bool track_max_energy = false;
};

// Options for a manifest: duration (already clamped), seed, target, bounds, yield.
SimOptions SimOptionsFromManifest(const scene::Manifest& manifest);

// A timed event, e.g. {2.31, "zone_enter", "ball entered zone_goal_bin at 2.31 s"}.
// Kinds: "contact" (first contact of a geom pair: "first contact ball/ramp at 0.02 s"),
// "zone_enter" / "zone_exit" (the target and a zone site), "warning" (a MuJoCo warning),
// "outcome" (always the last, listed even past SimOptions::max_events).
struct SimEvent {
  double time_s = 0;
  std::string kind;
  std::string text;
};

// Per-body contact-force estimate (see the file comment).
struct BodyContactStress {
  int body_id = 0;
  std::string body;                        // MJCF name; "world" for body 0, "body<N>" unnamed
  double peak_force_n = 0;                 // largest per-step summed contact force
  double mean_force_n = 0;                 // mean over the steps with contact
  std::int64_t contact_steps = 0;
  double peak_time_s = 0;
  std::array<double, 3> peak_pos = {0, 0, 0};  // force-weighted contact point at the peak, world
  double safety_factor = std::numeric_limits<double>::infinity();  // yield / peak
  double peak_single_contact_n = 0;        // largest force of one of its contacts
};

// The same figures for one geom (so the world's static geoms can be told apart).
struct GeomContactLoad {
  int geom_id = 0;
  int body_id = 0;
  std::string label;                       // its name, else "geom<N>" (world) or its body's
  double peak_force_n = 0;                 // largest per-step sum over this geom's contacts
  double mean_force_n = 0;                 // mean of that sum over the steps with contact
  double peak_single_contact_n = 0;
  double peak_time_s = 0;
  std::array<double, 3> peak_pos = {0, 0, 0};
  double safety_factor = std::numeric_limits<double>::infinity();
};

// Where a contact happened and how hard it pressed (for painting on a 3D view).
struct ContactMark {
  std::array<float, 3> pos = {0, 0, 0};
  float force_n = 0;
};

// Top-down map of where contact force accumulated: contact impulse (N*s, force * timestep) of
// each contact added to the x/y cell under the contact point. Row-major, `width` cells along x
// from x_min, `height` rows along y from y_min (row 0 at y_min). Contacts outside are dropped.
struct ContactGrid {
  int width = 0;
  int height = 0;
  double x_min = 0, x_max = 0, y_min = 0, y_max = 0;
  std::vector<float> values;               // width * height
  float At(int ix, int iy) const { return values[static_cast<std::size_t>(iy) * width + ix]; }
};

struct SimMetrics {
  double sim_time_s = 0;
  std::int64_t steps = 0;
  double wall_time_s = 0;
  double timestep_s = 0;
  double energy_initial_j = 0;             // potential + kinetic
  double energy_final_j = 0;
  double energy_max_j = 0;                 // see SimOptions::track_max_energy
  double max_linear_speed = 0;             // m/s, over all bodies and steps
  std::string max_speed_body;
  double max_single_contact_force_n = 0;   // largest force of ONE contact point (not a sum)
  std::int64_t events_dropped = 0;
};

struct SimResult {
  SimOutcome outcome = SimOutcome::kTimeout;
  std::string detail;                      // e.g. "ball entered zone_goal_bin"
  std::string zone;                        // the zone that ended the run, if one did
  std::string target_body;                 // resolved target ("" when none)
  std::uint64_t seed = 0;
  SimMetrics metrics;
  std::vector<BodyContactStress> stress;   // bodies that touched anything, by body id
  std::vector<GeomContactLoad> geom_loads; // geoms that bore load, by geom id
  // Contact points sampled every mark_interval_s, plus each geom's hardest contact.
  std::vector<ContactMark> contact_marks;
  static constexpr char kStressLabel[] = "contact-force estimate (rigid-body model), not stress";
  ContactGrid contact_grid;
  std::vector<SimEvent> events;
  std::vector<std::string> warnings;       // MuJoCo's warnings during the run
};

// Periodic progress, for streaming to a caller.
struct SimProgress {
  double sim_time_s = 0;
  double duration_s = 0;
  std::int64_t steps = 0;
};

// Watches a run. Called on the simulating thread; keep OnStep cheap (the renderer copies what
// it needs, e.g. with mjv_updateScene, only on the steps it grabs a frame).
class SimObserver {
 public:
  virtual ~SimObserver() = default;
  // Once before the first step (sim_time = initial time) and after every mj_step.
  virtual void OnStep(const mjModel* /*model*/, const mjData* /*data*/, double /*sim_time*/) {}
  // Every SimOptions::progress_interval_s of simulated time, and once at the end.
  virtual void OnProgress(const SimProgress& /*progress*/) {}
  // Each event as it is recorded (the outcome event included).
  virtual void OnEvent(const SimEvent& /*event*/) {}
};

// Simulate()
//
// Steps `data` (in its initial state, possibly jittered) with mj_step until an outcome. The
// model's timestep is used (LoadScene applied the manifest's). `observer` and `cancel` may be
// null. Outcomes are results, not errors.
// Returns INVALID_ARGUMENT when options.target_body names no body, or duration_s <= 0.
absl::StatusOr<SimResult> Simulate(const mjModel* model, mjData* data, const SimOptions& options,
                                   SimObserver* observer, const std::atomic<bool>* cancel);

// ApplyJitter()
//
// Moves every free joint's position by an independent uniform offset in [-jitter_m, jitter_m]
// per axis, drawn from `seed` (the same seed gives the same offsets on every platform), then
// runs mj_forward. jitter_m <= 0 leaves the state alone.
void ApplyJitter(const mjModel* model, mjData* data, std::uint64_t seed, double jitter_m);

// The seed of run `run_index` of a verify batch whose seed is `base_seed`: base_seed + index, as
// the Heavy API documents, so a batch split across replicas (each part starting at its own base)
// runs exactly the seeds one replica would. ApplyJitter mixes the seed through splitmix64, so
// neighbouring seeds still give unrelated jitter.
std::uint64_t RunSeed(std::uint64_t base_seed, int run_index);

}  // namespace workerpair::heavy::sim

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_SIM_SIMULATE_H_
