// flow_bench: where the end-to-end flow's time goes, step by step.
//
// Starts one worker-light and one worker-heavy on loopback (LocalPair, as `controller demo`
// does) and runs the flow on the demo scene --runs times (each run writes the scene afresh into
// its own workspace). Prints each step's median time and its share of the whole flow, so the
// split stays comparable across machines.
//
//   build/benchmarks/flow_bench --runs=5 [--no_render]
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "libs/rpc/server_process.h"
#include "libs/common/str_cat.h"
#include "services/controller/demo_scene.h"
#include "services/controller/flow.h"
#include "services/controller/local_pair.h"

namespace {

using workerpair::StrCat;
using namespace workerpair::controller;

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  bool render = true;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--runs=", 7) == 0) {
      runs = std::max(1, std::atoi(argv[i] + 7));
    } else if (std::strcmp(argv[i], "--no_render") == 0) {
      render = false;
    } else {
      std::fprintf(stderr, "usage: flow_bench [--runs=N] [--no_render]\n");
      return 2;
    }
  }
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
