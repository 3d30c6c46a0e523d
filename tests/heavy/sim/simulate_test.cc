#include "services/heavy/core/sim/simulate.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <numeric>
#include <string>

#include "services/heavy/core/scene/manifest.h"
#include "services/heavy/core/sim/footprints.h"
#include "services/heavy/core/scene/scene_loader.h"
#include "tests/heavy/scene/scratch_dir.h"

namespace workerpair::heavy::sim {
namespace {

using workerpair::testing::ScratchDir;

// An example scene, loaded from a scratch copy, ready to simulate.
struct Example {
  std::unique_ptr<ScratchDir> scratch;
  scene::Manifest manifest;
  scene::LoadedScene scene;
  scene::MjDataPtr data;

  const mjModel* model() const { return scene.model.get(); }
};

Example LoadExample(const std::string& name) {
  Example example;
  example.scratch = ScratchDir::WithExample(name);
  absl::StatusOr<scene::Manifest> manifest =
      scene::ParseManifest(example.scratch->Read("manifest.json"), SceneLimits{});
  REQUIRE(manifest.ok());
  example.manifest = *manifest;
  absl::StatusOr<scene::LoadedScene> scene =
      scene::LoadScene(example.scratch->path(), example.manifest, {});
  REQUIRE(scene.ok());
  example.scene = std::move(*scene);
  absl::StatusOr<scene::MjDataPtr> data = scene::MakeData(example.model());
  REQUIRE(data.ok());
  example.data = std::move(*data);
  return example;
}

SimResult Run(Example& example, SimObserver* observer = nullptr,
              const std::atomic<bool>* cancel = nullptr) {
  absl::StatusOr<SimResult> result =
      Simulate(example.model(), example.data.get(), SimOptionsFromManifest(example.manifest),
               observer, cancel);
  REQUIRE(result.ok());
  return *result;
}

bool HasEvent(const SimResult& result, std::string_view kind, std::string_view text) {
  return std::any_of(result.events.begin(), result.events.end(), [&](const SimEvent& e) {
    return e.kind == kind && e.text.find(text) != std::string::npos;
  });
}

// Like MuJoCo's own tests: a run that should be clean raised no MuJoCo warning.
void CheckNoMujocoWarnings(const SimResult& result) {
  CHECK(result.warnings.empty());
  CHECK_FALSE(HasEvent(result, "warning", ""));
}

const BodyContactStress* StressOf(const SimResult& result, std::string_view body) {
  for (const BodyContactStress& s : result.stress) {
    if (s.body == body) return &s;
  }
  return nullptr;
}

TEST_CASE("ramp_goal: the ball rolls down the STL ramp into the goal zone (SUCCESS)") {
  Example example = LoadExample("ramp_goal");
  const SimResult result = Run(example);
  CHECK(OutcomeName(result.outcome) == "SUCCESS");
  CHECK(result.zone == "zone_goal_bin");
  CHECK(result.target_body == "ball");
  CHECK(result.seed == 1);
  CHECK(result.metrics.sim_time_s > 0.5);
  CHECK(result.metrics.sim_time_s < 4.0);
  CHECK(result.metrics.steps == std::llround(result.metrics.sim_time_s / 0.002));
  CHECK(result.metrics.max_linear_speed > 1.0);
  CHECK(result.metrics.max_speed_body == "ball");
  CHECK(result.metrics.max_single_contact_force_n > 0);
  // The ball starts above the floor, so with potential energy; friction and impacts lose some
  // of it on the way, so the total ends below where it started.
  CHECK(result.metrics.energy_initial_j > 0.1);
  CHECK(result.metrics.energy_final_j < result.metrics.energy_initial_j);
  CHECK(HasEvent(result, "contact", "first contact ball/ramp"));
  CHECK(HasEvent(result, "contact", "first contact ball/floor"));
  CHECK(HasEvent(result, "zone_enter", "ball entered zone_goal_bin at"));
  REQUIRE_FALSE(result.events.empty());
  CHECK(result.events.back().kind == "outcome");
  CHECK_THAT(result.events.back().text, Catch::StartsWith("SUCCESS: 'ball' entered zone_goal_bin"));
  CheckNoMujocoWarnings(result);

  // The contact-force estimate: per body peak, mean and safety factor against 200 N.
  const BodyContactStress* ball = StressOf(result, "ball");
  REQUIRE(ball != nullptr);
  CHECK(ball->peak_force_n > 0);
  CHECK(ball->mean_force_n > 0);
  CHECK(ball->mean_force_n <= ball->peak_force_n);
  CHECK(ball->contact_steps > 10);
  CHECK(ball->safety_factor == Approx(200.0 / ball->peak_force_n));
  CHECK(ball->peak_pos[2] < 0.6);  // a contact point: on the ramp or the floor
  CHECK(std::string(SimResult::kStressLabel).find("estimate") != std::string::npos);

  // The top-down grid holds the impulse the contacts delivered, within the scene's extents.
  const ContactGrid& grid = result.contact_grid;
  CHECK(grid.width > 0);
  CHECK(grid.height > 0);
  CHECK(grid.values.size() == static_cast<std::size_t>(grid.width * grid.height));
  CHECK(grid.x_min < 0.0);
  CHECK(grid.x_max > 2.2);
  const float total = std::accumulate(grid.values.begin(), grid.values.end(), 0.0f);
  CHECK(total > 0);
  const float peak = *std::max_element(grid.values.begin(), grid.values.end());
  CHECK(peak < total);  // spread over several cells, not one
}

TEST_CASE("ramp_goal: static world geoms get their own loads, per-part and per-contact figures differ as defined") {
  Example example = LoadExample("ramp_goal");
  const SimResult result = Run(example);
  auto geom = [&](std::string_view label) -> const GeomContactLoad* {
    for (const GeomContactLoad& load : result.geom_loads) {
      if (load.label == label) return &load;
    }
    return nullptr;
  };
  const GeomContactLoad* ramp = geom("ramp");
  const GeomContactLoad* floor = geom("floor");
  REQUIRE(ramp != nullptr);
  REQUIRE(floor != nullptr);
  CHECK(ramp->body_id == 0);
  CHECK(floor->body_id == 0);
  CHECK(ramp->peak_force_n > 0);
  CHECK(floor->peak_force_n > 0);
  CHECK(ramp->safety_factor == Approx(200.0 / ramp->peak_force_n));
  // The world's sum at a step is the ramp's plus the floor's: at least the larger of the two.
  const auto world = std::find_if(result.stress.begin(), result.stress.end(),
                                  [](const BodyContactStress& s) { return s.body_id == 0; });
  REQUIRE(world != result.stress.end());
  CHECK(world->peak_force_n >= std::max(ramp->peak_force_n, floor->peak_force_n) - 1e-9);
  // One contact is never more than the sum it is part of, nor more than the scene's largest.
  for (const BodyContactStress& part : result.stress) {
    CHECK(part.peak_single_contact_n > 0);
    CHECK(part.peak_single_contact_n <= part.peak_force_n + 1e-9);
    CHECK(part.peak_single_contact_n <= result.metrics.max_single_contact_force_n + 1e-9);
  }
  const double largest_single = std::max_element(result.stress.begin(), result.stress.end(),
                                                 [](const auto& a, const auto& b) {
                                                   return a.peak_single_contact_n <
                                                          b.peak_single_contact_n;
                                                 })->peak_single_contact_n;
  CHECK(largest_single == Approx(result.metrics.max_single_contact_force_n));
  // Contact marks: sampled along the way, bounded, on or near the ramp and floor.
  SimOptions options = SimOptionsFromManifest(example.manifest);
  REQUIRE(result.contact_marks.size() > 10);
  CHECK(static_cast<int>(result.contact_marks.size()) <= options.max_marks);
  for (const ContactMark& mark : result.contact_marks) {
    CHECK(mark.force_n > 0);
    CHECK(mark.pos[2] < 0.6f);
  }
}

TEST_CASE("Top-down footprints: moving and static parts and zones, never the floor plane") {
  Example example = LoadExample("ramp_goal");
  const std::vector<Footprint> footprints =
      TopDownFootprints(example.model(), example.data.get());
  auto find = [&](std::string_view label) -> const Footprint* {
    for (const Footprint& f : footprints) {
      if (f.label == label) return &f;
    }
    return nullptr;
  };
  const Footprint* ramp = find("ramp");
  const Footprint* ball = find("ball");
  const Footprint* zone = find("zone_goal_bin");
  REQUIRE(ramp != nullptr);
  REQUIRE(ball != nullptr);
  REQUIRE(zone != nullptr);
  CHECK(find("floor") == nullptr);
  CHECK(ramp->kind == FootprintKind::kStaticPart);
  CHECK(ball->kind == FootprintKind::kMovingPart);
  CHECK(zone->kind == FootprintKind::kGoalZone);
  // The zone is a 0.6 x 0.8 m box around (2.2, 0): its outline spans exactly that.
  double x_lo = 1e9, x_hi = -1e9, y_lo = 1e9, y_hi = -1e9;
  for (const auto& p : zone->outline) {
    x_lo = std::min(x_lo, p[0]);
    x_hi = std::max(x_hi, p[0]);
    y_lo = std::min(y_lo, p[1]);
    y_hi = std::max(y_hi, p[1]);
  }
  CHECK(x_lo == Approx(1.9));
  CHECK(x_hi == Approx(2.5));
  CHECK(y_lo == Approx(-0.4));
  CHECK(y_hi == Approx(0.4));
  CHECK(zone->outline.size() == 4);  // the hull of 8 box corners seen from above
  // The ball (r = 0.1) outline: a circle of that radius.
  for (const auto& p : ball->outline) {
    const double r = std::hypot(p[0] - example.data->geom_xpos[3 * example.model()->body_geomadr[
                                                                        mj_name2id(example.model(), mjOBJ_BODY, "ball")]],
                                p[1] - example.data->geom_xpos[3 * example.model()->body_geomadr[
                                                                        mj_name2id(example.model(), mjOBJ_BODY, "ball")] + 1]);
    CHECK(r == Approx(0.1).margin(1e-9));
  }
}

TEST_CASE("ConvexHull drops inner points and orders the rest counter-clockwise") {
  const std::vector<std::array<double, 2>> hull =
      ConvexHull({{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0.5, 0.5}, {0.2, 0.7}, {1, 0}});
  REQUIRE(hull.size() == 4);
  double area = 0;
  for (std::size_t i = 0; i < hull.size(); ++i) {
    const auto& a = hull[i];
    const auto& b = hull[(i + 1) % hull.size()];
    area += a[0] * b[1] - b[0] * a[1];
  }
  CHECK(area / 2 == Approx(1.0));  // positive: counter-clockwise
}

TEST_CASE("forbid_zone: the ball ends in a forbidden zone (FORBID_ZONE_HIT)") {
  Example example = LoadExample("forbid_zone");
  const SimResult result = Run(example);
  CHECK(OutcomeName(result.outcome) == "FORBID_ZONE_HIT");
  CHECK(result.zone == "zone_forbid_pit");
  CHECK(HasEvent(result, "zone_enter", "entered zone_forbid_pit"));
  CheckNoMujocoWarnings(result);
}

TEST_CASE("fall_off: the ball falls off the world (OUT_OF_BOUNDS)") {
  Example example = LoadExample("fall_off");
  const SimResult result = Run(example);
  CHECK(OutcomeName(result.outcome) == "OUT_OF_BOUNDS");
  CHECK_THAT(result.detail, Catch::Contains("fell below z = -2"));
  CHECK(result.target_body == "ball");  // the first free body, as none is named
  CHECK(example.data->xipos[3 * 1 + 2] < -2);
  CheckNoMujocoWarnings(result);
}

TEST_CASE("explode: a stiff spring diverges (PHYSICS_INSTABILITY)") {
  Example example = LoadExample("explode");
  const SimResult result = Run(example);
  CHECK(OutcomeName(result.outcome) == "PHYSICS_INSTABILITY");
  CHECK(result.metrics.steps < 50);
  CHECK_FALSE(result.detail.empty());
}

TEST_CASE("motor_overload: an actuator held at its force limit for 2 s (MOTOR_OVERLOAD)") {
  Example example = LoadExample("motor_overload");
  const SimResult result = Run(example);
  CHECK(OutcomeName(result.outcome) == "MOTOR_OVERLOAD");
  CHECK_THAT(result.detail, Catch::Contains("actuator 'ram'"));
  CHECK(result.metrics.sim_time_s == Approx(2.0).margin(0.01));
  // It pushed against the wall the whole time.
  CHECK(HasEvent(result, "contact", "first contact pusher/wall"));
  CheckNoMujocoWarnings(result);
}

TEST_CASE("assembly_goal: the generated assembly scene reaches its goal (SUCCESS)") {
  Example example = LoadExample("assembly_goal");
  const SimResult result = Run(example);
  CHECK(OutcomeName(result.outcome) == "SUCCESS");
  CHECK(result.zone == "zone_goal_bin");
  CHECK(StressOf(result, "ramp") != nullptr);  // a fixed part gets its own estimate
  CheckNoMujocoWarnings(result);
}

TEST_CASE("Every example scene gives the same outcome, steps and events on every run") {
  for (const char* name : {"ramp_goal", "forbid_zone", "fall_off", "explode", "motor_overload",
                           "assembly_goal"}) {
    INFO(name);
    Example a = LoadExample(name);
    Example b = LoadExample(name);
    const SimResult ra = Run(a), rb = Run(b);
    CHECK(ra.outcome == rb.outcome);
    CHECK(ra.metrics.steps == rb.metrics.steps);
    CHECK(ra.events.size() == rb.events.size());
    CHECK(ra.metrics.max_single_contact_force_n == rb.metrics.max_single_contact_force_n);
    CHECK(ra.metrics.sim_time_s < 5.0);
  }
}

TEST_CASE("A run shorter than the way to the goal is TIMEOUT") {
  Example example = LoadExample("ramp_goal");
  SimOptions options = SimOptionsFromManifest(example.manifest);
  options.duration_s = 0.5;
  absl::StatusOr<SimResult> result =
      Simulate(example.model(), example.data.get(), options, nullptr, nullptr);
  REQUIRE(result.ok());
  CHECK(OutcomeName(result->outcome) == "TIMEOUT");
  CHECK(result->metrics.steps == 250);
  CHECK(result->metrics.sim_time_s == Approx(0.5));
}

TEST_CASE("Leaving max_abs_xy is OUT_OF_BOUNDS") {
  Example example = LoadExample("ramp_goal");
  SimOptions options = SimOptionsFromManifest(example.manifest);
  options.bounds.max_abs_xy = 1.2;  // the goal lies at x = 1.9 .. 2.5
  absl::StatusOr<SimResult> result =
      Simulate(example.model(), example.data.get(), options, nullptr, nullptr);
  REQUIRE(result.ok());
  CHECK(OutcomeName(result->outcome) == "OUT_OF_BOUNDS");
  CHECK_THAT(result->detail, Catch::Contains("|x|,|y| <= 1.2"));
}

// Counts calls and raises the cancel flag after `cancel_after` steps.
class CountingObserver : public SimObserver {
 public:
  explicit CountingObserver(std::atomic<bool>* cancel = nullptr, int cancel_after = -1)
      : cancel_(cancel), cancel_after_(cancel_after) {}
  void OnStep(const mjModel*, const mjData* d, double sim_time) override {
    CHECK(sim_time == d->time);
    if (++steps == cancel_after_ && cancel_) cancel_->store(true);
  }
  void OnProgress(const SimProgress& progress) override {
    CHECK(progress.sim_time_s >= last_progress);
    last_progress = progress.sim_time_s;
    ++progress_calls;
  }
  void OnEvent(const SimEvent& event) override { last_event = event.kind; }

