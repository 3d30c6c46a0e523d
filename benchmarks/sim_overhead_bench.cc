// sim_overhead_bench: what worker-heavy's per-step work (outcome checks, energy, contact
// accumulation, events: sim::Simulate) adds to a bare mj_step loop, on several models, side by
// side in one run. Both sides step the same model from the same initial state for the same
// number of steps (the steps Simulate took); the service side includes its per-run setup and
// result collection. Times are the minimum over interleaved repetitions (the least disturbed
// run on a loaded machine).
//
//   build/benchmarks/sim_overhead_bench [--reps=N] [--only=<part of a model's name>]
//
// Under callgrind, wall time is replaced by instruction counts: each side of each model is
// collected on its own and dumped with a name ("service <model>", "bare <model>"):
//
//   valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=/tmp/cg.%p \
//     build/benchmarks/sim_overhead_bench --reps=1
//   for f in /tmp/cg.*.*; do grep -a -h -e '^desc: Trigger' -e '^summary:' $f | tr '\n' ' '; echo; done
#include <mujoco/mujoco.h>
#include <valgrind/callgrind.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "services/heavy/core/sim/simulate.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace sim = workerpair::heavy::sim;

struct Model {
  std::string name;
  std::string xml;
  std::string xml_path;  // instead of xml: a file (the example scenes)
  double duration_s = 5.0;
  std::string target;
  double yield = 1000;
};

std::string FewBodies() {
  // Three balls dropped on a plane, bouncing and rolling; zones out of reach.
  return R"(<mujoco><option timestep="0.002"/><worldbody>
    <geom name="floor" type="plane" size="5 5 0.1"/>
    <body name="a" pos="0 0 1"><freejoint/><geom type="sphere" size="0.1"/></body>
    <body name="b" pos="0.5 0 1.5"><freejoint/><geom type="sphere" size="0.1"/></body>
    <body name="c" pos="1 0 2"><freejoint/><geom type="box" size="0.1 0.1 0.1"/></body>
    <site name="zone_goal_far" type="box" pos="4 4 0.1" size="0.2 0.2 0.1"/>
    <site name="zone_forbid_far" type="sphere" pos="-4 -4 0.1" size="0.2"/>
  </worldbody></mujoco>)";
}

std::string ManyContacts() {
  // 60 boxes dropped into a pile: hundreds of contacts a step.
  std::string xml = R"(<mujoco><option timestep="0.002"/><size njmax="6000" nconmax="1500"/>
    <worldbody><geom name="floor" type="plane" size="5 5 0.1"/>)";
  for (int i = 0; i < 60; ++i) {
    xml += "<body name=\"b" + std::to_string(i) + "\" pos=\"" + std::to_string((i % 4) * 0.22) +
           " " + std::to_string(((i / 4) % 4) * 0.22) + " " + std::to_string(0.15 + 0.22 * (i / 16)) +
           "\"><freejoint/><geom type=\"box\" size=\"0.1 0.1 0.1\"/></body>";
  }
  return xml + "<site name=\"zone_goal_far\" type=\"box\" pos=\"4 4 0.1\" size=\"0.2 0.2 0.1\"/>"
               "</worldbody></mujoco>";
}

std::string Actuated() {
  // A 6-link arm with force-limited position servos swinging against gravity, and a ball it
  // knocks off a pedestal.
  std::string xml = R"(<mujoco><option timestep="0.002"/><worldbody>
    <geom name="floor" type="plane" size="5 5 0.1"/>
    <geom name="pedestal" type="box" pos="0.9 0 0.25" size="0.1 0.1 0.25"/>
    <body name="ball" pos="0.9 0 0.6"><freejoint/><geom type="sphere" size="0.08"/></body>
    <body name="l0" pos="0 0 0.6"><joint name="j0" type="hinge" axis="0 0 1"/>
      <geom type="capsule" fromto="0 0 0 0.2 0 0" size="0.03"/>)";
  std::string close;
  for (int i = 1; i < 6; ++i) {
    xml += "<body name=\"l" + std::to_string(i) + "\" pos=\"0.2 0 0\"><joint name=\"j" +
           std::to_string(i) + "\" type=\"hinge\" axis=\"0 1 0\" damping=\"0.5\"/>"
           "<geom type=\"capsule\" fromto=\"0 0 0 0.2 0 0\" size=\"0.03\"/>";
    close += "</body>";
  }
  xml += close + "</body></worldbody><actuator>";
  for (int i = 0; i < 6; ++i) {
    xml += "<general joint=\"j" + std::to_string(i) +
           "\" gainprm=\"40\" biastype=\"affine\" biasprm=\"" + (i == 0 ? "4" : "-2") +
           " -40 -2\" forcelimited=\"true\" forcerange=\"-25 25\"/>";
  }
  return xml + "</actuator></mujoco>";
}

