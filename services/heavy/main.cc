// worker-heavy: stateless payload -> MuJoCo scene -> simulation, verify, stills, over gRPC.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "absl/flags/flag.h"
#include "libs/rpc/process_flags.h"
#include "libs/rpc/server_runner.h"
#include "services/heavy/heavy_metrics.h"
#include "services/heavy/core/admission/scheduler.h"
#include "services/heavy/core/intake/scratch.h"
#include "services/heavy/heavy_service.h"
#include "services/heavy/payload_metrics.h"
#include "services/heavy/runner/runner_pool.h"

ABSL_FLAG(int, slots, 0,
          "Jobs run at once; 0 means one per CPU (env WORKERPAIR_SLOTS).");
ABSL_FLAG(int, queue, 16,
          "Jobs that may wait for a slot; more are RESOURCE_EXHAUSTED (env WORKERPAIR_QUEUE).");
ABSL_FLAG(std::string, scratch_dir, "",
          "Base of the per-job scratch directories; empty means /tmp/workerpair-heavy-<uid> "
          "(env WORKERPAIR_SCRATCH_DIR).");
ABSL_FLAG(int, max_payload_mb, 256,
          "Largest payload (gzipped tar), in MiB (env WORKERPAIR_MAX_PAYLOAD_MB).");
ABSL_FLAG(int, max_unpacked_mb, 1024,
          "Most bytes a payload may unpack to, in MiB (env WORKERPAIR_MAX_UNPACKED_MB).");
ABSL_FLAG(int, max_entries, 10000,
          "Most entries in a payload archive (env WORKERPAIR_MAX_ENTRIES).");
ABSL_FLAG(int, max_file_mb, 512,
          "Largest single file in a payload, in MiB (env WORKERPAIR_MAX_FILE_MB).");
ABSL_FLAG(double, max_compression_ratio, 200.0,
          "Most unpacked bytes per payload byte (env WORKERPAIR_MAX_COMPRESSION_RATIO).");
ABSL_FLAG(int, max_njmax, 5000, "Scene cap on njmax (env WORKERPAIR_MAX_NJMAX).");
ABSL_FLAG(int, max_nconmax, 2000, "Scene cap on nconmax (env WORKERPAIR_MAX_NCONMAX).");
ABSL_FLAG(int, max_bodies, 500, "Scene cap on bodies (env WORKERPAIR_MAX_BODIES).");
ABSL_FLAG(double, max_duration_s, 120.0,
          "Cap on simulated seconds per run (env WORKERPAIR_MAX_DURATION_S).");
ABSL_FLAG(int, max_width, 1920, "Cap on video/image width (env WORKERPAIR_MAX_WIDTH).");
ABSL_FLAG(int, max_height, 1080, "Cap on video/image height (env WORKERPAIR_MAX_HEIGHT).");
ABSL_FLAG(int, max_fps, 60, "Cap on video frame rate (env WORKERPAIR_MAX_FPS).");
ABSL_FLAG(int, max_verify_runs, 64, "Most runs one Verify may ask for (env WORKERPAIR_MAX_VERIFY_RUNS).");
ABSL_FLAG(std::string, runner_path, "",
          "The worker-heavy-runner executable; empty: the one beside this binary "
          "(env WORKERPAIR_RUNNER_PATH).");
ABSL_FLAG(bool, require_gpu_renderer, false,
          "Never report ready (health NOT_SERVING for workerpair.v1.HeavyService) when the runners came "
          "up without a GPU renderer (none, or Mesa's llvmpipe/softpipe): a GPU pod that lost "
          "its GPU stays out of the pool instead of rendering 50x slower "
          "(env WORKERPAIR_REQUIRE_GPU_RENDERER).");
ABSL_FLAG(int, job_memory_mb, 3072,
          "Memory one job (its runner process) may use, MiB (RLIMIT_DATA); a job past it ends "
          "RESOURCE_EXHAUSTED JOB_MEMORY_LIMIT (env WORKERPAIR_JOB_MEMORY_MB).");
