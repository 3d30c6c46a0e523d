// RunnerPool: one runner process per slot, started at boot and kept warm, each running one job
// at a time; a runner that crashed, passed a limit, was cancelled mid-job or ran its N jobs is
// replaced in the background and its slot comes back by itself.
//
// Layout: runner i owns <instance dir>/runner-<i>/ (0700), the only directory its sandbox may
// write; a job's files live in runner-<i>/job-<id>/ while it runs (runner_call.h). When a
// runner is retired its directory is emptied before the replacement starts in it.
//
// One supervisor thread starts every runner (so the runners' PR_SET_PDEATHSIG is tied to a
// thread that lives as long as the pool): at boot all of them, later the replacements, with a
// growing pause after failed starts. Leases are handed out only for ready runners.
//
//   WP_ASSIGN_OR_RETURN(auto pool, RunnerPool::Start(options));
//   pool->WaitAllReady(absl::Now() + absl::Seconds(60));
//   WP_ASSIGN_OR_RETURN(RunnerPool::Lease lease, pool->Acquire(is_cancelled, deadline));
//   ... RunOnRunner(lease, ...) ...          // the lease returns the runner when destroyed
//   lease.Retire(RestartReason::kCrash);     // or: kill it and start a new one
#ifndef WORKERPAIR_SERVICES_HEAVY_RUNNER_RUNNER_POOL_H_
#define WORKERPAIR_SERVICES_HEAVY_RUNNER_RUNNER_POOL_H_

#include <sys/types.h>

#include <array>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/heavy/runner/runner_process.h"
#include "services/heavy/runner/shared_scene_store.h"

namespace workerpair::heavy {

// Why a runner was replaced (Info and /metrics).
enum class RestartReason {
  kCrash = 0,    // died of a signal or exited while running a job
  kMemory,       // passed its memory limit
  kWallTime,     // passed the job's wall-clock limit
  kCpuTime,      // passed the job's CPU-time limit
  kRecycle,      // ran --runner_max_jobs jobs
  kCancel,       // its job was cancelled (caller, deadline, drain) and the runner killed
  kLost,         // killed from outside, or broke the protocol
  kStartFailed,  // could not start (a start attempt failed)
};
inline constexpr int kRestartReasonCount = 8;
// "crash", "memory", "wall_time", "cpu_time", "recycle", "cancel", "lost", "start_failed".
std::string_view RestartReasonName(RestartReason reason);

struct RunnerPoolOptions {
  int runners = 1;
  // The directory the runner-<i> directories go in (the scratch instance directory).
  std::filesystem::path base_dir;
  // Everything but `dir` and `env`, which the pool fills in per runner.
  RunnerLaunch launch;
  // Replace a runner after this many jobs (0: never).
  int max_jobs_per_runner = 0;
  // How long a starting runner may take to be ready.
  absl::Duration start_timeout = absl::Seconds(60);
  // Optional: told each replacement (metrics); called outside the pool's lock, must not block.
  std::function<void(RestartReason)> on_restart;
  // Bytes of compiled scenes kept for the runners (SharedSceneStore), so that a payload is
  // compiled once per replica; 0: none (each runner compiles for itself). Needs the runners'
  // own scene cache (launch.settings.scene_cache_entries > 0).
  std::uint64_t shared_scene_bytes = 0;
};

// One runner, for Info.
struct RunnerSnapshot {
  int index = 0;
  pid_t pid = 0;
  std::string state;  // "starting", "idle", "busy"
  std::string gl_renderer;
  std::uint64_t jobs_run = 0;
  std::uint64_t rss_bytes = 0;  // resident memory now (VmRSS)
  std::vector<std::string> cached_scenes;  // digests of the compiled models it holds
};

struct RunnerPoolStats {
  int runners = 0;
  int alive = 0;  // ready (idle or busy)
  int busy = 0;
  std::array<std::uint64_t, kRestartReasonCount> restarts{};
  // Jobs that compiled their scene, jobs that reused a model their runner held, and jobs that
  // loaded a scene another runner compiled (SharedSceneStore).
  std::uint64_t scene_compiles = 0;
  std::uint64_t scene_reuses = 0;
  std::uint64_t scene_loads = 0;
  SharedSceneStats shared_scenes;
  // From the first runner that reported (all runners share one binary and kernel).
  std::string sandbox;
  std::vector<std::string> sandbox_warnings;
  bool landlock = false;
  bool seccomp = false;
  std::string gl_renderer;
  std::string gl_platform;
  std::string gl_error;
  std::vector<RunnerSnapshot> per_runner;
};

class RunnerPool {
 private:
  struct Slot;

