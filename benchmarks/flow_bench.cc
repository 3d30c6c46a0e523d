// flow_bench: where the end-to-end flow's time goes, step by step.
//
// Starts one worker-light and one worker-heavy on loopback (LocalPair, as `controller demo`
// does) and runs the flow on the demo scene --runs times (each run writes the scene afresh into
// its own workspace). Prints each step's median time and its share of the whole flow, so the
// split stays comparable across machines.
//
// --heavy_flow instead times the heavy part of a flow on one payload (the demo scene): build,
// simulate (rendered unless --no_render), render views, straight through HeavyClient on one
// worker-heavy: first on a replica with its caches off (every step uploads, unpacks and
// compiles: the flow before content-addressed payloads), then on one with its caches on, the
// first flow (uploads and compiles once) and repeated flows (nothing uploaded or compiled).
//
//   build/benchmarks/flow_bench --runs=5 [--no_render]
//   build/benchmarks/flow_bench --heavy_flow --runs=3 [--no_render] [--scene=examples/scenes/X]
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "libs/common/bundle.h"
#include "libs/rpc/server_process.h"
#include "libs/common/str_cat.h"
#include "services/controller/demo_scene.h"
#include "services/controller/flow.h"
#include "services/controller/local_pair.h"

namespace {

using workerpair::StrCat;
using namespace workerpair::controller;
namespace v1 = workerpair::v1;

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Seconds of build -> simulate -> render views of `payload` on `heavy`; negative on failure.
struct HeavyFlowTimes {
  double build = 0, simulate = 0, render_views = 0;
  double total() const { return build + simulate + render_views; }
};

bool RunHeavyFlow(HeavyClient& heavy, const Payload& payload, bool render, HeavyFlowTimes* times) {
  absl::Time start = absl::Now();
  auto built = heavy.BuildScene(payload);
  times->build = absl::ToDoubleSeconds(absl::Now() - start);
  if (!built.ok()) {
    std::fprintf(stderr, "build: %s\n", std::string(built.status().message()).c_str());
    return false;
  }
  v1::SimulateOptions options;
  options.set_render(render);
  start = absl::Now();
  auto simulated = heavy.Simulate(payload, options);
  times->simulate = absl::ToDoubleSeconds(absl::Now() - start);
  if (!simulated.ok()) {
    std::fprintf(stderr, "simulate: %s\n", std::string(simulated.status().message()).c_str());
    return false;
  }
  v1::RenderViewsOptions views;
  views.set_azimuth_count(4);
  views.add_elevations_deg(-30);
  views.set_width(320);
  views.set_height(240);
  start = absl::Now();
  auto rendered = heavy.RenderViews(payload, views);
  times->render_views = absl::ToDoubleSeconds(absl::Now() - start);
  if (!rendered.ok()) {
    std::fprintf(stderr, "render views: %s\n", std::string(rendered.status().message()).c_str());
    return false;
  }
  return true;
}

// The heavy part of a flow, caches off vs on (first and repeated), one payload.
int HeavyFlowMain(int runs, bool render, const std::string& scene_dir) {
  workerpair::TempDir dir;
  std::filesystem::path scene = scene_dir;
  if (scene.empty()) {
    scene = dir.path() / "scene";
    for (const auto& [path, text] : DemoSceneFiles()) {
      std::filesystem::create_directories((scene / path).parent_path());
      std::ofstream(scene / path, std::ios::binary) << text;
    }
  }
  auto packed = workerpair::PackDirectory(scene, {}, workerpair::PackOptions{});
  if (!packed.ok()) {
    std::fprintf(stderr, "cannot pack the demo scene: %s\n",
                 std::string(packed.status().message()).c_str());
    return 1;
  }
  const Payload payload{packed->archive, packed->sha256};
  // The same scene plus one file: another digest, to warm each replica's runners (GL context,
  // code paths) without warming its caches for `payload`.
  const std::filesystem::path other = dir.path() / "warm-up";
  std::filesystem::copy(scene, other, std::filesystem::copy_options::recursive);
  std::ofstream(other / "warm-up.txt") << "another digest\n";
  auto packed_other = workerpair::PackDirectory(other, {}, workerpair::PackOptions{});
  if (!packed_other.ok()) return 1;
  const Payload warm_up_payload{packed_other->archive, packed_other->sha256};
  auto start_heavy = [&](const std::string& name, std::vector<std::string> args) {
    args.push_back("--log_level=warn");
    args.push_back("--slots=2");
    args.push_back(StrCat("--scratch_dir=", (dir.path() / name).string()));
    return workerpair::ServerProcess::Start(WORKERPAIR_HEAVY_BINARY, args);
  };
  auto cold = start_heavy("off", {"--payload_cache_mb=0", "--runner_scene_cache_entries=0",
                                  "--shared_scene_cache_mb=0"});
  auto warm = start_heavy("on", {});
  if (!cold.ok() || !warm.ok()) {
    std::fprintf(stderr, "cannot start worker-heavy\n");
    return 1;
  }
  // Each step's median over the runs, and the median total.
  auto medians = [](const std::vector<HeavyFlowTimes>& all, double* total) {
    std::vector<double> build, simulate, views, totals;
    for (const HeavyFlowTimes& t : all) {
      build.push_back(t.build);
      simulate.push_back(t.simulate);
      views.push_back(t.render_views);
      totals.push_back(t.total());
    }
    *total = Median(totals);
    return HeavyFlowTimes{Median(build), Median(simulate), Median(views)};
  };
  std::vector<HeavyFlowTimes> off_runs, repeat_runs;
  HeavyFlowTimes first;
  // One flow of another payload warms each replica's runners (what is compared is the caches,
  // not a runner's first GL job); then the first flow of `payload` on the caches-on replica,
  // then the two replicas take turns, so a change in the machine's load falls on both alike.
  HeavyClient off_client({(*cold)->address()});
  HeavyClient heavy({(*warm)->address()});
  HeavyFlowTimes warm_up;
  if (!RunHeavyFlow(off_client, warm_up_payload, render, &warm_up)) return 1;
  if (!RunHeavyFlow(heavy, warm_up_payload, render, &warm_up)) return 1;
  if (!RunHeavyFlow(heavy, payload, render, &first)) return 1;
  for (int run = 0; run < runs; ++run) {
    HeavyFlowTimes times;
    if (!RunHeavyFlow(off_client, payload, render, &times)) return 1;
    off_runs.push_back(times);
    if (!RunHeavyFlow(heavy, payload, render, &times)) return 1;
    repeat_runs.push_back(times);
  }
  double off_total = 0, repeat_total = 0;
  const HeavyFlowTimes off = medians(off_runs, &off_total);
  const HeavyFlowTimes repeat = medians(repeat_runs, &repeat_total);
  auto info = heavy.Info((*warm)->address());
  std::printf("flow_bench --heavy_flow: build -> simulate (render %s) -> render views (4 views "
              "320x240) of %s (%zu bytes), 1 heavy with 2 slots per setting, medians of %d taken "
              "in turns (after one warm-up flow of another payload on each)\n",
              render ? "on" : "off", scene_dir.empty() ? "the demo scene" : scene_dir.c_str(),
              payload.bytes.size(), runs);
  std::printf("%-28s %10s %10s %10s %10s\n", "", "build ms", "sim ms", "views ms", "total ms");
  auto row = [](const char* name, const HeavyFlowTimes& t, double total) {
    std::printf("%-28s %10.1f %10.1f %10.1f %10.1f\n", name, 1000 * t.build, 1000 * t.simulate,
                1000 * t.render_views, 1000 * total);
  };
  row("caches off (before)", off, off_total);
  row("caches on, first flow", first, first.total());
  row("caches on, repeated flow", repeat, repeat_total);
  std::printf("first / before %.2f, repeated / before %.2f, repeated / first %.2f\n",
              first.total() / off_total, repeat_total / off_total, repeat_total / first.total());
  if (info.ok()) {
    std::printf("caches on: %llu compile(s), %llu reuse(s), %llu shared load(s), %llu payload "
                "cache hit(s)\n",
                static_cast<unsigned long long>(info->scene_cache().compiles()),
                static_cast<unsigned long long>(info->scene_cache().reuses()),
                static_cast<unsigned long long>(info->scene_cache().shared_loads()),
                static_cast<unsigned long long>(info->payload_cache().hits()));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  bool render = true;
  bool heavy_flow = false;
  std::string scene_dir;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--runs=", 7) == 0) {
      runs = std::max(1, std::atoi(argv[i] + 7));
    } else if (std::strcmp(argv[i], "--no_render") == 0) {
      render = false;
    } else if (std::strcmp(argv[i], "--heavy_flow") == 0) {
      heavy_flow = true;
    } else if (std::strncmp(argv[i], "--scene=", 8) == 0) {
      scene_dir = argv[i] + 8;
    } else {
      std::fprintf(stderr, "usage: flow_bench [--runs=N] [--no_render] [--heavy_flow [--scene=DIR]]\n");
      return 2;
    }
  }
  if (heavy_flow) return HeavyFlowMain(runs, render, scene_dir);
  workerpair::TempDir dir;
  auto pair = LocalPair::Start({.workspaces_root = dir.path() / "workspaces",
                                .light_binary = WORKERPAIR_LIGHT_BINARY,
                                .heavy_binary = WORKERPAIR_HEAVY_BINARY,
                                .heavy_replicas = 1,
                                .light_args = {"--log_level=warn"},
                                .heavy_args = {"--log_level=warn",
                                               StrCat("--scratch_dir=", (dir.path() / "scratch").string())}});
  if (!pair.ok()) {
    std::fprintf(stderr, "cannot start the pair: %s\n", std::string(pair.status().message()).c_str());
    return 1;
  }
  LightClient light(CreateChannel((*pair)->light_address()));
  HeavyClient heavy((*pair)->heavy_addresses());