ABSL_FLAG(int, max_job_wall_s, 300,
          "Wall-clock seconds one job may run before its runner is killed (DEADLINE_EXCEEDED "
          "JOB_TIME_LIMIT); keep it within --shutdown_grace (env WORKERPAIR_MAX_JOB_WALL_S).");
ABSL_FLAG(int, max_job_cpu_s, 600,
          "CPU seconds one job may use (RLIMIT_CPU, rendering threads included) "
          "(env WORKERPAIR_MAX_JOB_CPU_S).");
ABSL_FLAG(int, job_max_file_mb, 2048,
          "Largest file a job may write, MiB (RLIMIT_FSIZE) (env WORKERPAIR_JOB_MAX_FILE_MB).");
ABSL_FLAG(int, runner_nice, 10,
          "Nice increment of the runner processes, so the service's own threads (health, Info) "
          "and a co-located worker-light stay responsive (env WORKERPAIR_RUNNER_NICE).");
ABSL_FLAG(int, runner_max_jobs, 200,
          "Replace a runner process after this many jobs; 0: never (env WORKERPAIR_RUNNER_MAX_JOBS).");
ABSL_FLAG(int, runner_start_timeout_s, 60,
          "How long a runner may take to start (sandbox, GL context) "
          "(env WORKERPAIR_RUNNER_START_TIMEOUT_S).");
ABSL_FLAG(bool, runner_gl, true,
          "Give every runner a warm GL context; false: runners never render "
          "(env WORKERPAIR_RUNNER_GL).");
ABSL_FLAG(int, heartbeat_interval_ms, 2000,
          "Longest silence on a job's event stream: a Heartbeat goes out when no other event did "
          "for this long, queued or running; 0 turns heartbeats off "
          "(env WORKERPAIR_HEARTBEAT_INTERVAL_MS).");
ABSL_FLAG(int, max_upload_memory_mb, 256,
          "Most payload bytes held in memory at once, over all uploads in flight and payloads of "
          "unfinished jobs, in MiB; a new upload beyond it is RESOURCE_EXHAUSTED UPLOADS_BUSY "
          "(env WORKERPAIR_MAX_UPLOAD_MEMORY_MB).");
ABSL_FLAG(int, max_upload_disk_mb, 2048,
          "Most payload bytes held in spill files on the scratch disk at once, in MiB "
          "(env WORKERPAIR_MAX_UPLOAD_DISK_MB).");
ABSL_FLAG(int, upload_spill_mb, 16,
          "A payload declared larger than this (MiB) is received into a scratch file instead of "
          "memory (env WORKERPAIR_UPLOAD_SPILL_MB).");
ABSL_FLAG(int, payload_cache_mb, 256,
          "Payloads kept by SHA-256 so that a caller sends the same payload once "
          "(PayloadInfo.ask_cached), MiB of memory; 0 turns it off (env WORKERPAIR_PAYLOAD_CACHE_MB).");
ABSL_FLAG(int, runner_scene_cache_entries, 4,
          "Compiled models each runner keeps between jobs, by payload SHA-256, so that a repeated "
          "payload is not compiled again; 0 turns it off (env WORKERPAIR_RUNNER_SCENE_CACHE_ENTRIES).");
ABSL_FLAG(int, runner_scene_cache_mb, 256,
          "Most MiB of kept models per runner (counted in its --job_memory_mb) "
          "(env WORKERPAIR_RUNNER_SCENE_CACHE_MB).");
ABSL_FLAG(int, shared_scene_cache_mb, 128,
          "MiB of compiled models worker-heavy keeps for its runners by payload SHA-256, so that "
          "a payload is compiled once per replica, not once per runner; 0 turns it off "
          "(env WORKERPAIR_SHARED_SCENE_CACHE_MB).");
