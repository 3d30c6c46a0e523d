#include "services/heavy/runner/runner_pool.h"

#include <sys/stat.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <system_error>
#include <utility>

#include "libs/common/str_cat.h"

namespace workerpair::heavy {
namespace fs = std::filesystem;

std::string_view RestartReasonName(RestartReason reason) {
  switch (reason) {
    case RestartReason::kCrash: return "crash";
    case RestartReason::kMemory: return "memory";
    case RestartReason::kWallTime: return "wall_time";
    case RestartReason::kCpuTime: return "cpu_time";
    case RestartReason::kRecycle: return "recycle";
    case RestartReason::kCancel: return "cancel";
    case RestartReason::kLost: return "lost";
    case RestartReason::kStartFailed: return "start_failed";
  }
  return "unknown";
}

namespace {

// VmRSS of /proc/<pid>/status, bytes; 0 when the process is gone.
std::uint64_t ProcessRssBytes(pid_t pid) {
  std::ifstream in(StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return 0;
}

}  // namespace

// ---- Lease

RunnerPool::Lease::~Lease() { Reset(); }

RunnerPool::Lease::Lease(Lease&& other) noexcept : pool_(other.pool_), slot_(other.slot_) {
  other.pool_ = nullptr;
  other.slot_ = nullptr;
}

RunnerPool::Lease& RunnerPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Reset();
    pool_ = other.pool_;
    slot_ = other.slot_;
    other.pool_ = nullptr;
    other.slot_ = nullptr;
  }
  return *this;
}

void RunnerPool::Lease::Reset() {
  if (pool_ != nullptr) pool_->Release(slot_);
  pool_ = nullptr;
  slot_ = nullptr;
}

RunnerProcess& RunnerPool::Lease::process() { return *slot_->process; }
int RunnerPool::Lease::index() const { return slot_->index; }
const fs::path& RunnerPool::Lease::dir() const { return slot_->dir; }

bool RunnerPool::Lease::Holds(const std::string& sha256) const {
  if (pool_ == nullptr) return false;
  std::lock_guard<std::mutex> lock(pool_->mu_);
  const std::vector<std::string>& held = slot_->cached_scenes;
  return std::find(held.begin(), held.end(), sha256) != held.end();
}

void RunnerPool::Lease::NoteScenes(bool compiled, bool reused, bool loaded,
                                   std::vector<std::string> cached_scenes) {
  if (pool_ == nullptr) return;
  std::lock_guard<std::mutex> lock(pool_->mu_);
  slot_->cached_scenes = std::move(cached_scenes);
  if (compiled) ++pool_->scene_compiles_;
  if (reused) ++pool_->scene_reuses_;
  if (loaded) ++pool_->scene_loads_;
}

SharedSceneStore& RunnerPool::Lease::shared_scenes() { return pool_->shared_scenes_; }

void RunnerPool::Lease::Retire(RestartReason reason) {
  if (pool_ == nullptr) return;
  pool_->RetireSlot(slot_, reason);
  pool_ = nullptr;
  slot_ = nullptr;
}

// ---- Pool

absl::StatusOr<std::unique_ptr<RunnerPool>> RunnerPool::Start(RunnerPoolOptions options) {
  if (options.runners < 1) return absl::InvalidArgumentError("a runner pool needs a runner");
  std::error_code ec;
  if (!fs::is_regular_file(options.launch.executable, ec)) {
    return absl::InvalidArgumentError(
        StrCat("the runner executable ", options.launch.executable.string(), " is missing"));
  }
  // Runners share scenes only when they keep them, and only as large as a frame carries.
  internal::RunnerSettings& settings = options.launch.settings;
  if (settings.scene_cache_entries() == 0 || settings.scene_cache_bytes() == 0) {
    options.shared_scene_bytes = 0;
  }
  const std::uint64_t frame_room =
      options.launch.max_frame_bytes > (2u << 20) ? options.launch.max_frame_bytes - (1u << 20) : 0;
  settings.set_shared_scene_max_bytes(std::min<std::uint64_t>(options.shared_scene_bytes, frame_room));
  if (settings.shared_scene_max_bytes() == 0) options.shared_scene_bytes = 0;
  auto pool = std::unique_ptr<RunnerPool>(new RunnerPool(std::move(options)));
  for (int i = 0; i < pool->options_.runners; ++i) {
    auto slot = std::make_unique<Slot>();
    slot->index = i;
    slot->dir = pool->options_.base_dir / StrCat("runner-", i);
    fs::create_directory(slot->dir, ec);
    if (ec || ::chmod(slot->dir.c_str(), 0700) != 0) {
      return absl::InternalError(StrCat("cannot create runner directory runner-", i));
    }
    EmptyDirectory(slot->dir);
    pool->slots_.push_back(std::move(slot));
  }
  pool->supervisor_ = std::thread([raw = pool.get()] { raw->SupervisorLoop(); });
  return pool;
}

