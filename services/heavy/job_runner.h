// The jobs behind worker-heavy's calls, run on the scheduler's threads.
//
// Each job: a scratch directory (removed when the job returns, however it returns), the payload
// unpacked into it, manifest.json parsed and the per-call overrides applied, the scene compiled,
// then the call's work: simulate (progress, artifacts, result), verify (N jittered runs in
// parallel on borrowed slots), build scene (statistics), render views. Events go out through
// `emit`; the returned status ends the call. These functions do the job side of the adapter:
// they speak the API's messages and call the cores.
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
#include "libs/common/scene_limits.h"
#include "services/heavy/core/admission/scheduler.h"
#include "services/heavy/core/intake/payload_intake.h"
#include "services/heavy/core/intake/received_payload.h"
#include "services/heavy/core/intake/scratch.h"
#include "workerpair/v1/heavy.pb.h"

namespace workerpair::heavy {

// Service-wide settings (from flags).
struct HeavyConfig {
  IntakeLimits intake;
  SceneLimits scene;
  // Most runs one Verify may ask for.
  int max_verify_runs = 64;
  // Size of the artifact chunks streamed back.
  std::size_t artifact_chunk_bytes = 256 << 10;
  // Wall time between progress events (a call's progress_interval_s overrides it).
  absl::Duration progress_interval = absl::Milliseconds(500);
  // Longest silence on a job's event stream before a heartbeat goes out; 0 turns them off.
  absl::Duration heartbeat_interval = absl::Seconds(2);
};

// What jobs share.
struct JobEnv {
  const HeavyConfig* config = nullptr;
  ScratchSpace* scratch = nullptr;
};

template <typename Event>
using EmitFn = std::function<bool(Event)>;

// Checks a Simulate header's options: INVALID_ARGUMENT for values no cap can fix (timestep out
// of range, non-positive duration, odd or zero size).
absl::Status CheckSimulateOptions(const v1::SimulateOptions& options, const SceneLimits& limits);
// Checks a Verify header: runs between 1 and max_verify_runs, jitter >= 0.
absl::Status CheckVerifyHeader(const v1::VerifyHeader& header, const HeavyConfig& config);
// Checks a RenderViews header.
absl::Status CheckRenderViewsHeader(const v1::RenderViewsHeader& header,
                                    const SceneLimits& limits);

// Simulate: progress, artifacts (video.mp4, heatmap_parts.png, heatmap_topdown.png when
// rendering is enabled; result.json always), then the result. Outcomes are results, not errors.
absl::Status RunSimulate(JobContext& job, const v1::SimulateRequest& request,
                         ReceivedPayload& payload, const JobEnv& env,
                         const EmitFn<v1::SimulateEvent>& emit);

// Verify: one event per finished run, then the summary.
absl::Status RunVerify(JobContext& job, const v1::VerifyRequest& request,
                       ReceivedPayload& payload, const JobEnv& env,
                       const EmitFn<v1::VerifyEvent>& emit);

// RenderViews: one event per still (PNG), then the summary. Errors of the renderer, e.g.
// NOT_FOUND for an unknown camera, UNAVAILABLE without a GL context.
absl::Status RunRenderViews(JobContext& job, const v1::RenderViewsRequest& request,
                            ReceivedPayload& payload, const JobEnv& env,
                            const EmitFn<v1::RenderViewsEvent>& emit);

// BuildScene: compile only. INVALID_ARGUMENT with MuJoCo's message for a bad scene.
absl::StatusOr<v1::BuildSceneResponse> RunBuildScene(JobContext& job,
                                                     const v1::BuildSceneRequest& request,
                                                     ReceivedPayload& payload,
                                                     const JobEnv& env);

// The GL renderer string and EGL platform of this process's render thread ("" when none has
// started).
std::string GlRendererInUse();
std::string GlPlatformInUse();

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_JOB_RUNNER_H_
