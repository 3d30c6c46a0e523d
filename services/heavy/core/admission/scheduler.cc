#include "services/heavy/core/admission/scheduler.h"

#include <algorithm>
#include <random>
#include <utility>

#include "libs/common/error_reason.h"
#include "libs/common/str_cat.h"

namespace workerpair::heavy::admission {

// Shared between the scheduler, the job's handle and the running job's context.
class JobState {
 public:
  std::string id;
  std::string kind;
  std::string request_id;
  std::function<absl::Status(JobContext&)> run;
  std::function<void(absl::Status)> abandon;
  std::function<void(int)> on_queue_position;
  std::function<void(absl::Status)> on_finished;
  std::function<void(const std::string&, const std::string&)> on_work_phase;
  absl::Time admitted_at;
  absl::Time started_at;

  // Guarded by Scheduler::mu_.
  enum class Phase { kQueued, kRunning, kDone } phase = Phase::kQueued;
  int last_position = 0;

  std::atomic<bool> cancelled{false};
  mutable std::mutex reason_mu;
  absl::Status reason;  // guarded by reason_mu

  // Sets the cancellation reason once; returns true for the first call.
  bool MarkCancelled(absl::Status why) {
    std::lock_guard<std::mutex> lock(reason_mu);
    if (cancelled.load()) return false;
    reason = std::move(why);
    cancelled.store(true);
    return true;
  }
  absl::Status Reason() const {
    std::lock_guard<std::mutex> lock(reason_mu);
    return reason;
  }

