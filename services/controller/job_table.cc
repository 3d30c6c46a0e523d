#include "services/controller/job_table.h"

#include <algorithm>
#include <cstdio>
#include <random>

#include "libs/common/error_reason.h"
#include "libs/common/str_cat.h"

namespace workerpair::controller {

namespace {

int RunningOf(const std::map<std::string, int>& running, const std::string& caller) {
  auto it = running.find(caller);
  return it == running.end() ? 0 : it->second;
}

std::uint64_t LastStartOf(const std::map<std::string, std::uint64_t>& starts,
                          const std::string& caller) {
  auto it = starts.find(caller);
  return it == starts.end() ? 0 : it->second;
}

// Callers remembered for round-robin; beyond this the idle ones are forgotten.
constexpr std::size_t kMaxRememberedCallers = 4096;

}  // namespace

bool Finished(JobState state) {
  return state == JobState::kSucceeded || state == JobState::kFailed ||
         state == JobState::kCancelled;
}

struct JobTable::Job {
  std::string id;
  std::string kind;
  std::string caller;
  JobPriority priority = JobPriority::kNormal;
  JobState state = JobState::kQueued;
  absl::Time submitted_at;
  absl::Time wait_deadline = absl::InfiniteFuture();  // while queued
  absl::Time started_at = absl::InfinitePast();
  absl::Time finished_at = absl::InfinitePast();
  absl::Status status;
  std::any result;
  JobWork work;
  std::deque<JobProgressLine> lines;  // the last max_events_kept
  std::uint64_t next_sequence = 0;
  bool cancel_requested = false;
  bool waiting = false;  // running, but waiting for capacity (JobControl::SetWaiting)
  Cancellation cancellation;
  std::uint64_t next_hook = 0;
  std::map<std::uint64_t, std::function<void()>> cancel_hooks;
};

// The running job's side of the table; every call takes the table's lock.
class JobTable::Control : public JobControl {
 public:
  Control(JobTable& table, std::shared_ptr<Job> job) : table_(table), job_(std::move(job)) {}

  void Report(JobProgressLine line) override {
    std::lock_guard lock(table_.mu_);
    line.sequence = job_->next_sequence++;
    line.at = absl::Now();
    job_->lines.push_back(std::move(line));
    while (job_->lines.size() > table_.options_.max_events_kept) job_->lines.pop_front();
    table_.changed_.notify_all();
  }

  bool cancelled() const override {
    std::lock_guard lock(table_.mu_);
    return job_->cancel_requested;
  }

  std::shared_ptr<void> OnCancel(std::function<void()> on_cancel) override {
    std::unique_lock lock(table_.mu_);
    if (job_->cancel_requested) {
      lock.unlock();
      on_cancel();
      return nullptr;
    }
    const std::uint64_t key = job_->next_hook++;
    job_->cancel_hooks[key] = std::move(on_cancel);
    // Dropping the registration removes the hook (under the lock, so it never runs after).
    JobTable* table = &table_;
    std::shared_ptr<Job> job = job_;
    return std::shared_ptr<void>(nullptr, [table, job, key](void*) {
      std::lock_guard relock(table->mu_);
      job->cancel_hooks.erase(key);
    });
  }

  Cancellation& cancellation() override { return job_->cancellation; }

  void SetWaiting(bool waiting) override {
    std::lock_guard lock(table_.mu_);
    if (job_->state != JobState::kRunning || job_->waiting == waiting) return;
    job_->waiting = waiting;
    table_.ChangeDemandLocked(job_->kind, waiting ? 1 : -1, waiting ? -1 : 1);
  }

