// The jobs behind worker-heavy's calls, as the gRPC adapter runs them: on a scheduler thread,
// each job borrows a runner process from the RunnerPool (runner/runner_pool.h), hands it the
// payload and the call's header, and maps what the runner streams back to the call's events.
// This process never unpacks a payload, parses a manifest or MJCF, or calls MuJoCo: the job
// pipeline (core/job/) runs inside the runners, sandboxed and limited (runner/runner_call.h
// says how a runner's death becomes a classified error).
//
// A job's runner is one that holds the payload's compiled model when one is idle (runners keep
// the models they compiled, by payload SHA-256), so a repeated payload is not compiled again;
// such a runner gets no copy of the archive. Verify fans out over runners: the job's own runner plus one per slot it can borrow
// (JobContext::TryBorrowSlots, never ahead of queued jobs) that has an idle runner; run i goes
// to runner i mod P, each runner computes its share one run after the other and reports each
// run as it ends. If one share fails the others are stopped and the first error is returned.
// A verify compiles once per replica: when no runner of the verify holds the model and the
// pool keeps no scene of the payload, the other shares wait for the first share's runner to
// send its compile to the pool (runner_call.h), then load it instead of compiling.
//
//   absl::Status status = RunSimulate(job, request, payload, env, emit);
#ifndef WORKERPAIR_SERVICES_HEAVY_JOB_RUNNER_H_
#define WORKERPAIR_SERVICES_HEAVY_JOB_RUNNER_H_

#include <cstddef>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/scene/scene_limits.h"
#include "services/heavy/core/admission/scheduler.h"
#include "services/heavy/core/intake/job_payload.h"
#include "services/heavy/core/intake/payload_intake.h"
#include "services/heavy/core/intake/received_payload.h"
#include "services/heavy/runner/runner_call.h"
#include "services/heavy/runner/runner_pool.h"
#include "workerpair/v1/heavy.pb.h"

namespace workerpair::heavy {

// Service-wide settings (from flags).
struct HeavyConfig {
  intake::IntakeLimits intake;
  SceneLimits scene;
  // Bytes of payloads kept by SHA-256 (PayloadCache; 0: none).
  std::uint64_t payload_cache_bytes = 256ull << 20;
  // Most runs one Verify may ask for.
  int max_verify_runs = 64;
  // Size of the artifact chunks streamed back.
  std::size_t artifact_chunk_bytes = 256 << 10;
  // Wall time between progress events (a call's progress_interval_s overrides it).
  absl::Duration progress_interval = absl::Milliseconds(500);
  // Per job, enforced on the runner (wall clock by this process, the rest by the kernel).
  RunnerCallLimits job_limits;
  // Longest silence on a job's event stream before a Heartbeat (0: none).
  absl::Duration heartbeat_interval = absl::Seconds(2);
  // How long a job waits for a runner of its slot to (re)start.
  absl::Duration runner_wait = absl::Seconds(60);
};

// What jobs share.
struct JobEnv {
  const HeavyConfig* config = nullptr;
  RunnerPool* runners = nullptr;
};

template <typename Event>
using EmitFn = std::function<bool(Event)>;

// Checks a Simulate header's options: INVALID_ARGUMENT for values no cap can fix (timestep out
// of range, non-positive or non-finite duration, odd or zero size).
absl::Status CheckSimulateOptions(const v1::SimulateOptions& options, const SceneLimits& limits);
// Checks a Verify header: runs between 1 and max_verify_runs, finite jitter >= 0.
absl::Status CheckVerifyHeader(const v1::VerifyHeader& header, const HeavyConfig& config);
// Checks a RenderViews header.
absl::Status CheckRenderViewsHeader(const v1::RenderViewsHeader& header,
                                    const SceneLimits& limits);

// Simulate: progress, artifacts (video.mp4, heatmap_parts.png, heatmap_topdown.png when
// rendering is enabled; result.json always), then the result. Outcomes are results, not errors.
absl::Status RunSimulate(admission::JobContext& job, const v1::SimulateRequest& request,
                         intake::JobPayload& payload, const JobEnv& env,
                         const EmitFn<v1::SimulateResponse>& emit);

// Verify: one event per finished run, then the summary.
absl::Status RunVerify(admission::JobContext& job, const v1::VerifyRequest& request,
                       intake::JobPayload& payload, const JobEnv& env,
                       const EmitFn<v1::VerifyResponse>& emit);

// RenderViews: one event per still (PNG), then the summary. Errors of the renderer, e.g.
// NOT_FOUND for an unknown camera, UNAVAILABLE without a GL context.
absl::Status RunRenderViews(admission::JobContext& job, const v1::RenderViewsRequest& request,
                            intake::JobPayload& payload, const JobEnv& env,
                            const EmitFn<v1::RenderViewsResponse>& emit);

// BuildScene: compile only. INVALID_ARGUMENT with MuJoCo's message for a bad scene.
absl::StatusOr<v1::BuildSceneResponse> RunBuildScene(admission::JobContext& job,
                                                     const v1::BuildSceneRequest& request,
                                                     intake::JobPayload& payload,
                                                     const JobEnv& env);

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_JOB_RUNNER_H_
