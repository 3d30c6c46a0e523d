// The shortcuts the step loop takes give the answers of the full per-step work: the contact
// force read straight from efc_force, the zones' bounding-sphere reject, the overload streak
// compared as a count. Each is checked against MuJoCo's own call or the exact test, run by an
// observer on every step of real runs.
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "services/heavy/core/sim/contact_force.h"
#include "services/heavy/core/sim/simulate.h"
#include "services/heavy/core/sim/step_checks.h"
#include "services/heavy/core/sim/zones.h"

namespace workerpair::heavy::sim {
namespace {

struct ModelDeleter {
  void operator()(mjModel* m) const { mj_deleteModel(m); }
};
struct DataDeleter {
  void operator()(mjData* d) const { mj_deleteData(d); }
};
using ModelPtr = std::unique_ptr<mjModel, ModelDeleter>;
using DataPtr = std::unique_ptr<mjData, DataDeleter>;

ModelPtr LoadXml(const std::string& xml) {
  mjVFS vfs;
  mj_defaultVFS(&vfs);
  mj_makeEmptyFileVFS(&vfs, "m.xml", static_cast<int>(xml.size()));
  std::memcpy(vfs.filedata[vfs.nfile - 1], xml.data(), xml.size());
  char error[1000] = "";
  ModelPtr m(mj_loadXML("m.xml", &vfs, error, sizeof(error)));
  mj_deleteVFS(&vfs);
  INFO(error);
  REQUIRE(m != nullptr);
  return m;
}

// Twelve boxes and spheres dropped into a heap: many contacts of the given cone and condim.
std::string Heap(const std::string& cone, int condim) {
  std::string xml = "<mujoco><option timestep=\"0.002\" cone=\"" + cone +
                    "\"/><default><geom condim=\"" + std::to_string(condim) +
                    "\"/></default><worldbody><geom type=\"plane\" size=\"3 3 0.1\"/>";
  for (int i = 0; i < 12; ++i) {
    xml += "<body pos=\"" + std::to_string((i % 3) * 0.15) + " " +
           std::to_string((i / 3) % 2 * 0.15) + " " + std::to_string(0.12 + 0.2 * (i / 6)) +
           "\"><freejoint/><geom type=\"" +
           (i % 2 ? "sphere\" size=\"0.07" : "box\" size=\"0.06 0.06 0.06") + "\"/></body>";
  }
  return xml + "</worldbody></mujoco>";
}

TEST_CASE("sim step loop: ContactForce3 is mj_contactForce, bit for bit, every cone and condim") {
  for (const char* cone : {"pyramidal", "elliptic"}) {
    for (int condim : {1, 3, 4, 6}) {
      INFO(cone << " condim " << condim);
      ModelPtr m = LoadXml(Heap(cone, condim));
      DataPtr d(mj_makeData(m.get()));
      const bool pyramidal = m->opt.cone == mjCONE_PYRAMIDAL;
      int compared = 0, with_force = 0;
      for (int step = 0; step < 300; ++step) {
        mj_step(m.get(), d.get());
        for (int i = 0; i < d->ncon; ++i) {
          mjtNum expected[6];
          mj_contactForce(m.get(), d.get(), i, expected);
          mjtNum got[3];
          ContactForce3(pyramidal, d.get(), d->contact[i], got);
          for (int j = 0; j < 3; ++j) {
            CHECK(std::bit_cast<std::uint64_t>(got[j]) ==
                  std::bit_cast<std::uint64_t>(expected[j]));
          }
          ++compared;
          with_force += expected[0] != 0;
        }
      }
      CHECK(compared > 1000);    // the heap really pressed
      CHECK(with_force > 500);
    }
  }
}

TEST_CASE("sim step loop: StateWithin finds any bad entry of qpos, qvel or qacc, at any length") {
  constexpr double kMaxSpeed = 100;
  const double inf = std::numeric_limits<double>::infinity();
  for (int nq = 0; nq <= 9; ++nq) {
    for (int nv = 0; nv <= 9; ++nv) {
      INFO("nq " << nq << " nv " << nv);
      std::vector<mjtNum> qpos(nq, -3.5), qvel(nv, kMaxSpeed), qacc(nv, -1e300);
      if (nq > 0) qpos[0] = 1e12;  // the caps themselves are within
      CHECK(StateWithin(qpos.data(), nq, qvel.data(), qacc.data(), nv, kMaxSpeed));
      for (int i = 0; i < nq; ++i) {
        for (double bad : {std::nan(""), inf, -inf, -1.0000001e12}) {
          const double kept = qpos[i];
          qpos[i] = bad;
          CHECK_FALSE(StateWithin(qpos.data(), nq, qvel.data(), qacc.data(), nv, kMaxSpeed));
          qpos[i] = kept;
        }
      }
      for (int i = 0; i < nv; ++i) {
        for (double bad : {std::nan(""), inf, -kMaxSpeed * 1.0000001}) {
          const double kept = qvel[i];
          qvel[i] = bad;
          CHECK_FALSE(StateWithin(qpos.data(), nq, qvel.data(), qacc.data(), nv, kMaxSpeed));
          qvel[i] = kept;
        }
        for (double bad : {std::nan(""), inf, -inf}) {
          const double kept = qacc[i];
          qacc[i] = bad;
          CHECK_FALSE(StateWithin(qpos.data(), nq, qvel.data(), qacc.data(), nv, kMaxSpeed));
          qacc[i] = kept;
        }
      }
    }
  }
}

TEST_CASE("sim step loop: OutsideBound never rejects a point InSite accepts, rejects far ones") {
  const char* shapes[] = {"box", "sphere", "cylinder", "ellipsoid", "capsule"};
  std::mt19937 random(7);
  std::uniform_real_distribution<double> unit(-1, 1);
  for (const char* shape : shapes) {
    INFO(shape);
    ModelPtr m = LoadXml(std::string("<mujoco><worldbody><site name=\"zone_goal_z\" type=\"") +
                         shape + "\" pos=\"0.3 -0.2 0.5\" euler=\"30 40 50\" size=\"0.4 0.1 0.25\"/>"
                         "</worldbody></mujoco>");
    DataPtr d(mj_makeData(m.get()));
    mj_forward(m.get(), d.get());
    const std::vector<Zone> zones = FindZones(m.get());
    REQUIRE(zones.size() == 1);
    const mjtNum* c = d->site_xpos;
    int inside = 0, rejected = 0;
    for (int i = 0; i < 200000; ++i) {
      // Points up to 1.5 m from the centre, denser near it (where the shape's boundary is).
      const double scale = i % 2 ? 0.5 : 1.5;
      const mjtNum p[3] = {c[0] + scale * unit(random), c[1] + scale * unit(random),
                           c[2] + scale * unit(random)};
      const bool in = InSite(m.get(), d.get(), zones[0].site, p);
      const bool out = OutsideBound(d.get(), zones[0], p);
      if (in) CHECK_FALSE(out);
      inside += in;
      rejected += out;
    }
    CHECK(inside > 1000);
    CHECK(rejected > 50000);
  }
}

// Records, with the exact test on every step, the first step at which the target's centre of
// mass is inside the zone site.
class ZoneReference : public SimObserver {
 public:
  ZoneReference(int target, int site) : target_(target), site_(site) {}
  void OnStep(const mjModel* m, const mjData* d, double) override {
    if (first_inside < 0 && InSite(m, d, site_, d->xipos + 3 * target_)) first_inside = steps;
    ++steps;
  }
  int first_inside = -1;  // 0: before the first step
  int steps = 0;