 private:
  JobTable& table_;
  std::shared_ptr<Job> job_;
};

JobTable::JobTable(JobTableOptions options) : options_(std::move(options)) {
  id_salt_ = (static_cast<std::uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  const std::size_t workers = std::max<std::size_t>(1, options_.max_running);
  for (std::size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  expiry_ = std::thread([this] { ExpiryLoop(); });
}

JobTable::~JobTable() {
  Drain();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  expiry_wake_.notify_all();
  for (std::thread& worker : workers_) worker.join();
  expiry_.join();
}

void JobTable::ChangeDemandLocked(const std::string& kind, int waiting, int running) {
  JobDemand& demand = demand_[kind];
  demand.waiting = static_cast<std::uint32_t>(static_cast<int>(demand.waiting) + waiting);
  demand.running = static_cast<std::uint32_t>(static_cast<int>(demand.running) + running);
  if (options_.on_demand) options_.on_demand(kind, demand);
}

std::map<std::string, JobDemand> JobTable::Demand() {
  std::lock_guard lock(mu_);
  return demand_;
}

void JobTable::ExpiryLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    absl::Time next = absl::InfiniteFuture();
    for (const auto& job : queue_) next = std::min(next, job->wait_deadline);
    if (next == absl::InfiniteFuture()) {
      expiry_wake_.wait(lock);
    } else {
      expiry_wake_.wait_until(lock, absl::ToChronoTime(next));
    }
    const absl::Time now = absl::Now();
    for (auto it = queue_.begin(); it != queue_.end();) {
      std::shared_ptr<Job> job = *it;
      if (job->wait_deadline > now) {
        ++it;
        continue;
      }
      it = queue_.erase(it);
      --stats_.queued;
      ChangeDemandLocked(job->kind, -1, 0);
      FinishLocked(*job, JobState::kFailed,
                   WithReason(absl::ResourceExhaustedError(StrCat(
                                  "the job waited ",
                                  absl::FormatDuration(absl::Trunc(now - job->submitted_at,
                                                                   absl::Milliseconds(100))),
                                  " in the controller's queue, its wait limit, without "
                                  "starting; submit it again later or to another controller")),
                              ErrorReason::kReplicaFull),
                   {});
    }
  }
}

std::string JobTable::NewIdLocked() {
  // Unguessable enough that one caller does not stumble on another's jobs by counting, and
  // unique within the process.
  std::mt19937_64 mix(id_salt_ + next_id_++);
  char text[40];
  std::snprintf(text, sizeof(text), "job-%016llx", static_cast<unsigned long long>(mix()));
  return text;
}

absl::StatusOr<JobSnapshot> JobTable::Submit(std::string kind, std::string caller,
                                             JobPriority priority, JobWork work,
                                             absl::Duration max_wait) {
  if (caller.size() > options_.max_caller_bytes) {
    return absl::InvalidArgumentError(StrCat("caller name is ", caller.size(),
                                             " bytes; at most ", options_.max_caller_bytes));
  }
  std::lock_guard lock(mu_);
  const absl::Time now = absl::Now();
  PruneLocked(now);
  if (draining_) {
    ++stats_.rejected_total;
    if (options_.on_outcome) options_.on_outcome(kind, "draining");
    return WithReason(absl::UnavailableError(
                          "this controller is shutting down and takes no new job; submit it to "
                          "another controller replica"),
                      ErrorReason::kReplicaDraining);
  }
  if (queue_.size() >= options_.max_queued) {
    ++stats_.rejected_total;
    if (options_.on_outcome) options_.on_outcome(kind, "queue_full");
    return WithReason(
        absl::ResourceExhaustedError(StrCat(
            "the controller's job queue is full (", queue_.size(), " jobs waiting, ",
            options_.max_queued, " at most, ", stats_.running, " running); retry in a few "
            "seconds")),
        ErrorReason::kReplicaFull);
  }
  auto job = std::make_shared<Job>();
  do {
    job->id = NewIdLocked();
  } while (jobs_.count(job->id) > 0);
  job->kind = std::move(kind);
  job->caller = std::move(caller);
  job->priority = priority;
  job->submitted_at = now;
  const absl::Duration wait = max_wait == absl::InfiniteDuration() ? options_.default_max_wait
                                                                     : max_wait;
  if (wait != absl::InfiniteDuration()) job->wait_deadline = now + wait;
  job->work = std::move(work);
  jobs_[job->id] = job;
  queue_.push_back(job);
  ++stats_.submitted_total;
  ++stats_.queued;
  ChangeDemandLocked(job->kind, 1, 0);
  JobSnapshot snapshot = SnapshotLocked(*job);
  work_ready_.notify_one();
  if (job->wait_deadline != absl::InfiniteFuture()) expiry_wake_.notify_one();
  return snapshot;
}

std::shared_ptr<JobTable::Job> JobTable::TakeNextLocked() {
  auto best = queue_.end();
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    if (best == queue_.end()) {
      best = it;
      continue;
    }
    const Job& a = **it;
    const Job& b = **best;
    if (a.priority != b.priority) {
      if (a.priority == JobPriority::kHigh) best = it;
      continue;
    }
    // Same priority: the caller with fewer jobs running, then the one served longest ago;
    // the queue order breaks ties.
    const int running_a = RunningOf(running_by_caller_, a.caller);
    const int running_b = RunningOf(running_by_caller_, b.caller);
    if (running_a != running_b) {
      if (running_a < running_b) best = it;
      continue;
    }
    if (LastStartOf(last_start_by_caller_, a.caller) < LastStartOf(last_start_by_caller_, b.caller)) {
      best = it;
    }
  }
  if (best == queue_.end()) return nullptr;
  std::shared_ptr<Job> job = *best;
  queue_.erase(best);
  return job;
}