  mutable std::mutex work_phase_mu;
  std::string work_phase;  // guarded by work_phase_mu; "" until the job reports one
};

namespace {

std::string NewJobId(std::uint64_t sequence) {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string suffix;
  std::uint64_t bits = random();
  for (int i = 0; i < 8; ++i, bits >>= 4) suffix.push_back(kHex[bits & 0xf]);
  return StrCat("job-", sequence, "-", suffix);
}

bool IsCancellation(const absl::Status& status) {
  return absl::IsCancelled(status) || absl::IsDeadlineExceeded(status) ||
         absl::IsUnavailable(status);
}

}  // namespace

int DefaultSlots() {
  const unsigned cpus = std::thread::hardware_concurrency();
  return cpus == 0 ? 1 : static_cast<int>(cpus);
}

// ---------------------------------------------------------------------------------------------
// JobContext

const std::string& JobContext::id() const { return state_->id; }
bool JobContext::cancelled() const { return state_->cancelled.load(); }
const std::atomic<bool>& JobContext::cancel_flag() const { return state_->cancelled; }
absl::Status JobContext::cancel_reason() const { return state_->Reason(); }
void JobContext::SetWorkPhase(std::string phase) {
  std::string previous;
  {
    std::lock_guard<std::mutex> lock(state_->work_phase_mu);
    if (state_->work_phase == phase) return;
    previous = std::exchange(state_->work_phase, phase);
  }
  if (state_->on_work_phase) state_->on_work_phase(previous, phase);
}
const std::string& JobContext::request_id() const { return state_->request_id; }
absl::Duration JobContext::queued_for() const {
  return state_->started_at - state_->admitted_at;
}

JobContext::ExtraSlots JobContext::TryBorrowSlots(int max_extra) {
  if (max_extra <= 0 || cancelled()) return ExtraSlots();
  return ExtraSlots(scheduler_, scheduler_->BorrowSlots(max_extra));
}

JobContext::ExtraSlots::~ExtraSlots() {
  if (scheduler_ != nullptr && count_ > 0) scheduler_->ReturnSlots(count_);
}

JobContext::ExtraSlots::ExtraSlots(ExtraSlots&& other) noexcept
    : scheduler_(other.scheduler_), count_(other.count_) {
  other.scheduler_ = nullptr;
  other.count_ = 0;
}

JobContext::ExtraSlots& JobContext::ExtraSlots::operator=(ExtraSlots&& other) noexcept {
  if (this != &other) {
    if (scheduler_ != nullptr && count_ > 0) scheduler_->ReturnSlots(count_);
    scheduler_ = other.scheduler_;
    count_ = other.count_;
    other.scheduler_ = nullptr;
    other.count_ = 0;
  }
  return *this;
}

// ---------------------------------------------------------------------------------------------
// JobHandle

const std::string& JobHandle::id() const { return state_->id; }

int JobHandle::queue_position() const { return scheduler_->QueuePosition(*state_); }
std::string JobHandle::work_phase() const {
  {
    std::lock_guard<std::mutex> lock(state_->work_phase_mu);
    if (!state_->work_phase.empty()) return state_->work_phase;
  }
  return queue_position() > 0 ? "queued" : "starting";
}

void JobHandle::Cancel(absl::Status reason) { scheduler_->Cancel(state_, std::move(reason)); }

// ---------------------------------------------------------------------------------------------
// Scheduler

Scheduler::Scheduler(SchedulerOptions options)
    : slots_(options.slots > 0 ? options.slots : DefaultSlots()),
      queue_capacity_(std::max(0, options.queue_capacity)),
      on_job_end_(std::move(options.on_job_end)) {
  workers_.reserve(slots_);
  for (int i = 0; i < slots_; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

Scheduler::~Scheduler() {
  Drain(absl::Now());
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

int Scheduler::FreeSlotsLocked() const {
  return std::max(0, slots_ - static_cast<int>(running_.size()) - borrowed_);
}

int Scheduler::PositionLocked(std::size_t index) const {
  return std::max(0, static_cast<int>(index) + 1 - FreeSlotsLocked());
}

absl::Status Scheduler::AdmissibleLocked() const {
  if (draining_) {
    return WithReason(absl::UnavailableError("worker-heavy is shutting down; try another replica"),
                      ErrorReason::kReplicaDraining);
  }
  // Jobs in the queue that a free slot will take at once are not waiting.
  const int waiting = std::max(0, static_cast<int>(queue_.size()) - FreeSlotsLocked());
  if (waiting == 0 && FreeSlotsLocked() > static_cast<int>(queue_.size())) {
    return absl::OkStatus();
  }
  if (waiting < queue_capacity_) return absl::OkStatus();
  return WithReason(absl::ResourceExhaustedError(
                        StrCat("all ", slots_, " slots busy and the queue of ", queue_capacity_,
                               " is full; try another replica")),
                    ErrorReason::kReplicaFull);
}

absl::Status Scheduler::CheckCapacity() {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status admissible = AdmissibleLocked();
  if (!admissible.ok()) ++rejected_;
  return admissible;
}

absl::StatusOr<std::shared_ptr<JobHandle>> Scheduler::Submit(JobSpec spec) {
  if (!spec.run || !spec.abandon) {
    return absl::InvalidArgumentError("a job needs both `run` and `abandon`");
  }
  auto state = std::make_shared<JobState>();
  int position = 0;
  state->kind = std::move(spec.kind);
  state->request_id = std::move(spec.request_id);
  state->run = std::move(spec.run);
  state->abandon = std::move(spec.abandon);
  state->on_queue_position = std::move(spec.on_queue_position);
  state->on_finished = std::move(spec.on_finished);
  state->on_work_phase = std::move(spec.on_work_phase);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (absl::Status admissible = AdmissibleLocked(); !admissible.ok()) {
      ++rejected_;
      return admissible;
    }
    state->id = NewJobId(next_id_++);
    state->admitted_at = absl::Now();
    queue_.push_back(state);
    state->last_position = position = PositionLocked(queue_.size() - 1);
    ++accepted_;
  }
  work_cv_.notify_one();
  return std::shared_ptr<JobHandle>(new JobHandle(this, state, position));
}

int Scheduler::QueuePosition(const JobState& state) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (state.phase != JobState::Phase::kQueued) return 0;
  for (std::size_t i = 0; i < queue_.size(); ++i) {
    if (queue_[i].get() == &state) return PositionLocked(i);
  }
  return 0;
}

std::vector<std::pair<std::function<void(int)>, int>> Scheduler::CollectPositionsLocked() {
  std::vector<std::pair<std::function<void(int)>, int>> updates;
  for (std::size_t i = 0; i < queue_.size(); ++i) {
    JobState& job = *queue_[i];
    const int position = PositionLocked(i);
    // Report only moves forward to a real place in the queue (0 means "starting now").
    if (position > 0 && position < job.last_position) {
      job.last_position = position;
      if (job.on_queue_position) updates.emplace_back(job.on_queue_position, position);
    }
  }
  return updates;
}

void Scheduler::NotifyPositions(std::vector<std::pair<std::function<void(int)>, int>> updates) {
  for (auto& [callback, position] : updates) callback(position);
}

void Scheduler::Cancel(const std::shared_ptr<JobState>& state, absl::Status reason) {
  if (reason.ok()) reason = absl::CancelledError("job cancelled");
  bool abandon = false;
  std::vector<std::pair<std::function<void(int)>, int>> updates;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state->phase == JobState::Phase::kDone) return;
    if (!state->MarkCancelled(reason)) return;
    if (state->phase == JobState::Phase::kQueued) {
      auto it = std::find(queue_.begin(), queue_.end(), state);
      if (it != queue_.end()) queue_.erase(it);
      state->phase = JobState::Phase::kDone;
      ++cancelled_;
      abandon = true;
      updates = CollectPositionsLocked();
    }
  }
  if (abandon) {
    // The queue shrank: a worker may now take the next job, and Drain/WaitIdle may be done.
    work_cv_.notify_all();
    idle_cv_.notify_all();
    auto callback = std::move(state->abandon);
    state->run = nullptr;
    callback(std::move(reason));
  }
  NotifyPositions(std::move(updates));
}

