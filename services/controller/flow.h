// The end-to-end flow: one call takes a scene from files in a workspace to a recorded result.
//
// Every call the flow makes carries its request trace (libs/common/request_trace.h): the calling
// thread's current one, or a new one; the controller logs one job-phase line per step.
//
//   write → lint → topology → commit → bundle → build → simulate | verify → results → commit
//
// Each step is one or a few calls to worker-light or the worker-heavy pool. A failing step
// stops the flow and the report says which step failed and why (lint diagnostics, topology
// findings, the heavy service's error). Nothing already in the workspace is lost: uncommitted
// changes are committed as a snapshot before the flow overwrites any file, and a failed flow
// leaves the files it wrote in place, uncommitted, for the agent to fix.
//
// The scene lives at the workspace root (manifest.json there); results go to
// results/<run>/ (video.mp4, heatmap_*.png, result.json), which is never bundled.
//
//   FlowRequest request{.workspace = "agent-7", .files = {{"manifest.json", ...}, ...}};
//   FlowReport report = RunFlow(light, heavy, request, [](const FlowProgress& p) { ... });
//   if (!report.status.ok()) std::cerr << report.failed_step << ": " << report.status;
#ifndef WORKERPAIR_SERVICES_CONTROLLER_FLOW_H_
#define WORKERPAIR_SERVICES_CONTROLLER_FLOW_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/controller/core/cancellation.h"
#include "services/controller/heavy_client.h"
#include "services/controller/light_client.h"
#include "workerpair/v1/controller.pb.h"
#include "workerpair/v1/heavy.pb.h"
#include "workerpair/v1/light_lint.pb.h"
#include "workerpair/v1/light_topology.pb.h"

namespace workerpair::controller {

enum class FlowMode { kSimulate, kVerify };

struct FlowRequest {
  // The workspace; created (and made a git repository) when missing.
  std::string workspace;
  // Files to write or replace before checking (workspace-relative path, bytes). Empty: run on
  // what the workspace already holds.
  std::vector<std::pair<std::string, std::string>> files;
  // Results go to results/<run_name>/. Empty: "run-<UTC date>-<time>-<payload sha256 prefix>".
  std::string run_name;
  FlowMode mode = FlowMode::kSimulate;
  // Simulate mode: options passed to worker-heavy (render, duration, seed, ...).
  v1::SimulateOptions simulate;
  // Verify mode.
  std::uint32_t verify_runs = 8;
  // Seed of run 0 (run i: base_seed + i). Unset: the manifest's simulation.seed (or 0).
  std::optional<std::uint64_t> base_seed;
  // Unset: the manifest's verify.jitter_m (or worker-heavy's default).
  std::optional<double> jitter_m;
  // Skip pyflakes/shellcheck/yamllint in the lint step.
  bool skip_external_linters = false;
  // Author of the flow's commits.
  std::string author_name = "workerpair controller";
  std::string author_email = "controller@workerpair.invalid";
  // When set and cancelled: the flow stops before its next step, and a heavy call in flight is
  // cancelled (CANCELLED).
  Cancellation* cancel = nullptr;
};

// One step of the flow, as it ran.
struct FlowStep {
  std::string name;  // write, lint, topology, commit, bundle, build, simulate|verify, results,
                     // commit-results
  absl::Duration elapsed;
  std::string summary;  // one line: what the step did or why it failed
  absl::Status status;
};

struct FlowReport {
  // OK when every step ran; otherwise the failing step's error.
  absl::Status status;
  std::string failed_step;  // empty when status is OK
  std::vector<FlowStep> steps;
  std::string run_name;
  // Lint: every diagnostic (errors stop the flow; warnings are reported).
  std::vector<v1::Diagnostic> diagnostics;
  // Topology: findings (errors stop the flow).
  std::vector<v1::TopologyFinding> topology_findings;
  std::string scene_commit;  // commit holding the scene that was simulated
  std::string payload_sha256;
  std::uint64_t payload_bytes = 0;
  v1::BuildSceneResponse build;
  // The replica that ran the simulation (or every verify part's) and attempts in all.
  std::vector<std::string> replicas;
  int attempts = 0;
  std::optional<v1::SimulateResult> simulate_result;  // simulate mode
  std::optional<v1::VerifyResult> verify_result;      // verify mode
  std::string results_dir;                            // results/<run_name>
  std::vector<std::string> result_files;              // workspace-relative paths written
  std::string results_commit;
  // The ids to find the flow's log lines by (libs/common/job_log.h): its request id and trace id
  // (the caller's, or made by RunFlow) and worker-heavy's job ids, one per accepted attempt.
  std::string request_id;
  std::string trace_id;
  std::vector<std::string> heavy_job_ids;

  // The flow ran and the mechanism did what the scene asks (simulate: SUCCESS; verify: every
  // run succeeded).
  bool succeeded() const;
};

// What the caller sees while the flow runs: the step and one line about it.
struct FlowProgress {
  enum class Phase { kStarted, kUpdate, kFinished, kFailed };
  std::string step;
  Phase phase = Phase::kUpdate;
  std::string line;
  // In the simulate and verify steps: worker-heavy's event as it came (for progress bars).
  const HeavyProgress* heavy = nullptr;
};
using FlowProgressCallback = std::function<void(const FlowProgress&)>;

FlowReport RunFlow(LightClient& light, HeavyClient& heavy, const FlowRequest& request,
                   const FlowProgressCallback& progress = {});

// The report as a v1::FlowJobResult (controller.proto): what ControllerService's flow jobs
// return.
void FillFlowResult(const FlowReport& report, v1::FlowJobResult* out);

// The report as one JSON object, the protobuf JSON mapping of its FlowJobResult: what
// results/<run>/flow.json holds and `controller --json run` prints.
std::string FlowReportToJson(const FlowReport& report);

}  // namespace workerpair::controller

#endif  // WORKERPAIR_SERVICES_CONTROLLER_FLOW_H_