void JobTable::WorkerLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    work_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping and nothing left (Drain emptied it)
    std::shared_ptr<Job> job = TakeNextLocked();
    --stats_.queued;
    ++stats_.running;
    ChangeDemandLocked(job->kind, -1, 1);
    ++running_by_caller_[job->caller];
    if (last_start_by_caller_.size() >= kMaxRememberedCallers) {
      for (auto it = last_start_by_caller_.begin(); it != last_start_by_caller_.end();) {
        it = running_by_caller_.count(it->first) ? std::next(it) : last_start_by_caller_.erase(it);
      }
    }
    last_start_by_caller_[job->caller] = ++starts_;
    job->state = JobState::kRunning;
    job->started_at = absl::Now();
    changed_.notify_all();
    JobWork work = std::move(job->work);
    lock.unlock();
    Control control(*this, job);
    JobOutcome outcome;
    try {
      outcome = work(control);
    } catch (const std::exception& e) {
      outcome.status = absl::InternalError(StrCat("the job failed with an exception: ", e.what()));
    }
    work = nullptr;
    lock.lock();
    --stats_.running;
    ChangeDemandLocked(job->kind, job->waiting ? -1 : 0, job->waiting ? 0 : -1);
    job->waiting = false;
    if (--running_by_caller_[job->caller] == 0) running_by_caller_.erase(job->caller);
    if (job->cancel_requested) {
      FinishLocked(*job, JobState::kCancelled,
                   outcome.status.ok() || absl::IsCancelled(outcome.status)
                       ? absl::CancelledError("the job was cancelled while it ran")
                       : outcome.status,
                   std::move(outcome.result));
    } else {
      const JobState state = outcome.status.ok() ? JobState::kSucceeded : JobState::kFailed;
      FinishLocked(*job, state, outcome.status, std::move(outcome.result));
    }
  }
}

void JobTable::FinishLocked(Job& job, JobState state, absl::Status status, std::any result) {
  job.state = state;
  job.status = std::move(status);
  job.result = std::move(result);
  job.finished_at = absl::Now();
  job.cancel_hooks.clear();
  job.work = nullptr;
  switch (state) {
    case JobState::kSucceeded: ++stats_.succeeded_total; break;
    case JobState::kFailed: ++stats_.failed_total; break;
    case JobState::kCancelled: ++stats_.cancelled_total; break;
    default: break;
  }
  if (options_.on_outcome) {
    options_.on_outcome(job.kind, state == JobState::kSucceeded ? "succeeded"
                                  : state == JobState::kFailed  ? "failed"
                                                                : "cancelled");
  }
  finished_.push_back(jobs_.at(job.id));
  PruneLocked(job.finished_at);
  changed_.notify_all();
}

void JobTable::PruneLocked(absl::Time now) {
  while (!finished_.empty() && (finished_.size() > options_.max_finished ||
                                now - finished_.front()->finished_at > options_.retention)) {
    jobs_.erase(finished_.front()->id);
    finished_.pop_front();
  }
}

JobSnapshot JobTable::SnapshotLocked(const Job& job) const {
  JobSnapshot snapshot;
  snapshot.id = job.id;
  snapshot.kind = job.kind;
  snapshot.caller = job.caller;
  snapshot.priority = job.priority;
  snapshot.state = job.state;
  snapshot.submitted_at = job.submitted_at;
  snapshot.started_at = job.started_at;
  snapshot.finished_at = job.finished_at;
  snapshot.status = job.status;
  snapshot.result = job.result;
  snapshot.progress_events = job.next_sequence;
  if (job.state == JobState::kQueued) {
    // Jobs that run before it: every queued one of a higher priority, and the earlier ones of
    // its own (fairness between callers may still reorder those).
    std::uint32_t ahead = 0;
    bool before = true;
    for (const auto& other : queue_) {
      if (other.get() == &job) {
        before = false;
        continue;
      }
      if (other->priority > job.priority || (before && other->priority == job.priority)) ++ahead;
    }
    snapshot.queue_position = ahead;
  }
  return snapshot;
}