mjModel* Load(const Model& model) {
  char error[1000] = "";
  if (!model.xml_path.empty()) {
    return mj_loadXML(model.xml_path.c_str(), nullptr, error, sizeof(error));
  }
  mjVFS vfs;
  mj_defaultVFS(&vfs);
  mj_makeEmptyFileVFS(&vfs, "m.xml", static_cast<int>(model.xml.size()));
  std::memcpy(vfs.filedata[vfs.nfile - 1], model.xml.data(), model.xml.size());
  mjModel* m = mj_loadXML("m.xml", &vfs, error, sizeof(error));
  mj_deleteVFS(&vfs);
  if (m == nullptr) std::fprintf(stderr, "%s: %s\n", model.name.c_str(), error);
  return m;
}

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

__attribute__((noinline)) double BareLoop(const mjModel* m, mjData* d, std::int64_t steps) {
  const auto start = Clock::now();
  for (std::int64_t i = 0; i < steps; ++i) mj_step(m, d);
  return Seconds(start);
}

__attribute__((noinline)) double ServiceLoop(const mjModel* m, mjData* d,
                                             const sim::SimOptions& options,
                                             sim::SimResult* out) {
  const auto start = Clock::now();
  absl::StatusOr<sim::SimResult> result = sim::Simulate(m, d, options, nullptr, nullptr);
  const double seconds = Seconds(start);
  if (result.ok()) *out = std::move(*result);
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 15;
  std::string only;  // --only=<text>: just the models whose name contains it
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--reps=", 7) == 0) reps = std::max(1, std::atoi(argv[i] + 7));
    if (std::strncmp(argv[i], "--only=", 7) == 0) only = argv[i] + 7;
  }
  const bool callgrind = RUNNING_ON_VALGRIND;
  std::vector<Model> models = {
      {"few bodies (3 free bodies, plane)", FewBodies(), "", 5.0, "a", 1000},
      {"many contacts (60-box pile)", ManyContacts(), "", 3.0, "b0", 1000},
      {"actuated (6 force-limited servos, arm + ball)", Actuated(), "", 5.0, "ball", 1000},
      {"example ramp_goal (mesh ramp, ball)", "",
       std::string(WORKERPAIR_SOURCE_DIR) + "/examples/scenes/ramp_goal/scene.xml", 4.0, "ball",
       200},
  };
  std::printf("| model | steps | contacts/step | bare mj_step | sim::Simulate | service / bare |\n"
              "|---|---|---|---|---|---|\n");
  for (const Model& model : models) {
    if (model.name.find(only) == std::string::npos) continue;
    mjModel* m = Load(model);
    if (m == nullptr) return 1;
    sim::SimOptions options;
    options.duration_s = model.duration_s;
    options.target_body = model.target;
    options.yield_newtons = model.yield;
    mjData* initial = mj_makeData(m);
    mj_forward(m, initial);
    mjData* d = mj_makeData(m);
    double best_bare = 1e30, best_service = 1e30;
    sim::SimResult result;
    std::int64_t steps = 0;
    double contacts = 0;
    // One untimed run of each side first: the first call of a function of a shared library
    // pays its symbol lookup, which would be charged to whichever side ran first.
    mj_copyData(d, m, initial);
    ServiceLoop(m, d, options, &result);
    mj_copyData(d, m, initial);
    BareLoop(m, d, result.metrics.steps);
    for (int rep = 0; rep < reps; ++rep) {
      mj_copyData(d, m, initial);
      if (callgrind) CALLGRIND_TOGGLE_COLLECT;
      best_service = std::min(best_service, ServiceLoop(m, d, options, &result));
      if (callgrind) {
        CALLGRIND_TOGGLE_COLLECT;
        const std::string label = "service " + model.name;
        CALLGRIND_DUMP_STATS_AT(label.c_str());
      }
      steps = result.metrics.steps;
      mj_copyData(d, m, initial);
      if (callgrind) CALLGRIND_TOGGLE_COLLECT;
      best_bare = std::min(best_bare, BareLoop(m, d, steps));
      if (callgrind) {
        CALLGRIND_TOGGLE_COLLECT;
        const std::string label = "bare " + model.name;
        CALLGRIND_DUMP_STATS_AT(label.c_str());
      }
      contacts = d->ncon;
    }
    std::printf("| %s | %lld (%s) | %.0f at the end | %.2f ms | %.2f ms | %.3fx (%+.1f%%) |\n",
                model.name.c_str(), static_cast<long long>(steps),
                std::string(sim::OutcomeName(result.outcome)).c_str(), contacts,
                best_bare * 1e3, best_service * 1e3, best_service / best_bare,
                100 * (best_service / best_bare - 1));
    mj_deleteData(d);
    mj_deleteData(initial);
    mj_deleteModel(m);
  }
  std::printf("\nminimum of %d interleaved repetitions per side%s\n", reps,
              callgrind ? " (under valgrind: use the callgrind dumps, not these times)" : "");
  return 0;
}