RunnerPool::~RunnerPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  supervisor_cv_.notify_all();
  changed_cv_.notify_all();
  if (supervisor_.joinable()) supervisor_.join();
  for (auto& slot : slots_) {
    slot->process.reset();  // kills and reaps
    std::error_code ec;
    fs::remove_all(slot->dir, ec);
  }
}

void RunnerPool::EmptyDirectory(const fs::path& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ignored;
    fs::remove_all(it->path(), ignored);
  }
}

void RunnerPool::SupervisorLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    const absl::Time now = absl::Now();
    std::vector<Slot*> due;
    absl::Time next = absl::InfiniteFuture();
    for (auto& slot : slots_) {
      if (slot->state != SlotState::kStarting) continue;
      if (slot->next_start <= now) {
        due.push_back(slot.get());
      } else {
        next = std::min(next, slot->next_start);
      }
    }
    if (due.empty()) {
      if (next == absl::InfiniteFuture()) {
        supervisor_cv_.wait(lock);
      } else {
        supervisor_cv_.wait_until(lock, absl::ToChronoTime(next));
      }
      continue;
    }
    lock.unlock();
    // Start them all, then wait for each: they initialise (EGL) in parallel.
    std::vector<std::pair<Slot*, absl::StatusOr<std::unique_ptr<RunnerProcess>>>> started;
    for (Slot* slot : due) {
      RunnerLaunch launch = options_.launch;
      launch.dir = slot->dir;
      launch.env = RunnerEnvironment(slot->dir);
      started.emplace_back(slot, RunnerProcess::Spawn(launch));
    }
    const absl::Time ready_by = absl::Now() + options_.start_timeout;
    std::vector<std::pair<Slot*, absl::StatusOr<internal::RunnerReady>>> readiness;
    for (auto& [slot, process] : started) {
      if (!process.ok()) {
        readiness.emplace_back(slot, process.status());
        continue;
      }
      // In short steps, so that a pool being destroyed does not wait out a slow start.
      absl::StatusOr<internal::RunnerReady> ready = absl::DeadlineExceededError("not started");
      while (true) {
        ready = (*process)->AwaitReady(std::min(ready_by, absl::Now() + absl::Milliseconds(100)));
        if (!absl::IsDeadlineExceeded(ready.status()) || absl::Now() >= ready_by) break;
        std::lock_guard<std::mutex> stop_lock(mu_);
        if (stopping_) break;
      }
      readiness.emplace_back(slot, std::move(ready));
    }
    lock.lock();
    for (std::size_t i = 0; i < started.size(); ++i) {
      Slot* slot = started[i].first;
      absl::StatusOr<internal::RunnerReady>& ready = readiness[i].second;
      if (ready.ok() && !stopping_) {
        slot->process = std::move(*started[i].second);
        slot->state = SlotState::kIdle;
        slot->gl_renderer = ready->gl_renderer();
        slot->failed_starts = 0;
        if (!have_ready_) {
          have_ready_ = true;
          first_ready_ = *ready;
        }
        continue;
      }
      if (stopping_) continue;
      ++slot->failed_starts;
      ++restarts_[static_cast<int>(RestartReason::kStartFailed)];
      const absl::Duration pause =
          std::min(absl::Seconds(30), absl::Milliseconds(500) * (1 << std::min(slot->failed_starts, 6)));
      slot->next_start = absl::Now() + pause;
      spdlog::error("runner {} did not start: {}; trying again in {}", slot->index,
                    ready.status().ToString(), absl::FormatDuration(pause));
      // The failed process (if any) is killed and reaped when `started` goes.
      lock.unlock();
      if (options_.on_restart) options_.on_restart(RestartReason::kStartFailed);
      EmptyDirectory(slot->dir);
      lock.lock();
    }
    changed_cv_.notify_all();
    lock.unlock();
    started.clear();
    lock.lock();
  }
}

bool RunnerPool::WaitAllReady(absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  return changed_cv_.wait_until(lock, absl::ToChronoTime(deadline), [this] {
    return std::all_of(slots_.begin(), slots_.end(),
                       [](const auto& slot) { return slot->state != SlotState::kStarting; });
  });
}

RunnerPool::Slot* RunnerPool::PickIdleLocked(const std::string& prefer_sha256) {
  Slot* best = nullptr;
  for (auto& slot : slots_) {
    if (slot->state != SlotState::kIdle) continue;
    const std::vector<std::string>& held = slot->cached_scenes;
    if (!prefer_sha256.empty() &&
        std::find(held.begin(), held.end(), prefer_sha256) != held.end()) {
      return slot.get();
    }
    if (best == nullptr || held.size() < best->cached_scenes.size()) best = slot.get();
  }
  return best;
}