void Scheduler::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(lock, [this] {
      return stopping_ ||
             (!queue_.empty() && static_cast<int>(running_.size()) + borrowed_ < slots_);
    });
    if (stopping_ && queue_.empty()) return;
    if (queue_.empty()) continue;
    if (static_cast<int>(running_.size()) + borrowed_ >= slots_) continue;

    std::shared_ptr<JobState> job = queue_.front();
    queue_.pop_front();
    job->phase = JobState::Phase::kRunning;
    job->last_position = 0;
    job->started_at = absl::Now();
    running_.push_back(job);
    auto updates = CollectPositionsLocked();
    lock.unlock();
    NotifyPositions(std::move(updates));

    // Run the job; an exception is a job failure, never the end of the process.
    JobContext context(this, job);
    absl::Status status;
    try {
      status = job->run(context);
    } catch (const std::exception& e) {
      status = absl::InternalError(StrCat("job ", job->id, " threw: ", e.what()));
    } catch (...) {
      status = absl::InternalError(StrCat("job ", job->id, " threw an unknown exception"));
    }
    job->run = nullptr;
    job->abandon = nullptr;
    job->on_queue_position = nullptr;

    lock.lock();
    job->phase = JobState::Phase::kDone;
    running_.erase(std::find(running_.begin(), running_.end(), job));
    if (status.ok()) {
      ++succeeded_;
    } else if (job->cancelled.load() && IsCancellation(status)) {
      ++cancelled_;
    } else {
      ++failed_;
    }
    idle_cv_.notify_all();
    work_cv_.notify_all();
    if (on_job_end_) {
      const absl::Duration ran_for = absl::Now() - job->started_at;
      lock.unlock();
      on_job_end_(job->kind, status, ran_for);
      lock.lock();
    }
    if (job->on_finished) {
      auto on_finished = std::move(job->on_finished);
      job->on_finished = nullptr;
      lock.unlock();
      on_finished(status);
      lock.lock();
    }
  }
}

int Scheduler::BorrowSlots(int max_extra) {
  std::lock_guard<std::mutex> lock(mu_);
  if (draining_ || !queue_.empty()) return 0;
  const int free_slots = slots_ - static_cast<int>(running_.size()) - borrowed_;
  const int granted = std::clamp(free_slots, 0, max_extra);
  borrowed_ += granted;
  return granted;
}

void Scheduler::ReturnSlots(int count) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    borrowed_ -= count;
  }
  work_cv_.notify_all();
  idle_cv_.notify_all();
}

int Scheduler::Drain(absl::Time deadline, absl::Duration cancel_wait) {
  std::deque<std::shared_ptr<JobState>> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    draining_ = true;
    dropped.swap(queue_);
    for (const auto& job : dropped) {
      job->MarkCancelled(WithReason(
          absl::UnavailableError(
              "worker-heavy is shutting down before the job started; try another replica"),
          ErrorReason::kReplicaDraining));
      job->phase = JobState::Phase::kDone;
      ++cancelled_;
    }
  }
  // Hand queued jobs back at once, so their callers can go elsewhere.
  for (const auto& job : dropped) {
    auto callback = std::move(job->abandon);
    job->run = nullptr;
    if (callback) callback(job->Reason());
  }

  // Let running jobs finish within the grace period.
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait_until(lock, absl::ToChronoTime(deadline), [this] { return running_.empty(); });
  if (running_.empty()) return 0;

  // Then cancel what is left; they end with UNAVAILABLE so callers retry elsewhere.
  const int cancelled = static_cast<int>(running_.size());
  for (const auto& job : running_) {
    job->MarkCancelled(WithReason(
        absl::UnavailableError("worker-heavy shut down before the job finished; try another replica"),
        ErrorReason::kReplicaDraining));
  }
  idle_cv_.wait_until(lock, absl::ToChronoTime(absl::Now() + cancel_wait),
                      [this] { return running_.empty(); });
  return cancelled;
}

bool Scheduler::WaitIdle(absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  return idle_cv_.wait_until(lock, absl::ToChronoTime(deadline), [this] {
    return running_.empty() && queue_.empty() && borrowed_ == 0;
  });
}

SchedulerStats Scheduler::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  SchedulerStats stats;
  stats.slots = slots_;
  stats.running = static_cast<int>(running_.size()) + borrowed_;
  stats.queued = static_cast<int>(queue_.size());
  stats.queue_capacity = queue_capacity_;
  stats.draining = draining_;
  stats.accepted = accepted_;
  stats.rejected = rejected_;
  stats.succeeded = succeeded_;
  stats.failed = failed_;
  stats.cancelled = cancelled_;
  return stats;
}

std::vector<JobSnapshot> Scheduler::Jobs() const {
  const absl::Time now = absl::Now();
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<JobSnapshot> jobs;
  for (const auto& job : running_) jobs.push_back({job->id, job->kind, true, now - job->admitted_at});
  for (const auto& job : queue_) jobs.push_back({job->id, job->kind, false, now - job->admitted_at});
  return jobs;
}

}  // namespace workerpair::heavy::admission
