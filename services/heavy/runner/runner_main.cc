// worker-heavy-runner: one runner process of worker-heavy's pool (runner_pool.h). It is
// exec'ed by worker-heavy with one end of a socketpair as fd 3 and runs one job at a time, as
// long as the parent keeps it; the parent stops a job by killing the process.
//
// Start-up order matters: resource limits, then the sandbox (Landlock is per thread, so it
// comes before any thread exists: EGL/llvmpipe and the render thread start afterwards and
// inherit it; read-only access to the system's libraries and device nodes), then the settings
// from the parent, then the GL context (made once, kept warm for every job), then a warm-up job
// (runner_warmup.h), then a second, narrower Landlock layer (the runner's own directory and
// device nodes only: no system file is readable by a job, not even under /usr), then "ready". Per job: RLIMIT_CPU is set to the CPU time used so far plus
// the job's allowance, the job runs (runner_jobs.h), "done" goes back, and the parent empties
// the job's directory.
//
// The allocation hooks (mju_user_malloc, std::new_handler) are process-wide by nature; they
// only note that an allocation failed and tell the parent at once with a pre-encoded frame (no
// allocation needed), so a job that then crashes is classified as over its memory limit.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <new>
#include <string>

#include <mujoco/mujoco.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "libs/common/error_reason.h"
#include "libs/common/parse_flags.h"
#include "libs/common/str_cat.h"
#include "libs/sandbox/sandbox.h"
#include "services/heavy/core/scene/mujoco_guard.h"
#include "services/heavy/runner/frame_io.h"
#include "services/heavy/runner/runner_jobs.h"
#include "services/heavy/runner/runner_warmup.h"
#include "workerpair/internal/runner.pb.h"

ABSL_FLAG(int, fd, 3, "The socket to worker-heavy.");
ABSL_FLAG(std::string, dir, "", "This runner's private directory (the only one it may write).");
ABSL_FLAG(int, parent_pid, 0, "worker-heavy's pid; the runner exits when it is not the parent.");
ABSL_FLAG(int, nice, 10, "Nice level increment (lower CPU priority than the service).");
ABSL_FLAG(std::uint64_t, memory_mb, 0, "RLIMIT_DATA of the runner, MiB; 0: none.");
ABSL_FLAG(std::uint64_t, file_size_mb, 0, "RLIMIT_FSIZE, MiB; 0: none.");

namespace {

using namespace workerpair;
using namespace workerpair::heavy;

std::atomic<bool> g_memory_exhausted{false};
int g_fd = -1;
std::string* g_memory_frame = nullptr;  // pre-encoded RunnerMessage{memory_exhausted: true}

void NoteAllocationFailure() {
  if (g_memory_exhausted.exchange(true)) return;
  if (g_memory_frame != nullptr) {
    WriteRawFrame(g_fd, g_memory_frame->data(), g_memory_frame->size());
  }
}

// MuJoCo lays its model and data arrays out at 64-byte boundaries from the buffer's start and
// checks the total, so the buffer itself must be 64-byte aligned (as its own allocator does).
void* RunnerMalloc(std::size_t size) {
  constexpr std::size_t kAlign = 64;
  void* pointer = std::aligned_alloc(kAlign, (size + kAlign - 1) / kAlign * kAlign);
  if (pointer == nullptr && size > 0) NoteAllocationFailure();
  return pointer;
}

void RunnerNewHandler() {
  NoteAllocationFailure();
  throw std::bad_alloc();
}

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "worker-heavy-runner: %s\n", why.c_str());
  std::fflush(stderr);
  std::_Exit(2);
}

// RLIMIT_CPU soft limit at the CPU time used so far plus `allowance` seconds.
void LimitJobCpu(std::uint64_t allowance) {
  if (allowance == 0) return;
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const std::uint64_t used = static_cast<std::uint64_t>(usage.ru_utime.tv_sec) +
                             static_cast<std::uint64_t>(usage.ru_stime.tv_sec) + 1;
  rlimit limit{};
  ::getrlimit(RLIMIT_CPU, &limit);
  rlim_t soft = static_cast<rlim_t>(used + allowance);
  if (limit.rlim_max != RLIM_INFINITY && soft > limit.rlim_max) soft = limit.rlim_max;
  limit.rlim_cur = soft;
  ::setrlimit(RLIMIT_CPU, &limit);
}