  int steps = 0;
  int progress_calls = 0;
  double last_progress = 0;
  std::string last_event;

 private:
  std::atomic<bool>* cancel_;
  int cancel_after_;
};

TEST_CASE("The observer sees every step, periodic progress and every event") {
  Example example = LoadExample("ramp_goal");
  CountingObserver observer;
  const SimResult result = Run(example, &observer);
  CHECK(observer.steps == result.metrics.steps + 1);  // the initial state, then each step
  // Every 0.1 s of simulated time plus the final report.
  CHECK(observer.progress_calls ==
        static_cast<int>(std::floor(result.metrics.sim_time_s / 0.1 + 1e-6)) + 1);
  CHECK(observer.last_event == "outcome");
}

TEST_CASE("The cancel flag stops the run with CANCELLED") {
  Example example = LoadExample("ramp_goal");
  std::atomic<bool> cancel{false};
  CountingObserver observer(&cancel, 100);
  const SimResult result = Run(example, &observer, &cancel);
  CHECK(OutcomeName(result.outcome) == "CANCELLED");
  CHECK(result.metrics.steps == 99);  // the initial OnStep counts as the first call
  CHECK(result.events.back().kind == "outcome");

  // Already cancelled: no step at all.
  Example fresh = LoadExample("ramp_goal");
  std::atomic<bool> cancelled{true};
  CHECK(Run(fresh, nullptr, &cancelled).metrics.steps == 0);
}

TEST_CASE("A target_body that names no body is INVALID_ARGUMENT") {
  Example example = LoadExample("ramp_goal");
  SimOptions options = SimOptionsFromManifest(example.manifest);
  options.target_body = "nobody";
  absl::Status s =
      Simulate(example.model(), example.data.get(), options, nullptr, nullptr).status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(s.message()), Catch::Contains("'nobody'"));
  options.target_body.clear();
  options.duration_s = 0;
  CHECK(Simulate(example.model(), example.data.get(), options, nullptr, nullptr).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Jitter is deterministic per seed and bounded by jitter_m") {
  Example a = LoadExample("ramp_goal");
  Example b = LoadExample("ramp_goal");
  Example c = LoadExample("ramp_goal");
  const std::vector<mjtNum> initial(a.data->qpos, a.data->qpos + a.model()->nq);
  ApplyJitter(a.model(), a.data.get(), 42, 0.01);
  ApplyJitter(b.model(), b.data.get(), 42, 0.01);
  ApplyJitter(c.model(), c.data.get(), 43, 0.01);
  bool moved = false, differs = false;
  for (int i = 0; i < a.model()->nq; ++i) {
    CHECK(a.data->qpos[i] == b.data->qpos[i]);
    CHECK(std::abs(a.data->qpos[i] - initial[i]) <= 0.01);
    if (i < 3) moved = moved || a.data->qpos[i] != initial[i];
    if (i >= 3) CHECK(a.data->qpos[i] == initial[i]);  // orientation untouched
    differs = differs || a.data->qpos[i] != c.data->qpos[i];
  }
  CHECK(moved);
  CHECK(differs);
  // mj_forward ran: body positions follow the jittered qpos.
  CHECK(a.data->xpos[3 * 1] == a.data->qpos[0]);
  // Zero jitter leaves the state alone.
  Example d = LoadExample("ramp_goal");
  ApplyJitter(d.model(), d.data.get(), 42, 0.0);
  CHECK(std::equal(initial.begin(), initial.end(), d.data->qpos));
}

TEST_CASE("Jittered runs of ramp_goal still succeed, and each seed repeats itself") {
  for (int run = 0; run < 3; ++run) {
    const std::uint64_t seed = RunSeed(1, run);
    Example a = LoadExample("ramp_goal");
    Example b = LoadExample("ramp_goal");
    ApplyJitter(a.model(), a.data.get(), seed, a.manifest.verify.jitter_m);
    ApplyJitter(b.model(), b.data.get(), seed, b.manifest.verify.jitter_m);
    const SimResult ra = Run(a), rb = Run(b);
    CHECK(OutcomeName(ra.outcome) == "SUCCESS");
    CHECK(ra.metrics.steps == rb.metrics.steps);
  }
  CHECK(RunSeed(1, 0) != RunSeed(1, 1));
  CHECK(RunSeed(1, 0) != RunSeed(2, 0));
  CHECK(RunSeed(5, 3) == RunSeed(5, 3));
  CHECK(RunSeed(100, 3) == 103);  // the Heavy API: run i uses base_seed + i
}

}  // namespace
}  // namespace workerpair::heavy::sim

namespace workerpair::heavy::sim {
namespace {

TEST_CASE("A body faster than max_speed is PHYSICS_INSTABILITY naming the body") {
  Example example = LoadExample("ramp_goal");
  SimOptions options = SimOptionsFromManifest(example.manifest);
  options.max_speed = 1.0;  // the ball passes 1 m/s on the ramp
  absl::StatusOr<SimResult> result =
      Simulate(example.model(), example.data.get(), options, nullptr, nullptr);
  REQUIRE(result.ok());
  CHECK(OutcomeName(result->outcome) == "PHYSICS_INSTABILITY");
  CHECK_THAT(result->detail, Catch::Contains("body 'ball' moves at") ||
                                 Catch::Contains("qvel["));
}

}  // namespace
}  // namespace workerpair::heavy::sim