  std::vector<std::string> order;
  std::map<std::string, std::vector<double>> seconds;
  std::vector<double> totals;
  std::vector<double> heavy_wall;  // what worker-heavy reports for its simulate+render loop
  for (int run = 0; run < runs; ++run) {
    FlowRequest request;
    request.workspace = StrCat("bench-", run);
    request.files = DemoSceneFiles();
    request.skip_external_linters = true;
    if (!render) request.simulate.set_render(false);
    FlowReport report = RunFlow(light, heavy, request);
    if (!report.status.ok()) {
      std::fprintf(stderr, "run %d stopped at %s: %s\n", run, report.failed_step.c_str(),
                   std::string(report.status.message()).c_str());
      return 1;
    }
    double total = 0;
    for (const FlowStep& step : report.steps) {
      if (run == 0) order.push_back(step.name);
      const double s = absl::ToDoubleSeconds(step.elapsed);
      seconds[step.name].push_back(s);
      total += s;
    }
    totals.push_back(total);
    if (report.simulate_result) heavy_wall.push_back(report.simulate_result->metrics().wall_time_s());
  }
  const double total = Median(totals);
  std::printf("flow_bench: %d runs of the demo scene (render %s), 1 light + 1 heavy on loopback\n",
              runs, render ? "on" : "off");
  std::printf("%-16s %12s %8s\n", "step", "median ms", "share");
  for (const std::string& step : order) {
    const double median = Median(seconds[step]);
    std::printf("%-16s %12.1f %7.1f%%\n", step.c_str(), 1000 * median, 100 * median / total);
  }
  std::printf("%-16s %12.1f %7.1f%%\n", "total", 1000 * total, 100.0);
  if (!heavy_wall.empty()) {
    const double simulate = Median(seconds["simulate"]);
    std::printf("simulate step: worker-heavy's own simulation loop %.1f ms = %.0f%% of the step "
                "(the rest: payload upload, unpack, scene build, renderer setup, video finish, heatmaps, artifact download)\n",
                1000 * Median(heavy_wall), 100 * Median(heavy_wall) / simulate);
  }
  return (*pair)->Stop() ? 0 : 1;
}