job::JobLimits LimitsFrom(const internal::RunnerSettings& settings) {
  job::JobLimits limits;
  UnpackLimits& unpack = limits.intake.unpack;
  unpack.max_compressed_bytes = settings.max_compressed_bytes();
  unpack.max_unpacked_bytes = settings.max_unpacked_bytes();
  unpack.max_entries = settings.max_entries();
  unpack.max_file_bytes = settings.max_file_bytes();
  unpack.max_compression_ratio = settings.max_compression_ratio();
  SceneLimits& scene = limits.scene;
  scene.max_njmax = settings.max_njmax();
  scene.max_nconmax = settings.max_nconmax();
  scene.max_bodies = settings.max_bodies();
  scene.max_duration_s = settings.max_duration_s();
  scene.min_timestep_s = settings.min_timestep_s();
  scene.max_timestep_s = settings.max_timestep_s();
  scene.max_width = settings.max_width();
  scene.max_height = settings.max_height();
  scene.max_fps = settings.max_fps();
  if (settings.progress_interval_s() > 0) {
    limits.progress_interval = absl::Seconds(settings.progress_interval_s());
  }
  return limits;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "worker-heavy-runner: runs worker-heavy's jobs in a sandbox; started by worker-heavy "
      "(--fd, --dir), not by hand");
  ParseFlagsHelpOk(argc, argv);  // --help exits 0
  ::signal(SIGPIPE, SIG_IGN);
  g_fd = absl::GetFlag(FLAGS_fd);
  const std::filesystem::path dir = absl::GetFlag(FLAGS_dir);
  if (dir.empty() || !dir.is_absolute()) Die("--dir must be an absolute path");
  // The parent set PR_SET_PDEATHSIG before exec; if it died before that took hold, stop now.
  if (absl::GetFlag(FLAGS_parent_pid) != 0 && ::getppid() != absl::GetFlag(FLAGS_parent_pid)) {
    return 1;
  }
  ::setpriority(PRIO_PROCESS, 0, absl::GetFlag(FLAGS_nice));

  sandbox::ResourceLimits limits;
  limits.data_bytes = absl::GetFlag(FLAGS_memory_mb) << 20;
  limits.file_size_bytes = absl::GetFlag(FLAGS_file_size_mb) << 20;
  limits.open_files = 1024;
  limits.no_core_dumps = true;
  if (absl::Status status = sandbox::ApplyResourceLimits(limits); !status.ok()) {
    Die(StrCat("cannot apply resource limits: ", status.ToString()));
  }
  ::prctl(PR_SET_DUMPABLE, 0);

  sandbox::SandboxPolicy policy;
  policy.read_only = sandbox::SystemReadOnlyPaths();
  policy.read_write = {dir};
  policy.devices = sandbox::SystemDevicePaths();
  policy.deny_network = true;
  policy.deny_exec = true;
  absl::StatusOr<sandbox::SandboxReport> report = sandbox::EnterSandbox(policy);
  if (!report.ok()) Die(StrCat("cannot enter the sandbox: ", report.status().ToString()));

  FrameReader reader(g_fd, 1 << 20);
  internal::RunnerSettings settings;
  absl::StatusOr<bool> got = reader.Read(&settings, absl::InfiniteFuture());
  if (!got.ok() || !*got) return 1;

  internal::RunnerMessage ready;
  ready.mutable_ready()->set_pid(::getpid());
  ready.mutable_ready()->set_sandbox(report->Describe());
  for (const std::string& warning : report->warnings) {
    ready.mutable_ready()->add_sandbox_warnings(warning);
  }
  ready.mutable_ready()->set_landlock(report->landlock);
  ready.mutable_ready()->set_seccomp(report->seccomp);
  std::unique_ptr<render::RenderThread> render_thread;
  if (!settings.no_gl()) {
    absl::StatusOr<std::unique_ptr<render::RenderThread>> started =
        render::RenderThread::Start(render::GlContextOptions{});
    if (started.ok()) {
      render_thread = std::move(*started);
      ready.mutable_ready()->set_gl_renderer(render_thread->RendererName());
      ready.mutable_ready()->set_gl_platform(render_thread->Platform());
    } else {
      ready.mutable_ready()->set_gl_error(std::string(started.status().message()));
    }
  }

  heavy::scene::InstallMujocoHandlers();
  internal::RunnerMessage memory_message;
  memory_message.set_memory_exhausted(true);
  g_memory_frame = new std::string(EncodeFrame(memory_message));
  mju_user_malloc = RunnerMalloc;
  mju_user_free = std::free;
  std::set_new_handler(RunnerNewHandler);

  // Warm up (loads every library a job needs), then drop read access to the system's files:
  // from here on this process (its main thread, where MuJoCo opens what a scene names, and
  // every thread it starts for a job) reads and writes only its own directory and device
  // nodes. Landlock layers stack; this one only narrows the first.
  // The warm-up scene is built in: the default limits, not the replica's, apply to it.
  if (absl::Status warm = WarmUpRunner(dir, job::JobLimits{}, render_thread.get()); !warm.ok()) {
    std::fprintf(stderr, "worker-heavy-runner: warm-up failed: %s\n", warm.ToString().c_str());
    if (render_thread) {
      ready.mutable_ready()->set_gl_error(StrCat("warm-up failed: ", warm.ToString()));
    }
  }
  sandbox::SandboxPolicy job_policy;
  job_policy.read_write = {dir};
  job_policy.devices = sandbox::SystemDevicePaths();
  job_policy.deny_network = true;
  job_policy.deny_exec = true;
  absl::StatusOr<sandbox::SandboxReport> narrowed = sandbox::EnterSandbox(job_policy);
  if (!narrowed.ok()) Die(StrCat("cannot narrow the sandbox: ", narrowed.status().ToString()));
  if (narrowed->landlock) {
    ready.mutable_ready()->set_sandbox(
        StrCat(report->Describe(), "; jobs read only their own directory"));
  }

  RunnerJobContext context;
  context.fd = g_fd;
  context.runner_dir = dir;
  context.limits = LimitsFrom(settings);
  context.artifact_chunk_bytes = settings.artifact_chunk_bytes() > 0
                                     ? static_cast<std::size_t>(settings.artifact_chunk_bytes())
                                     : std::size_t{256} << 10;
  context.render_thread = render_thread.get();
  context.memory_exhausted = &g_memory_exhausted;
  job::CompiledSceneCache scenes(static_cast<int>(std::min<std::uint32_t>(settings.scene_cache_entries(), 64)),
                            settings.scene_cache_bytes());
  context.scenes = &scenes;
  // Each kept model's render context stays with it (at most 2, none when models are not kept);
  // freed on the render thread before that thread ends.
  std::unique_ptr<render::FrameRendererCache> renderers;
  if (render_thread) {
    renderers = std::make_unique<render::FrameRendererCache>(
        *render_thread, static_cast<int>(std::min<std::uint32_t>(settings.scene_cache_entries(), 2)));
    context.renderers = renderers.get();
  }
  context.shared_scene_max_bytes = settings.shared_scene_max_bytes();
  if (!WriteFrame(g_fd, ready).ok()) return 1;

  while (true) {
    internal::JobRequest request;
    got = reader.Read(&request, absl::InfiniteFuture());
    if (!got.ok() || !*got) return 0;  // the parent closed the socket: done
    g_memory_exhausted = false;
    LimitJobCpu(settings.job_cpu_seconds());
    const RunnerJobOutcome outcome = RunRunnerJob(request, context);
    const absl::Status& status = outcome.status;
    internal::RunnerMessage done;
    done.mutable_done()->set_code(static_cast<int>(status.code()));
    done.mutable_done()->set_message(std::string(status.message()));
    done.mutable_done()->set_reason(std::string(ErrorReasonName(ReasonOf(status))));
    done.mutable_done()->set_need_payload(outcome.need_payload);
    done.mutable_done()->set_compiled(outcome.scene_use.compiled);
    done.mutable_done()->set_reused(outcome.scene_use.reused && !outcome.scene_loaded);
    done.mutable_done()->set_loaded(outcome.scene_loaded);
    for (const std::string& digest : scenes.Digests()) {
      done.mutable_done()->add_cached_scenes(digest);
    }
    if (!WriteFrame(g_fd, done).ok()) return 0;
  }
}