 private:
  int target_, site_;
};

TEST_CASE("sim step loop: each zone shape ends the run on the step the exact test says inside") {
  // A puck sliding along +x into a zone of each shape (rotated, on the world or on a body).
  const char* zones[] = {
      R"(<site name="zone_goal_box" type="box" pos="1.5 0 0.1" size="0.2 0.3 0.2" euler="0 0 30"/>)",
      R"(<site name="zone_forbid_s" type="sphere" pos="1.4 0.05 0.1" size="0.25"/>)",
      R"(<site name="zone_goal_c" type="cylinder" pos="1.4 0.1 0.1" size="0.2 0.1" euler="90 0 0"/>)",
      R"(<site name="zone_goal_e" type="ellipsoid" pos="1.4 0 0.1" size="0.3 0.1 0.2" euler="0 0 70"/>)",
      R"(<site name="zone_forbid_cap" type="capsule" pos="1.3 0 0.1" size="0.05 0.3" euler="0 90 0"/>)",
      R"(<body name="carrier" pos="1.6 0 0.4"><freejoint/><geom type="box" size="0.05 0.05 0.05"/>
         <site name="zone_goal_moving" type="sphere" size="0.2"/></body>)",
  };
  for (const char* zone : zones) {
    INFO(zone);
    ModelPtr m = LoadXml(std::string(R"(<mujoco><option timestep="0.002"/><worldbody>
      <geom type="plane" size="10 10 0.1" friction="0.05"/>
      <body name="puck" pos="0 0 0.1"><freejoint/><geom type="box" size="0.1 0.1 0.1" friction="0.05"/></body>)") +
                         zone + "</worldbody></mujoco>");
    DataPtr d(mj_makeData(m.get()));
    d->qvel[0] = 2.0;
    mj_forward(m.get(), d.get());
    const std::vector<Zone> found = FindZones(m.get());
    REQUIRE(found.size() == 1);
    ZoneReference reference(mj_name2id(m.get(), mjOBJ_BODY, "puck"), found[0].site);
    SimOptions options;
    options.duration_s = 3;
    options.target_body = "puck";
    absl::StatusOr<SimResult> result = Simulate(m.get(), d.get(), options, &reference, nullptr);
    REQUIRE(result.ok());
    REQUIRE(reference.first_inside > 0);  // the puck got there, not at once
    CHECK(result->metrics.steps == reference.first_inside);
    CHECK(result->zone == found[0].name);
    CHECK(OutcomeName(result->outcome) == (found[0].goal ? "SUCCESS" : "FORBID_ZONE_HIT"));
  }
}

TEST_CASE("sim step loop: MOTOR_OVERLOAD on the first step whose streak * dt reaches the limit") {
  // A hinge driven by a constant 5 N bias, clamped to its 1 N force range: at the limit from the
  // first step on, so the run ends after the streak that reaches overload_duration_s.
  ModelPtr m = LoadXml(R"(<mujoco><option timestep="0.002" gravity="0 0 0"/><worldbody>
    <body><joint name="j" type="hinge" axis="0 0 1"/><geom type="capsule" fromto="0 0 0 0.4 0 0" size="0.03"/></body>
    </worldbody><actuator><general joint="j" biastype="affine" biasprm="5 0 0" forcelimited="true" forcerange="-1 1"/></actuator></mujoco>)");
  const double dt = m->opt.timestep;
  auto reference = [&](double duration) {  // the check as it was made every step: the product
    for (std::int64_t n = 1; n <= 500; ++n) {
      if (static_cast<double>(n) * dt >= duration - 1e-9) return n;
    }
    return std::int64_t{-1};
  };
  for (double duration : {0.5, 0.002, 0.0021, 0.1, 0.3333, 1e-12, 0.0, -1.0, 1e30, std::nan("")}) {
    INFO(duration);
    DataPtr d(mj_makeData(m.get()));
    mj_forward(m.get(), d.get());
    SimOptions options;
    options.duration_s = 1.0;  // 500 steps
    options.overload_duration_s = duration;
    absl::StatusOr<SimResult> result = Simulate(m.get(), d.get(), options, nullptr, nullptr);
    REQUIRE(result.ok());
    const std::int64_t expected = std::isnan(duration) ? -1 : reference(duration);
    if (expected < 0) {
      CHECK(OutcomeName(result->outcome) == "TIMEOUT");
      CHECK(result->metrics.steps == 500);
    } else {
      CHECK(OutcomeName(result->outcome) == "MOTOR_OVERLOAD");
      CHECK(result->metrics.steps == expected);
    }
  }
}

TEST_CASE("sim step loop: a one-geom body's stress is its geom's load, several geoms sum up") {
  ModelPtr m = LoadXml(R"(<mujoco><option timestep="0.002"/><worldbody>
    <geom name="floor" type="plane" size="5 5 0.1"/><geom name="wall" type="box" pos="0.5 0 0.3" size="0.05 1 0.3"/>
    <body name="dumbbell" pos="0 0 0.4" euler="10 20 0"><freejoint/>
      <geom name="left" type="sphere" size="0.1" pos="-0.2 0 0"/><geom name="right" type="box" size="0.08 0.08 0.08" pos="0.2 0 0"/></body>
    <body name="ball" pos="0.5 0.1 0.9"><freejoint/><geom name="ball" type="sphere" size="0.07"/></body>
    </worldbody></mujoco>)");
  DataPtr d(mj_makeData(m.get()));
  d->qvel[0] = 1.0;
  mj_forward(m.get(), d.get());
  SimOptions options;
  options.duration_s = 1.5;
  absl::StatusOr<SimResult> result = Simulate(m.get(), d.get(), options, nullptr, nullptr);
  REQUIRE(result.ok());
  auto body = [&](std::string_view name) -> const BodyContactStress& {
    const BodyContactStress* found = nullptr;
    for (const BodyContactStress& s : result->stress) {
      if (s.body == name) found = &s;
    }
    INFO(name);
    REQUIRE(found != nullptr);
    return *found;
  };
  auto geom = [&](std::string_view name) -> const GeomContactLoad& {
    const GeomContactLoad* found = nullptr;
    for (const GeomContactLoad& l : result->geom_loads) {
      if (l.label == name) found = &l;
    }
    INFO(name);
    REQUIRE(found != nullptr);
    return *found;
  };
  const BodyContactStress& ball = body("ball");
  const GeomContactLoad& ball_geom = geom("ball");
  CHECK(ball.peak_force_n == ball_geom.peak_force_n);
  CHECK(ball.mean_force_n == ball_geom.mean_force_n);
  CHECK(ball.peak_time_s == ball_geom.peak_time_s);
  CHECK(ball.peak_pos == ball_geom.peak_pos);
  CHECK(ball.peak_single_contact_n == ball_geom.peak_single_contact_n);
  // Several geoms: the body's peak is at least each geom's, the world's covers floor and wall.
  const BodyContactStress& dumbbell = body("dumbbell");
  CHECK(dumbbell.peak_force_n >= geom("left").peak_force_n);
  CHECK(dumbbell.peak_force_n >= geom("right").peak_force_n);
  CHECK(dumbbell.peak_single_contact_n ==
        std::max(geom("left").peak_single_contact_n, geom("right").peak_single_contact_n));
  const BodyContactStress& world = body("world");
  CHECK(world.peak_single_contact_n ==
        std::max(geom("floor").peak_single_contact_n, geom("wall").peak_single_contact_n));
}

}  // namespace
}  // namespace workerpair::heavy::sim