ABSL_FLAG(int, upload_idle_timeout_s, 30,
          "An upload that receives no message for this long is ended with DEADLINE_EXCEEDED and "
          "its bytes freed; 0 turns it off (env WORKERPAIR_UPLOAD_IDLE_TIMEOUT_S).");

namespace {

workerpair::heavy::HeavyConfig ConfigFromFlags() {
  workerpair::heavy::HeavyConfig config;
  workerpair::UnpackLimits& unpack = config.intake.unpack;
  unpack.max_compressed_bytes = static_cast<std::uint64_t>(absl::GetFlag(FLAGS_max_payload_mb)) << 20;
  unpack.max_unpacked_bytes = static_cast<std::uint64_t>(absl::GetFlag(FLAGS_max_unpacked_mb)) << 20;
  unpack.max_entries = static_cast<std::uint32_t>(absl::GetFlag(FLAGS_max_entries));
  unpack.max_file_bytes = static_cast<std::uint64_t>(absl::GetFlag(FLAGS_max_file_mb)) << 20;
  unpack.max_compression_ratio = absl::GetFlag(FLAGS_max_compression_ratio);
  workerpair::SceneLimits& scene = config.scene;
  scene.max_njmax = absl::GetFlag(FLAGS_max_njmax);
  scene.max_nconmax = absl::GetFlag(FLAGS_max_nconmax);
  scene.max_bodies = absl::GetFlag(FLAGS_max_bodies);
  scene.max_duration_s = absl::GetFlag(FLAGS_max_duration_s);
  scene.max_width = absl::GetFlag(FLAGS_max_width);
  scene.max_height = absl::GetFlag(FLAGS_max_height);
  scene.max_fps = absl::GetFlag(FLAGS_max_fps);
  config.max_verify_runs = absl::GetFlag(FLAGS_max_verify_runs);
  config.job_limits.max_wall = absl::Seconds(std::max(1, absl::GetFlag(FLAGS_max_job_wall_s)));
  config.job_limits.memory_bytes =
      static_cast<std::uint64_t>(std::max(0, absl::GetFlag(FLAGS_job_memory_mb))) << 20;
  config.job_limits.cpu_seconds =
      static_cast<std::uint64_t>(std::max(0, absl::GetFlag(FLAGS_max_job_cpu_s)));
  config.runner_wait = absl::Seconds(std::max(1, absl::GetFlag(FLAGS_runner_start_timeout_s)));
  config.heartbeat_interval =
      absl::Milliseconds(std::max(0, absl::GetFlag(FLAGS_heartbeat_interval_ms)));
  workerpair::heavy::intake::UploadLimits& uploads = config.intake.uploads;
  uploads.max_memory_bytes =
      static_cast<std::uint64_t>(std::max(0, absl::GetFlag(FLAGS_max_upload_memory_mb))) << 20;
  uploads.max_disk_bytes =
      static_cast<std::uint64_t>(std::max(0, absl::GetFlag(FLAGS_max_upload_disk_mb))) << 20;
  uploads.spill_threshold_bytes =
      static_cast<std::uint64_t>(std::max(0, absl::GetFlag(FLAGS_upload_spill_mb))) << 20;
  uploads.idle_timeout = absl::Seconds(std::max(0, absl::GetFlag(FLAGS_upload_idle_timeout_s)));
  config.payload_cache_bytes =
      static_cast<std::uint64_t>(std::max(0, absl::GetFlag(FLAGS_payload_cache_mb))) << 20;
  return config;
}

// The runner pool's options from the flags: one runner per slot, in the scratch instance.
workerpair::heavy::RunnerPoolOptions RunnerPoolOptionsFromFlags(
    const workerpair::heavy::HeavyConfig& config, int slots,
    const workerpair::heavy::intake::ScratchSpace& scratch) {
  namespace fs = std::filesystem;
  workerpair::heavy::RunnerPoolOptions options;
  options.runners = slots;
  options.base_dir = scratch.instance_dir();
  std::string path = absl::GetFlag(FLAGS_runner_path);
  if (path.empty()) {
    std::error_code ec;
    path = (fs::read_symlink("/proc/self/exe", ec).parent_path() / "worker-heavy-runner").string();
  }
  options.launch.executable = path;
  options.launch.nice = absl::GetFlag(FLAGS_runner_nice);
  options.launch.memory_mb = static_cast<std::uint64_t>(std::max(0, absl::GetFlag(FLAGS_job_memory_mb)));
  options.launch.file_size_mb =
      static_cast<std::uint64_t>(std::max(0, absl::GetFlag(FLAGS_job_max_file_mb)));
  workerpair::internal::RunnerSettings& settings = options.launch.settings;
  const workerpair::UnpackLimits& unpack = config.intake.unpack;
  settings.set_max_compressed_bytes(unpack.max_compressed_bytes);
  settings.set_max_unpacked_bytes(unpack.max_unpacked_bytes);
  settings.set_max_entries(unpack.max_entries);
  settings.set_max_file_bytes(unpack.max_file_bytes);
  settings.set_max_compression_ratio(unpack.max_compression_ratio);
  const workerpair::SceneLimits& scene = config.scene;
  settings.set_max_njmax(scene.max_njmax);
  settings.set_max_nconmax(scene.max_nconmax);
  settings.set_max_bodies(scene.max_bodies);
  settings.set_max_duration_s(scene.max_duration_s);
  settings.set_min_timestep_s(scene.min_timestep_s);
  settings.set_max_timestep_s(scene.max_timestep_s);
  settings.set_max_width(scene.max_width);
  settings.set_max_height(scene.max_height);
  settings.set_max_fps(scene.max_fps);
  settings.set_artifact_chunk_bytes(config.artifact_chunk_bytes);
  settings.set_progress_interval_s(absl::ToDoubleSeconds(config.progress_interval));
  settings.set_job_cpu_seconds(config.job_limits.cpu_seconds);
  settings.set_no_gl(!absl::GetFlag(FLAGS_runner_gl));
  settings.set_scene_cache_entries(
      static_cast<std::uint32_t>(std::max(0, absl::GetFlag(FLAGS_runner_scene_cache_entries))));
  settings.set_scene_cache_bytes(
      static_cast<std::uint64_t>(std::max(0, absl::GetFlag(FLAGS_runner_scene_cache_mb))) << 20);
  options.max_jobs_per_runner = std::max(0, absl::GetFlag(FLAGS_runner_max_jobs));
  options.start_timeout = absl::Seconds(std::max(1, absl::GetFlag(FLAGS_runner_start_timeout_s)));
  options.on_restart = workerpair::heavy::RecordRunnerRestart;
  options.shared_scene_bytes =
      static_cast<std::uint64_t>(std::max(0, absl::GetFlag(FLAGS_shared_scene_cache_mb))) << 20;
  return options;
}

// Waits for every runner to be warm and says what they run with, loudly where the sandbox or
// the renderer is missing. False when a GPU renderer is required and the runners have none.
bool ReportRunners(workerpair::heavy::RunnerPool& runners, absl::Time deadline) {
  if (!runners.WaitAllReady(deadline)) {
    spdlog::error("not every runner process started in time; jobs wait for the rest");
  }
  const workerpair::heavy::RunnerPoolStats stats = runners.Stats();
  spdlog::info("{} of {} runner(s) ready; sandbox: {}", stats.alive, stats.runners, stats.sandbox);
  if (!stats.landlock || !stats.seccomp) {
    spdlog::critical("RUNNERS ARE NOT FULLY SANDBOXED ({}): a payload may reach files or the "
                     "network outside its job",
                     stats.sandbox);
  }
  for (const std::string& warning : stats.sandbox_warnings) spdlog::warn("sandbox: {}", warning);
  if (!stats.gl_renderer.empty()) {
    spdlog::info("runners render with {} ({})", stats.gl_renderer, stats.gl_platform);
  } else if (!stats.gl_error.empty()) {
    spdlog::warn("runners have no renderer: {}; jobs that render will fail", stats.gl_error);
  }
  if (absl::GetFlag(FLAGS_require_gpu_renderer) &&
      !workerpair::heavy::IsGpuRenderer(stats.gl_renderer)) {
    spdlog::critical(
        "NO GPU RENDERER ({}) and --require_gpu_renderer is set: this replica reports "
        "NOT_SERVING, so no pool routes jobs to it; check the pod's nvidia.com/gpu and the NVIDIA EGL driver",
        stats.gl_renderer.empty() ? stats.gl_error : stats.gl_renderer);
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace workerpair;
  BlockTerminationSignals();
  InitProcess(argc, argv,
              "worker-heavy: stateless simulation and rendering of payload scenes over gRPC.\n"
              "Usage: worker-heavy [--listen=HOST:PORT] [--slots=N] [--queue=M] [flags]");

  const heavy::HeavyConfig config = ConfigFromFlags();
  std::string scratch_base = absl::GetFlag(FLAGS_scratch_dir);
  if (scratch_base.empty()) scratch_base = heavy::intake::DefaultScratchBase().string();
  heavy::intake::SweepReport swept;
  auto scratch = heavy::intake::ScratchSpace::Open(scratch_base, &swept);
  if (!scratch.ok()) {
    spdlog::critical("cannot open the scratch directory: {}", scratch.status().ToString());
    return EXIT_FAILURE;
  }
  if (swept.instances_removed > 0) {
    spdlog::warn("removed scratch left by {} crashed process(es)", swept.instances_removed);
  }

  // One runner process per slot, all warm (sandboxed, GL context made) before serving.
  const int slots = absl::GetFlag(FLAGS_slots) > 0 ? absl::GetFlag(FLAGS_slots)
                                                    : heavy::admission::DefaultSlots();
  absl::StatusOr<std::unique_ptr<heavy::RunnerPool>> runners =
      heavy::RunnerPool::Start(RunnerPoolOptionsFromFlags(config, slots, **scratch));
  if (!runners.ok()) {
    spdlog::critical("cannot start the runner processes: {}", runners.status().ToString());
    return EXIT_FAILURE;
  }
  const bool renderer_ok = ReportRunners(
      **runners, absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_runner_start_timeout_s)));

