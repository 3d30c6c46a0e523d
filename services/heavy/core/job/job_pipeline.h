// The job pipeline of worker-heavy, without gRPC or protobuf: what a runner process does with
// one payload. Every entry point takes the job's directory (the payload archive is
// `<job_dir>/payload.tar.gz`), unpacks it into `<job_dir>/payload/`, parses manifest.json,
// applies the call's overrides (capped by SceneLimits), compiles the scene and does the call's
// work; artifacts are written under `<job_dir>/out/`. Nothing here is process-global: the
// render thread (and its warm GL context) comes in through JobEnv, the phase is reported
// through it. Rendering uses the render core (workerpair::heavy::render) directly; this header
// names only its OpenCV-free types (the runner includes it).
// With a CompiledSceneCache and the payload's digest in JobEnv, a payload compiled by an earlier
// job of this process is neither unpacked nor compiled again (the archive need not be there):
// the job runs on a copy of the kept model and of the payload's manifest.
//
//   JobEnv env{&limits, render_thread.get(), [&](std::string_view phase) { ... }, &cancel};
//   WP_ASSIGN_OR_RETURN(SimulateOutput out, RunSimulateJob(job_dir, overrides, env, &sink));
//
// Errors carry an ErrorReason (libs/common/error_reason.h): PAYLOAD_INVALID for a bad archive,
// manifest or scene, PAYLOAD_LIMIT for a limit the payload passed (entries, sizes, njmax, bodies).
// Outcomes of a simulation (success, a failure reason) are results, not errors.
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_JOB_JOB_PIPELINE_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_JOB_JOB_PIPELINE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/scene/scene_limits.h"
#include "services/heavy/core/intake/payload_intake.h"
#include "services/heavy/core/job/compiled_scene_cache.h"
#include "services/heavy/core/render/frame_renderer_cache.h"
#include "services/heavy/core/render/render_thread.h"
#include "services/heavy/core/render/stills.h"
#include "services/heavy/core/scene/scene_loader.h"
#include "services/heavy/core/sim/simulate.h"

namespace workerpair::heavy::job {

// File name of the payload archive inside a job directory.
inline constexpr char kPayloadArchiveName[] = "payload.tar.gz";

struct JobLimits {
  intake::IntakeLimits intake;
  SceneLimits scene;
  // Wall time between progress reports (a call's own interval overrides it).
  absl::Duration progress_interval = absl::Milliseconds(500);
};

// How a job came by its model.
struct SceneUse {
  bool compiled = false;  // unpacked and compiled the payload
  bool reused = false;    // copied a model kept from an earlier job
};

// What a job gets from the process that runs it.
struct JobEnv {
  const JobLimits* limits = nullptr;
  // Null when this process has no GL context: jobs that render fail with UNAVAILABLE.
  render::RenderThread* render_thread = nullptr;
  // Optional: the renderers (a model's MuJoCo render context) kept on that thread across jobs,
  // keyed by payload_sha256, so a repeated job on the same compiled scene makes none.
  render::FrameRendererCache* renderers = nullptr;
  // Told "unpacking", "compiling", "simulating", "rendering", "encoding" as the job goes.
  std::function<void(std::string_view phase)> set_phase;
  // Optional; the job returns CANCELLED soon after it turns true.
  const std::atomic<bool>* cancel = nullptr;
  // Optional: the process's kept models, the payload's SHA-256 (lowercase) that keys them, and
  // where to say how the job got its model.
  CompiledSceneCache* scenes = nullptr;
  std::string payload_sha256;
  SceneUse* scene_use = nullptr;
};

// A finished artifact.
struct Artifact {
  std::string name;
  std::string media_type;
  std::string bytes;
};

// Per-call overrides of the manifest (unset: the manifest's value).
struct SimulateOverrides {
  std::optional<bool> render;
  std::optional<double> duration_s;
  std::optional<double> timestep_s;
  std::optional<std::uint64_t> seed;
  std::optional<int> width;
  std::optional<int> height;
  std::optional<int> fps;
  std::string camera;
  // 0: JobLimits::progress_interval.
  double progress_interval_s = 0;
};

// Where a simulation's progress and artifacts go as they are produced.
class SimulateSink {
 public:
  virtual ~SimulateSink() = default;
  virtual void OnProgress(const sim::SimProgress& progress, std::int64_t frames_rendered) = 0;
  // False stops the job (the call went away).
  virtual bool OnArtifact(const Artifact& artifact) = 0;
};

struct SimulateOutput {
  sim::SimResult result;
  std::int64_t frames_rendered = 0;
  // Names of the artifacts sent, in order. result.json is the runner's to write (a
  // v1::SimulationReport, runner_jobs.cc), after these.
  std::vector<std::string> artifacts;
  // Compiler warnings, manifest adjustments and the run's own warnings.
  std::vector<std::string> warnings;
  // For result.json: the manifest's stress.yield_newtons and its adjustments.
  double yield_newtons = 0;
  std::vector<std::string> adjustments;
};

// Simulate: progress throttled to the interval, the video and heatmaps when rendering, then
// the result (the runner adds result.json from it).
absl::StatusOr<SimulateOutput> RunSimulateJob(const std::filesystem::path& job_dir,
                                              const SimulateOverrides& overrides,
                                              const JobEnv& env, SimulateSink* sink);

// Verify: the runs `run_indices` of a batch, one after the other, each reported as it ends.
struct VerifyParams {
  std::optional<double> jitter_m;
  std::optional<std::uint64_t> base_seed;
  std::optional<double> duration_s;
};
absl::Status RunVerifyRuns(const std::filesystem::path& job_dir, const VerifyParams& params,
                           const std::vector<int>& run_indices, const JobEnv& env,
                           const std::function<void(int index, const sim::SimResult&)>& on_run);

// RenderViews: stills from a camera or a ring of views, after `at_time_s` simulated; each
// still's name is its artifact's file name ("az045_el-35.png").
struct RenderViewsParams {
  render::StillsRequest stills;  // width/height 0: the manifest's size
  double distance_m = 0;
  double at_time_s = 0;
};
absl::StatusOr<std::vector<render::Still>> RunRenderViewsJob(
    const std::filesystem::path& job_dir, RenderViewsParams params, const JobEnv& env);

// BuildScene: compile only.
struct BuildSceneOutput {
  scene::SceneStats stats;
  double compile_ms = 0;
  double total_mass_kg = 0;
  std::string target_body;
  std::vector<std::string> warnings;
  std::string mjcf;  // the generated MJCF, when asked for and the manifest is an assembly
};
absl::StatusOr<BuildSceneOutput> RunBuildSceneJob(const std::filesystem::path& job_dir,
                                                  bool return_mjcf, const JobEnv& env);

}  // namespace workerpair::heavy::job

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_JOB_JOB_PIPELINE_H_