 public:
  // A runner borrowed for one job. Destroying it returns the runner to the pool (or recycles
  // it after max_jobs_per_runner); Retire kills it and has it replaced.
  class Lease {
   public:
    Lease() = default;
    ~Lease();
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    RunnerProcess& process();
    int index() const;
    // The runner's private directory.
    const std::filesystem::path& dir() const;
    // Kills the runner (if still alive), empties its directory and has a new one started.
    void Retire(RestartReason reason);
    // True when the runner reported holding the compiled model of payload `sha256`.
    bool Holds(const std::string& sha256) const;
    // What the runner reported at the end of a job: whether it compiled the scene, reused a
    // model it held or loaded a shared one, and the digests whose models it holds now.
    void NoteScenes(bool compiled, bool reused, bool loaded,
                    std::vector<std::string> cached_scenes);
    // The pool's scenes kept for every runner.
    SharedSceneStore& shared_scenes();
    explicit operator bool() const { return pool_ != nullptr; }

   private:
    friend class RunnerPool;
    Lease(RunnerPool* pool, Slot* slot) : pool_(pool), slot_(slot) {}
    void Reset();
    RunnerPool* pool_ = nullptr;
    Slot* slot_ = nullptr;
  };

  // Creates the runner directories and starts the supervisor, which starts every runner.
  // INTERNAL when a directory cannot be created; INVALID_ARGUMENT for fewer than 1 runner or
  // a missing executable.
  static absl::StatusOr<std::unique_ptr<RunnerPool>> Start(RunnerPoolOptions options);
  // Kills every runner and removes their directories.
  ~RunnerPool();
  RunnerPool(const RunnerPool&) = delete;
  RunnerPool& operator=(const RunnerPool&) = delete;

  // True once every runner is ready, false when `deadline` passed first.
  bool WaitAllReady(absl::Time deadline);

  // A ready, idle runner; waits for one (a slot whose runner is being replaced comes back
  // within the runner's start time). UNAVAILABLE when none is ready by `deadline` (runners
  // failing to start), CANCELLED when `cancelled()` turns true first (polled every 50 ms; the
  // caller substitutes its own reason). Of the idle runners, one that holds the compiled model
  // of `prefer_sha256` comes first, then one holding the fewest models.
  absl::StatusOr<Lease> Acquire(const std::function<bool()>& cancelled, absl::Time deadline,
                                const std::string& prefer_sha256 = {});
  // An idle runner now (the same preference), or nullopt.
  std::optional<Lease> TryAcquire(const std::string& prefer_sha256 = {});

  RunnerPoolStats Stats() const;
  int size() const { return static_cast<int>(slots_.size()); }
  SharedSceneStore& shared_scenes() { return shared_scenes_; }

 private:
  enum class SlotState { kStarting, kIdle, kBusy, kStopped };
  struct Slot {
    int index = 0;
    std::filesystem::path dir;
    SlotState state = SlotState::kStarting;
    std::unique_ptr<RunnerProcess> process;
    std::string gl_renderer;
    std::uint64_t jobs_run = 0;
    // Payload digests whose compiled models the runner holds (its last report).
    std::vector<std::string> cached_scenes;
    int failed_starts = 0;
    absl::Time next_start = absl::InfinitePast();
  };

  explicit RunnerPool(RunnerPoolOptions options)
      : options_(std::move(options)), shared_scenes_(options_.shared_scene_bytes) {}
  void SupervisorLoop();
  void Release(Slot* slot);
  // The idle slot to hand out (see Acquire), or null. Under mu_.
  Slot* PickIdleLocked(const std::string& prefer_sha256);
  void RetireSlot(Slot* slot, RestartReason reason);
  // Removes everything inside `dir` (not `dir` itself).
  static void EmptyDirectory(const std::filesystem::path& dir);

  // Declared before shared_scenes_, which is sized from it.
  const RunnerPoolOptions options_;
  SharedSceneStore shared_scenes_;
  std::vector<std::unique_ptr<Slot>> slots_;
  mutable std::mutex mu_;
  std::condition_variable changed_cv_;     // a slot's state changed
  std::condition_variable supervisor_cv_;  // a slot needs starting, or stopping
  bool stopping_ = false;
  std::array<std::uint64_t, kRestartReasonCount> restarts_{};
  std::uint64_t scene_compiles_ = 0;
  std::uint64_t scene_reuses_ = 0;
  std::uint64_t scene_loads_ = 0;
  internal::RunnerReady first_ready_;
  bool have_ready_ = false;
  std::thread supervisor_;
};

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_RUNNER_RUNNER_POOL_H_