  heavy::admission::Scheduler scheduler({.slots = slots,
                                         .queue_capacity = absl::GetFlag(FLAGS_queue),
                                         .on_job_end = heavy::RecordJobEnd});
  heavy::RegisterSchedulerMetrics(&scheduler);
  heavy::RegisterRunnerMetrics(runners->get());
  heavy::HeavyService service(&scheduler, scratch->get(), runners->get(), &config);
  heavy::RegisterUploadMetrics(&service.uploads());
  heavy::RegisterPayloadCacheMetrics(&service.payloads());

  ServerRunner runner(ServerOptionsFromFlags("worker-heavy"));
  runner.AddService(&service, v1::HeavyService::service_full_name());
  if (absl::Status status = runner.Start(); !status.ok()) {
    spdlog::critical("{}", status.ToString());
    return EXIT_FAILURE;
  }
  // Liveness ("") stays SERVING: restarting the pod would not bring a GPU back.
  if (!renderer_ok) runner.SetServicesServing(false);
    spdlog::info("{} slot(s), queue of {}, scratch in {}", scheduler.slots(),
               absl::GetFlag(FLAGS_queue), (*scratch)->instance_dir().string());
  runner.RunUntilSignal([&](absl::Time deadline) { service.Drain(deadline); });
  return EXIT_SUCCESS;
}