absl::StatusOr<JobSnapshot> JobTable::Get(const std::string& id) {
  std::lock_guard lock(mu_);
  PruneLocked(absl::Now());
  auto it = jobs_.find(id);
  if (it == jobs_.end()) {
    return absl::NotFoundError(StrCat("no job '", id, "' in this controller (finished jobs are "
                                      "kept for a while, nothing survives a restart)"));
  }
  return SnapshotLocked(*it->second);
}

absl::StatusOr<JobSnapshot> JobTable::Cancel(const std::string& id) {
  std::vector<std::function<void()>> hooks;
  std::shared_ptr<Job> to_cancel;
  JobSnapshot snapshot;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return absl::NotFoundError(StrCat("no job '", id, "' in this controller"));
    Job& job = *it->second;
    if (job.state == JobState::kQueued) {
      queue_.erase(std::find(queue_.begin(), queue_.end(), it->second));
      --stats_.queued;
      ChangeDemandLocked(job.kind, -1, 0);
      FinishLocked(job, JobState::kCancelled,
                   absl::CancelledError("the job was cancelled before it started"), {});
    } else if (job.state == JobState::kRunning && !job.cancel_requested) {
      job.cancel_requested = true;
      to_cancel = it->second;
      for (auto& [key, hook] : job.cancel_hooks) hooks.push_back(hook);
    }
    snapshot = SnapshotLocked(job);
  }
  // Outside the lock: a hook may cancel a gRPC call whose callbacks report progress.
  for (auto& hook : hooks) hook();
  if (to_cancel) to_cancel->cancellation.Cancel();
  return snapshot;
}

std::vector<JobSnapshot> JobTable::List(std::size_t limit, const std::string& caller) {
  std::lock_guard lock(mu_);
  PruneLocked(absl::Now());
  std::vector<const Job*> all;
  for (const auto& [id, job] : jobs_) {
    if (caller.empty() || job->caller == caller) all.push_back(job.get());
  }
  std::sort(all.begin(), all.end(), [](const Job* a, const Job* b) {
    return a->submitted_at != b->submitted_at ? a->submitted_at > b->submitted_at : a->id < b->id;
  });
  if (all.size() > limit) all.resize(limit);
  std::vector<JobSnapshot> snapshots;
  for (const Job* job : all) {
    snapshots.push_back(SnapshotLocked(*job));
    snapshots.back().result.reset();
  }
  return snapshots;
}

absl::StatusOr<JobWatch> JobTable::Watch(const std::string& id, std::uint64_t from_sequence,
                                         absl::Time deadline) {
  std::unique_lock lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return absl::NotFoundError(StrCat("no job '", id, "' in this controller"));
  std::shared_ptr<Job> job = it->second;  // kept even if pruned meanwhile
  changed_.wait_until(lock, absl::ToChronoTime(deadline), [&] {
    return Finished(job->state) || job->next_sequence > from_sequence;
  });
  JobWatch watch;
  for (const JobProgressLine& line : job->lines) {
    if (line.sequence >= from_sequence) watch.lines.push_back(line);
  }
  if (Finished(job->state)) watch.finished = SnapshotLocked(*job);
  return watch;
}

void JobTable::Drain() {
  std::lock_guard lock(mu_);
  draining_ = true;
  while (!queue_.empty()) {
    std::shared_ptr<Job> job = queue_.front();
    queue_.pop_front();
    --stats_.queued;
    ChangeDemandLocked(job->kind, -1, 0);
    FinishLocked(*job, JobState::kFailed,
                 WithReason(absl::UnavailableError(
                                "the controller shut down before the job started; submit it "
                                "again (to another controller replica)"),
                            ErrorReason::kReplicaDraining),
                 {});
  }
}

std::size_t JobTable::CancelRunning() {
  std::vector<std::string> running;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, job] : jobs_) {
      if (job->state == JobState::kRunning) running.push_back(id);
    }
  }
  for (const std::string& id : running) Cancel(id).IgnoreError();
  return running.size();
}

bool JobTable::WaitIdle(absl::Time deadline) {
  std::unique_lock lock(mu_);
  return changed_.wait_until(lock, absl::ToChronoTime(deadline),
                             [this] { return stats_.running == 0 && queue_.empty(); });
}

JobStats JobTable::Stats() {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace workerpair::controller
