// `controller run` (the end-to-end flow on a workspace) and `controller demo` (the flow on the
// embedded example scene, with a worker-light and worker-heavy started on loopback).
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>

#include "absl/time/clock.h"
#include "libs/common/str_cat.h"
#include "services/controller/cli/cli_context.h"
#include "services/controller/cli/command_args.h"
#include "services/controller/cli/commands.h"
#include "services/controller/cli/local_tree.h"
#include "services/controller/demo_scene.h"
#include "services/controller/flow.h"
#include "services/controller/local_pair.h"

namespace workerpair::controller::cli {
namespace {
namespace fs = std::filesystem;

// Scene folders sent by `run` are small; a cap keeps a wrong argument (".") from streaming a
// home directory into the workspace. results/ would be the workspace's own results coming back.
const LocalTreeLimits kSceneLimits = {.max_total_bytes = 64ull << 20,
                                      .max_files = 1000,
                                      .skip_directories = {".git", "results"}};

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ReadSceneDirectory(
    const fs::path& dir) {
  auto files = ReadLocalTree(dir, kSceneLimits);
  if (absl::IsResourceExhausted(files.status())) {
    return absl::ResourceExhaustedError(StrCat(std::string(files.status().message()),
                                               "; point `run` at the scene's own folder"));
  }
  return files;
}

FlowProgressCallback ProgressFor(CliContext& context, const FlowRequest& request) {
  ProgressPrinter& printer = context.progress();
  auto job = std::make_shared<ProgressCallback>(
      request.mode == FlowMode::kVerify ? printer.CountCallback(request.verify_runs, "runs")
                                        : printer.JobCallback());
  return [&printer, job](const FlowProgress& progress) {
    switch (progress.phase) {
      case FlowProgress::Phase::kStarted:
        // On a terminal the running step shows in place; in a log its result line is enough.
        if (printer.style() == ProgressPrinter::Style::kBar) {
          printer.Status(StrCat(progress.step, " ..."));
        }
        break;
      case FlowProgress::Phase::kUpdate:
        if (progress.heavy) {
          (*job)(*progress.heavy);
        } else {
          printer.Status(StrCat(progress.step, ": ", progress.line));
        }
        break;
      case FlowProgress::Phase::kFinished:
        printer.Line(StrCat("  ok    ", progress.step, ": ", progress.line));
        break;
      case FlowProgress::Phase::kFailed:
        printer.Line(StrCat("  FAIL  ", progress.step, ": ", progress.line));
        break;
    }
  };
}

// The human account of a flow: steps with times, diagnostics, outcome, metrics and where the
// results are. `results_root` (a local folder holding the workspace) makes the paths absolute.
void PrintReport(const FlowReport& report, const std::string& workspace,
                 const fs::path& results_root) {
  std::cout << "workspace " << workspace << ", run " << report.run_name << "\n";
  for (const FlowStep& step : report.steps) {
    std::printf("  %-15s %7.2f s  %s%s\n", step.name.c_str(),
                absl::ToDoubleSeconds(step.elapsed), step.status.ok() ? "" : "FAILED: ",
                step.summary.c_str());
  }
  for (const auto& diagnostic : report.diagnostics) {
    std::cout << "  " << diagnostic.path() << ":" << diagnostic.line() << ":"
              << diagnostic.column() << ": "
              << (diagnostic.severity() == v1::SEVERITY_ERROR ? "error" : "warning") << ": "
              << diagnostic.message() << " [" << diagnostic.code() << "]\n";
  }
  for (const auto& finding : report.topology_findings) {
    std::cout << "  topology " << (finding.error() ? "error" : "warning") << ": "
              << finding.message() << " [" << finding.code() << "]\n";
  }
  if (!report.status.ok()) {
    std::cout << "stopped at " << report.failed_step << ": "
              << absl::StatusCodeToString(report.status.code()) << ": " << report.status.message()
              << "\n";
    return;
  }
  if (report.simulate_result) {
    const v1::SimulateResult& result = *report.simulate_result;
    const v1::SimulationMetrics& m = result.metrics();
    std::cout << "outcome: " << v1::Outcome_Name(result.outcome());
    if (result.fail_reason() != v1::FAIL_REASON_UNSPECIFIED) {
      std::cout << " (" << v1::FailReason_Name(result.fail_reason()) << ")";
    }
    if (!result.detail().empty()) std::cout << " - " << result.detail();
    std::cout << "\n";
    std::printf(
        "metrics: %.2f s simulated in %llu steps, %.2f s wall; max speed %.2f m/s; largest "
        "single contact %.1f N; energy %.2f J; %llu frames\n",
        m.sim_time_s(), static_cast<unsigned long long>(m.steps()), m.wall_time_s(),
        m.max_velocity_mps(), m.max_contact_force_n(), m.total_energy_j(),
        static_cast<unsigned long long>(m.frames_rendered()));
    for (const auto& part : result.stress()) {
      std::printf(
          "stress: %-12s peak total %.1f N (sum over its contacts), largest single contact "
          "%.1f N, safety factor %.2f\n",
          part.part().c_str(), part.peak_force_n(), part.peak_single_contact_force_n(),
          part.safety_factor());
    }
  }
  if (report.verify_result) {
    const v1::VerifyResult& result = *report.verify_result;
    std::printf("verify: %u/%d runs succeeded (%.0f%%)\n", result.successes(),
                result.runs_size(), 100.0 * result.success_rate());
    for (const auto& run : result.runs()) {
      std::cout << "  run " << run.index() << " seed " << run.seed() << ": "
                << v1::Outcome_Name(run.outcome())
                << (run.fail_reason() != v1::FAIL_REASON_UNSPECIFIED
                        ? StrCat(" (", v1::FailReason_Name(run.fail_reason()), ")")
                        : std::string())
                << "\n";
    }
  }
  std::set<std::string> replicas(report.replicas.begin(), report.replicas.end());
  std::cout << "ran on: ";
  for (const std::string& replica : replicas) std::cout << replica << " ";
  std::cout << "(" << report.attempts << " attempt(s))\n";
  std::cout << "scene commit " << report.scene_commit.substr(0, 12) << ", results commit "
            << report.results_commit.substr(0, 12) << "\n";
  std::cout << "results:\n";
  for (const std::string& path : report.result_files) {
    std::cout << "  " << (results_root.empty() ? fs::path(path) : results_root / path).string()
              << "\n";
  }
}

// The server a flow step talks to, for the error hint of a step that could not reach it.
ServerKind StepServer(const std::string& step) {
  if (step == "build" || step == "simulate" || step == "verify") return ServerKind::kHeavy;
  if (step.empty()) return ServerKind::kNone;
  return ServerKind::kLight;
}

int Finish(CliContext& context, FlowReport report, const std::string& workspace,
           const fs::path& results_root) {
  context.progress().Finish();
  if (!report.status.ok()) {
    report.status = WithServerHint(report.status, StepServer(report.failed_step));
  }
  if (context.json()) {
    std::cout << FlowReportToJson(report);
  } else {
    PrintReport(report, workspace, results_root);
  }
  if (!report.status.ok()) return ExitCodeFor(report.status);
  return report.succeeded() ? kExitOk : kExitMechanismFailed;
}

const std::vector<OptionSpec> kFlowOptions = {
    {"verify", kTakesValue}, {"run_name", kTakesValue}, {"seed", kTakesValue},
    {"jitter_m", kTakesValue}, {"duration_s", kTakesValue}, {"no_render"},
    {"skip_external"}};

// Whether `workspace` exists: OK, NOT_FOUND saying how to create it, or the call's error.
absl::Status RequireWorkspace(CliContext& context, const std::string& workspace) {
  v1::ListFilesRequest request;
  request.set_workspace(workspace);
  request.set_max_entries(1);
  LightClient& light = context.light(workspace);
  auto listed = light.Call(light.files(), &v1::LightFilesService::Stub::ListFiles, request);
  if (absl::IsNotFound(listed.status())) {
    return absl::NotFoundError(
        StrCat("workspace '", workspace, "' does not exist; create it with `controller ws create ",
               workspace, "` or pass --create to `run`"));
  }
  return listed.status();
}

// Fills the request's mode and options from `run`/`demo` options.
absl::Status ApplyFlowOptions(const CommandArgs& parsed, FlowRequest& request) {
  request.run_name = parsed.String("run_name");
  request.skip_external_linters = parsed.Bool("skip_external");
  auto verify_runs = parsed.OptionalUint("verify");
  if (!verify_runs.ok()) return verify_runs.status();
  auto seed = parsed.OptionalUint("seed");
  if (!seed.ok()) return seed.status();
  auto duration = parsed.OptionalDouble("duration_s");
  if (!duration.ok()) return duration.status();
  auto jitter = parsed.OptionalDouble("jitter_m");
  if (!jitter.ok()) return jitter.status();
  if (*jitter && **jitter < 0) return absl::InvalidArgumentError("--jitter_m must be >= 0");
  if (*verify_runs) {
    if (**verify_runs == 0 || **verify_runs > 1000) {
      return absl::InvalidArgumentError("--verify takes a number of runs, 1 to 1000");
    }
    request.mode = FlowMode::kVerify;
    request.verify_runs = static_cast<std::uint32_t>(**verify_runs);
    if (*seed) request.base_seed = **seed;
    request.jitter_m = *jitter;
  } else {
    if (*seed) request.simulate.set_seed(**seed);
    if (*duration) request.simulate.set_duration_s(**duration);
    if (parsed.Bool("no_render")) request.simulate.set_render(false);
  }
  return absl::OkStatus();
}

}  // namespace

int RunFlowCommand(CliContext& context, const std::vector<std::string>& args) {
  std::vector<OptionSpec> options = kFlowOptions;
  options.push_back({"create"});
  auto parsed = CommandArgs::Parse(args, options);
  if (!parsed.ok()) return context.Usage(parsed.status());
  if (parsed->size() < 1 || parsed->size() > 2) return context.Usage("run takes WS [SCENE_DIR]");
  FlowRequest request;
  request.workspace = (*parsed)[0];
  if (absl::Status applied = ApplyFlowOptions(*parsed, request); !applied.ok()) {
    return context.Usage(applied);
  }
  if (parsed->size() == 2) {
    auto files = ReadSceneDirectory((*parsed)[1]);
    if (!files.ok()) return context.Fail(files.status());
    request.files = std::move(*files);
  }
  // A typo'd name must not become a new workspace: only --create makes a missing one.
  if (!parsed->Bool("create")) {
    if (absl::Status exists = RequireWorkspace(context, request.workspace); !exists.ok()) {
      // A workspace on another pod (a resized pool) is explained by Fail().
      return context.Fail(exists);
    }
  }
  // The flow creates a missing workspace: not beside one a resized pool has not moved yet.
  if (absl::Status placed = context.light_pool().RefuseMisplaced(request.workspace);
      !placed.ok()) {
    return context.Fail(placed);
  }
  FlowReport report =
      RunFlow(context.light(request.workspace), context.heavy(), request,
              ProgressFor(context, request));
  return Finish(context, report, request.workspace, {});
}

int RunDemoCommand(CliContext& context, const std::vector<std::string>& args) {
  std::vector<OptionSpec> options = kFlowOptions;
  options.push_back({"dir", kTakesValue});
  options.push_back({"replicas", kTakesValue});
  auto parsed = CommandArgs::Parse(args, options);
  if (!parsed.ok()) return context.Usage(parsed.status());
  if (parsed->size() != 0) return context.Usage("demo takes only options");
  FlowRequest request;
  request.workspace = StrCat(
      "demo-", absl::FormatTime("%Y%m%d-%H%M%S", absl::Now(), absl::UTCTimeZone()));
  request.files = DemoSceneFiles();
  if (absl::Status applied = ApplyFlowOptions(*parsed, request); !applied.ok()) {
    return context.Usage(applied);
  }
  auto replicas = parsed->Uint("replicas", 1);
  if (!replicas.ok() || *replicas < 1 || *replicas > 8) {
    return context.Usage("--replicas takes 1 to 8");
  }

  // Servers of our own unless the caller named theirs.
  const bool own_servers = !context.options().light_set && !context.options().heavy_set;
  std::unique_ptr<LocalPair> pair;
  std::unique_ptr<LightClient> light;
  std::unique_ptr<HeavyClient> heavy;
  fs::path results_root;
  if (own_servers) {
    const char* tmp = std::getenv("TMPDIR");
    const fs::path dir = parsed->String("dir", StrCat(tmp && *tmp ? tmp : "/tmp", "/workerpair-demo"));
    results_root = fs::absolute(dir / "workspaces") / request.workspace;
    context.progress().Line(StrCat("starting worker-light and ", *replicas,
                                   " worker-heavy on loopback (workspaces in ",
                                   (dir / "workspaces").string(), ")"));
    auto started = LocalPair::Start({.workspaces_root = dir / "workspaces",
                                     .heavy_replicas = static_cast<int>(*replicas),
                                     .light_args = {"--log_level=warn"},
                                     .heavy_args = {"--log_level=warn"}});
    if (!started.ok()) return context.Fail(started.status());
    pair = std::move(*started);
    light = std::make_unique<LightClient>(CreateChannel(pair->light_address()));
    heavy = std::make_unique<HeavyClient>(pair->heavy_addresses());
    context.progress().Line(StrCat("worker-light ", pair->light_address(), ", worker-heavy ",
                                   pair->heavy_addresses().front(),
                                   *replicas > 1 ? " and more" : ""));
  }
  LightClient& light_client = own_servers ? *light : context.light(request.workspace);
  HeavyClient& heavy_client = own_servers ? *heavy : context.heavy();
  context.progress().Line(StrCat("example scene: a ball rolls down an STL ramp into a goal zone; ",
                                 "workspace ", request.workspace));
  FlowReport report =
      RunFlow(light_client, heavy_client, request, ProgressFor(context, request));
  const int code = Finish(context, report, request.workspace, results_root);
  if (pair) {
    heavy.reset();
    light.reset();
    const bool clean = pair->Stop();
    if (!context.json()) {
      std::cout << (clean ? "servers shut down cleanly\n"
                          : "a server did not shut down cleanly (see its log above)\n");
    }
    if (!clean && code == kExitOk) return kExitOther;
  }
  return code;
}

}  // namespace workerpair::controller::cli
