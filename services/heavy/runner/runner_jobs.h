// The runner side of one job: a JobRequest (runner.proto) through the job pipeline
// (services/heavy/core/job/), its events and its end sent back as RunnerMessages. This is the
// runner's protocol adapter: it maps workerpair.v1 options to the core's plain types and the
// core's results back to workerpair.v1 events, so what the caller receives is what the runner
// produced, field for field.
#ifndef WORKERPAIR_SERVICES_HEAVY_RUNNER_RUNNER_JOBS_H_
#define WORKERPAIR_SERVICES_HEAVY_RUNNER_RUNNER_JOBS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "absl/status/status.h"
#include "services/heavy/core/job/job_pipeline.h"
#include "workerpair/internal/runner.pb.h"

namespace workerpair::heavy {

// What the runner process gives every job.
struct RunnerJobContext {
  int fd = -1;                       // the socket to the parent
  std::filesystem::path runner_dir;  // the runner's private directory
  job::JobLimits limits;
  std::size_t artifact_chunk_bytes = 256 << 10;
  render::RenderThread* render_thread = nullptr;  // null without GL
  // The models' render contexts kept on that thread between jobs (null: none).
  render::FrameRendererCache* renderers = nullptr;
  // Set by the allocation hooks when an allocation failed during the job.
  const std::atomic<bool>* memory_exhausted = nullptr;
  // The models this runner keeps between jobs (null: none).
  job::CompiledSceneCache* scenes = nullptr;
  // Largest SharedScene sent to or read from the parent (0: scenes are not shared).
  std::uint64_t shared_scene_max_bytes = 0;
};

// How a job ended, as JobDone says it.
struct RunnerJobOutcome {
  absl::Status status;
  // No archive was placed and no model is held for the payload: the parent places it and
  // sends the request again.
  bool need_payload = false;
  job::SceneUse scene_use;
  // The job ran on the SharedScene the parent placed (another runner compiled it).
  bool scene_loaded = false;
};

// Runs `request`, sending its events; returns how it ended (sent by the caller as JobDone).
// A failure after an allocation failed is JOB_MEMORY_LIMIT.
RunnerJobOutcome RunRunnerJob(const internal::JobRequest& request,
                              const RunnerJobContext& context);

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_RUNNER_RUNNER_JOBS_H_