absl::StatusOr<RunnerPool::Lease> RunnerPool::Acquire(const std::function<bool()>& cancelled,
                                                      absl::Time deadline,
                                                      const std::string& prefer_sha256) {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (stopping_) return absl::UnavailableError("the runner pool is stopping");
    if (Slot* slot = PickIdleLocked(prefer_sha256)) {
      slot->state = SlotState::kBusy;
      return Lease(this, slot);
    }
    if (cancelled && cancelled()) return absl::CancelledError("cancelled while waiting for a runner");
    if (absl::Now() >= deadline) {
      return absl::UnavailableError("no runner process became ready in time on this replica");
    }
    changed_cv_.wait_for(lock, std::chrono::milliseconds(50));
  }
}

std::optional<RunnerPool::Lease> RunnerPool::TryAcquire(const std::string& prefer_sha256) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return std::nullopt;
  if (Slot* slot = PickIdleLocked(prefer_sha256)) {
    slot->state = SlotState::kBusy;
    return Lease(this, slot);
  }
  return std::nullopt;
}

void RunnerPool::Release(Slot* slot) {
  bool recycle = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++slot->jobs_run;
    recycle = options_.max_jobs_per_runner > 0 &&
              slot->jobs_run >= static_cast<std::uint64_t>(options_.max_jobs_per_runner);
    if (!recycle) slot->state = SlotState::kIdle;
  }
  if (recycle) {
    RetireSlot(slot, RestartReason::kRecycle);
    return;
  }
  changed_cv_.notify_all();
}

void RunnerPool::RetireSlot(Slot* slot, RestartReason reason) {
  std::unique_ptr<RunnerProcess> process;
  {
    std::lock_guard<std::mutex> lock(mu_);
    process = std::move(slot->process);
    ++restarts_[static_cast<int>(reason)];
  }
  process.reset();  // SIGKILL and reap
  if (options_.on_restart) options_.on_restart(reason);
  EmptyDirectory(slot->dir);
  {
    std::lock_guard<std::mutex> lock(mu_);
    slot->state = stopping_ ? SlotState::kStopped : SlotState::kStarting;
    slot->jobs_run = 0;
    slot->cached_scenes.clear();  // the models died with the process
    slot->gl_renderer.clear();
    slot->next_start = absl::InfinitePast();
  }
  supervisor_cv_.notify_all();
  changed_cv_.notify_all();
}

RunnerPoolStats RunnerPool::Stats() const {
  RunnerPoolStats stats;
  std::vector<std::pair<RunnerSnapshot, const RunnerProcess*>> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats.runners = static_cast<int>(slots_.size());
    stats.restarts = restarts_;
    stats.scene_compiles = scene_compiles_;
    stats.scene_reuses = scene_reuses_;
    stats.scene_loads = scene_loads_;
    stats.shared_scenes = shared_scenes_.Stats();
    if (have_ready_) {
      stats.sandbox = first_ready_.sandbox();
      stats.sandbox_warnings.assign(first_ready_.sandbox_warnings().begin(),
                                    first_ready_.sandbox_warnings().end());
      stats.landlock = first_ready_.landlock();
      stats.seccomp = first_ready_.seccomp();
      stats.gl_renderer = first_ready_.gl_renderer();
      stats.gl_platform = first_ready_.gl_platform();
      stats.gl_error = first_ready_.gl_error();
    }
    for (const auto& slot : slots_) {
      RunnerSnapshot snapshot;
      snapshot.index = slot->index;
      snapshot.jobs_run = slot->jobs_run;
      snapshot.gl_renderer = slot->gl_renderer;
      snapshot.cached_scenes = slot->cached_scenes;
      switch (slot->state) {
        case SlotState::kIdle:
          snapshot.state = "idle";
          ++stats.alive;
          break;
        case SlotState::kBusy:
          snapshot.state = "busy";
          ++stats.alive;
          ++stats.busy;
          break;
        case SlotState::kStarting:
          snapshot.state = "starting";
          break;
        case SlotState::kStopped:
          snapshot.state = "stopped";
          break;
      }
      if (slot->process && slot->state != SlotState::kStarting) {
        snapshot.pid = slot->process->pid();
      }
      stats.per_runner.push_back(snapshot);
    }
  }
  for (RunnerSnapshot& snapshot : stats.per_runner) {
    if (snapshot.pid > 0) snapshot.rss_bytes = ProcessRssBytes(snapshot.pid);
  }
  return stats;
}

}  // namespace workerpair::heavy
