// Scheduler: admission control and the worker threads that run worker-heavy's jobs.
//
// At most `slots` jobs run at once, each on one of the scheduler's own threads (never a gRPC
// thread); up to `queue_capacity` more wait in a FIFO queue; beyond that Submit refuses with
// RESOURCE_EXHAUSTED, reason REPLICA_FULL, so the caller can try another replica. Jobs can be
// cancelled while queued or running; Drain stops admitting (UNAVAILABLE, reason
// REPLICA_DRAINING), lets running jobs finish until a deadline, then cancels the rest with
// UNAVAILABLE (REPLICA_DRAINING). Reasons: libs/common/error_reason.h.
//
//   Scheduler scheduler({.slots = 4, .queue_capacity = 8});
//   JobSpec spec;
//   spec.kind = "simulate";
//   spec.run = [](JobContext& job) -> absl::Status {
//     while (!job.cancelled()) { ...step...; }
//     return job.cancelled() ? job.cancel_reason() : absl::OkStatus();
//   };
//   spec.abandon = [](absl::Status why) { /* never started: tell the caller */ };
//   WP_ASSIGN_OR_RETURN(std::shared_ptr<JobHandle> handle, scheduler.Submit(std::move(spec)));
//   handle->Cancel(absl::CancelledError("caller went away"));
//
// Exactly one of `run` and `abandon` is called for every admitted job.
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_ADMISSION_SCHEDULER_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_ADMISSION_SCHEDULER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace workerpair::heavy::admission {

struct SchedulerOptions {
  // Jobs running at once; 0 means DefaultSlots().
  int slots = 0;
  // Jobs waiting for a slot at most; 0 means no queue (refuse when every slot is busy).
  int queue_capacity = 16;
  // Optional: called after every job that ran, with its kind, status and run time (not the
  // time queued), outside the scheduler's lock; for metrics. Must not block.
  std::function<void(const std::string& kind, const absl::Status& status,
                     absl::Duration ran_for)>
      on_job_end;
};

// One slot per online CPU (at least 1).
int DefaultSlots();

class Scheduler;
class JobState;

// What a running job sees: its id, whether it has been cancelled, and extra slots to borrow.
class JobContext {
 public:
  const std::string& id() const;
  // True once the job was cancelled (by its caller, its deadline or a drain).
  bool cancelled() const;
  // A flag that turns true on cancellation, for cores that poll an atomic.
  const std::atomic<bool>& cancel_flag() const;
  // Why the job was cancelled (CANCELLED, DEADLINE_EXCEEDED, UNAVAILABLE on drain, or the
  // status passed to Cancel); OK while not cancelled.
  absl::Status cancel_reason() const;
  // Time the job waited in the queue.
  absl::Duration queued_for() const;
  // JobSpec::request_id.
  const std::string& request_id() const;
  // What the job is doing now ("unpacking", "compiling", "simulating", "rendering",
  // "encoding", "sending"), for heartbeats and Info. Thread-safe.
  void SetWorkPhase(std::string phase);

  // Borrows up to `max_extra` idle slots for parallel work (Verify), only while no job is
  // queued, so queued jobs keep priority. The slots count as running until the returned object
  // is destroyed. Returns how many were granted through ExtraSlots::count().
  class ExtraSlots {
   public:
    ExtraSlots() = default;
    ~ExtraSlots();
    ExtraSlots(ExtraSlots&& other) noexcept;
    ExtraSlots& operator=(ExtraSlots&& other) noexcept;
    int count() const { return count_; }

   private:
    friend class JobContext;
    ExtraSlots(Scheduler* scheduler, int count) : scheduler_(scheduler), count_(count) {}
    Scheduler* scheduler_ = nullptr;
    int count_ = 0;
  };
  ExtraSlots TryBorrowSlots(int max_extra);

 private:
  friend class Scheduler;
  JobContext(Scheduler* scheduler, std::shared_ptr<JobState> state)
      : scheduler_(scheduler), state_(std::move(state)) {}
  Scheduler* scheduler_;
  std::shared_ptr<JobState> state_;
};

// A job to admit.
struct JobSpec {
  // What kind of job, for Info ("simulate", "verify", ...).
  std::string kind;
  // The caller's request id (logs, result.json); JobContext::request_id().
  std::string request_id;
  // Runs on a scheduler thread once a slot is free. Its status feeds the counters (OK:
  // succeeded; CANCELLED/DEADLINE_EXCEEDED/UNAVAILABLE after cancellation: cancelled; else
  // failed). Poll JobContext::cancelled() and return soon after it turns true.
  std::function<absl::Status(JobContext&)> run;
  // Called instead of `run` when the job never starts: cancelled while queued (with the
  // cancellation status) or dropped by a drain (UNAVAILABLE). Called on the cancelling thread,
  // outside the scheduler's lock.
  std::function<void(absl::Status)> abandon;
  // Optional: called with `run`'s status after the job's slot is free again (outside the
  // scheduler's lock, on the scheduler thread), so that a caller told "done" here can submit
  // its next job at once. Not called for abandoned jobs.
  std::function<void(absl::Status)> on_finished;
  // Optional: called with the job's new 1-based queue position whenever it moves forward.
  // Called outside the scheduler's lock, possibly on a scheduler thread; must not block.
  std::function<void(int)> on_queue_position;
  // Optional: called with the previous and the new phase when the running job changes it
  // (JobContext::SetWorkPhase; "" before the first), on the job's thread; for per-phase logs.
  std::function<void(const std::string& previous, const std::string& next)> on_work_phase;
};

// The caller's handle on an admitted job.
class JobHandle {
 public:
  const std::string& id() const;
  // 0 when running, finished or about to start on a free slot; else the 1-based queue position.
  int queue_position() const;
  // The phase the running job last set with JobContext::SetWorkPhase; "queued" while queued,
  // "starting" before the job set one. Thread-safe.
  std::string work_phase() const;
  // The queue position when Submit admitted the job (0: it started at once).
  int admitted_position() const { return admitted_position_; }
  // Cancels the job: a queued job is removed and its `abandon` called with `reason`; a running
  // job sees cancelled() turn true. No effect once the job finished. Thread-safe, idempotent.
  void Cancel(absl::Status reason);

 private:
  friend class Scheduler;
  JobHandle(Scheduler* scheduler, std::shared_ptr<JobState> state, int admitted_position)
      : scheduler_(scheduler), state_(std::move(state)), admitted_position_(admitted_position) {}
  Scheduler* scheduler_;
  std::shared_ptr<JobState> state_;
  int admitted_position_;
};

// A queued or running job, for Info.
struct JobSnapshot {
  std::string id;
  std::string kind;
  bool running = false;
  absl::Duration age;
};

// Counters and gauges for Info and /metrics.
struct SchedulerStats {
  int slots = 0;
  int running = 0;  // slots in use, borrowed ones included
  int queued = 0;
  int queue_capacity = 0;
  bool draining = false;
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;
  std::uint64_t cancelled = 0;
};

class Scheduler {
 public:
  explicit Scheduler(SchedulerOptions options);
  // Drains with an immediate deadline and joins the worker threads.
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Admits a job: it starts at once when a slot is free, else it is queued.
  // RESOURCE_EXHAUSTED (REPLICA_FULL) when every slot is busy and the queue is full;
  // UNAVAILABLE (REPLICA_DRAINING) once draining. INVALID_ARGUMENT when `run` or `abandon` is missing.
  absl::StatusOr<std::shared_ptr<JobHandle>> Submit(JobSpec spec);

  // A cheap early check before a payload travels: OK when Submit would admit a job now
  // (Submit may still refuse later), else the refusal Submit would give, which is counted as
  // a rejection.
  absl::Status CheckCapacity();

  // Stops admitting (Submit: UNAVAILABLE), abandons queued jobs with UNAVAILABLE, waits for
  // running jobs until `deadline`, then cancels the rest with UNAVAILABLE and waits (up to
  // `cancel_wait`) for them to return. Returns the number of jobs that had to be cancelled.
  int Drain(absl::Time deadline, absl::Duration cancel_wait = absl::Seconds(5));

  // Blocks until no job is running or queued, or `deadline`. True when idle.
  bool WaitIdle(absl::Time deadline);

  SchedulerStats Stats() const;
  std::vector<JobSnapshot> Jobs() const;
  int slots() const { return slots_; }

 private:
  friend class JobContext;
  friend class JobHandle;

  void WorkerLoop();
  void Cancel(const std::shared_ptr<JobState>& state, absl::Status reason);
  int QueuePosition(const JobState& state) const;
  // Under mu_: slots neither running nor borrowed.
  int FreeSlotsLocked() const;
  // Under mu_: the effective 1-based wait position of queue_[index]; 0 when a free slot will
  // take it at once.
  int PositionLocked(std::size_t index) const;
  // Under mu_: OK, or why Submit would refuse now.
  absl::Status AdmissibleLocked() const;
  // Under mu_: notifies queued jobs of their new positions (collected, called unlocked).
  std::vector<std::pair<std::function<void(int)>, int>> CollectPositionsLocked();
  static void NotifyPositions(std::vector<std::pair<std::function<void(int)>, int>> updates);
  int BorrowSlots(int max_extra);
  void ReturnSlots(int count);

  const int slots_;
  const int queue_capacity_;
  const std::function<void(const std::string&, const absl::Status&, absl::Duration)> on_job_end_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;   // workers: a job is queued, or stopping
  std::condition_variable idle_cv_;   // Drain/WaitIdle: a job finished
  std::deque<std::shared_ptr<JobState>> queue_;
  std::vector<std::shared_ptr<JobState>> running_;
  int borrowed_ = 0;
  bool draining_ = false;
  bool stopping_ = false;
  std::uint64_t next_id_ = 1;
  std::uint64_t accepted_ = 0;
  std::uint64_t rejected_ = 0;
  std::uint64_t succeeded_ = 0;
  std::uint64_t failed_ = 0;
  std::uint64_t cancelled_ = 0;
  std::vector<std::thread> workers_;
};

}  // namespace workerpair::heavy::admission

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_ADMISSION_SCHEDULER_H_
