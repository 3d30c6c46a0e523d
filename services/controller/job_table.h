// JobTable: the controller service's jobs, in memory (no gRPC in it).
//
// A job is a function run on one of `max_running` worker threads. Submit returns at once with
// the job's id; jobs beyond the running ones wait in a bounded queue (RESOURCE_EXHAUSTED when
// it is full). The next job to run: the highest priority first; within a priority, the oldest
// job of the caller with the fewest jobs running now (so one caller flooding the queue cannot
// starve another: the other's next job goes first as soon as a worker frees up). A job keeps
// its last `max_events_kept` progress lines for watchers that re-attach by id.
// Fairness, precisely: among the queued jobs of the highest priority, the next one belongs to
// the caller with the fewest jobs running; among those callers, the one whose last job started
// longest ago (or never); its oldest queued job goes.
//
// Wait limit: a job still queued when its wait limit passes (Submit's `max_wait`, else
// `default_max_wait`) fails RESOURCE_EXHAUSTED with REPLICA_FULL (retryable: the controller was
// too busy, the job never started).
//
// Demand: each kind's jobs waiting for capacity (queued, or running but waiting for a heavy
// slot: JobControl::SetWaiting) and running; `on_demand` hears every change (metrics).
//
// Finished jobs are kept `retention` and at most `max_finished` of them (the oldest go first),
// then Get answers NOT_FOUND. Nothing survives the process.
//
// Cancel: a queued job is cancelled at once; a running job is told (JobControl::cancelled()
// turns true, its Cancellation fires and its on-cancel callbacks run, e.g. to cancel the heavy
// attempt's gRPC call) and ends CANCELLED when its function returns.
//
// Thread-safe.
//
//   JobTable jobs({.max_running = 4, .max_queued = 256});
//   auto job = jobs.Submit("simulation", "agent-7", JobPriority::kNormal,
//                          [](JobControl& control) -> JobOutcome { ... });
//   auto watch = jobs.Watch(job->id, 0, absl::Now() + absl::Seconds(1));
#ifndef WORKERPAIR_SERVICES_CONTROLLER_JOB_TABLE_H_
#define WORKERPAIR_SERVICES_CONTROLLER_JOB_TABLE_H_

#include <any>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/controller/core/cancellation.h"

namespace workerpair::controller {

// One kind's jobs that wait for capacity and that run.
struct JobDemand {
  std::uint32_t waiting = 0;
  std::uint32_t running = 0;
};

struct JobTableOptions {
  std::size_t max_running = 4;     // jobs running at once (worker threads)
  std::size_t max_queued = 256;    // jobs waiting; more are refused
  std::size_t max_finished = 1000; // finished jobs kept
  absl::Duration retention = absl::Hours(1);  // how long a finished job is kept
  std::size_t max_events_kept = 1000;         // progress lines kept per job
  std::size_t max_caller_bytes = 128;         // longest caller name
  // How long a job may stay queued when Submit gives no limit.
  absl::Duration default_max_wait = absl::InfiniteDuration();
  // Called under the table's lock after a kind's demand changed; keep it short (set a gauge).
  std::function<void(const std::string& kind, const JobDemand& demand)> on_demand;
  // Called under the lock once per job that finished (state) or was refused ("queue_full",
  // "draining").
  std::function<void(const std::string& kind, std::string_view outcome)> on_outcome;
};

enum class JobState { kQueued, kRunning, kSucceeded, kFailed, kCancelled };
enum class JobPriority { kNormal, kHigh };

bool Finished(JobState state);

struct JobProgressLine {
  std::uint64_t sequence = 0;  // set by the table
  std::string step;
  std::string replica;
  int attempt = 0;
  std::string line;
  absl::Time at;  // set by the table
};

// How a job's function ended: OK, or its error; `result` is kept either way (a failed flow still
// has its report).
struct JobOutcome {
  absl::Status status;
  std::any result;
};

// What a running job's function gets.
class JobControl {
 public:
  virtual ~JobControl() = default;
  virtual void Report(JobProgressLine line) = 0;
  virtual bool cancelled() const = 0;
  // Runs `on_cancel` when the job is cancelled (at once if it already is) until the returned
  // registration is dropped. Keep the callback short: it runs under Cancel().
  virtual std::shared_ptr<void> OnCancel(std::function<void()> on_cancel) = 0;
  // The job's cancellation, for library calls that take one (HeavyClient).
  virtual Cancellation& cancellation() = 0;
  // The job waits for capacity (true) or works (false): counted as waiting or running demand.
  virtual void SetWaiting(bool waiting) = 0;
};

using JobWork = std::function<JobOutcome(JobControl&)>;

struct JobSnapshot {
  std::string id;
  std::string kind;
  std::string caller;
  JobPriority priority = JobPriority::kNormal;
  JobState state = JobState::kQueued;
  absl::Time submitted_at = absl::InfinitePast();
  absl::Time started_at = absl::InfinitePast();
  absl::Time finished_at = absl::InfinitePast();
  absl::Status status;  // the outcome once finished
  std::any result;
  std::uint64_t progress_events = 0;
  std::uint32_t queue_position = 0;  // jobs that run before it while queued
};

struct JobWatch {
  std::vector<JobProgressLine> lines;  // after the asked sequence, in order
  std::optional<JobSnapshot> finished; // set once the job finished and every line was sent
};

struct JobStats {
  std::uint32_t queued = 0;
  std::uint32_t running = 0;
  std::uint64_t submitted_total = 0;
  std::uint64_t succeeded_total = 0;
  std::uint64_t failed_total = 0;
  std::uint64_t cancelled_total = 0;
  std::uint64_t rejected_total = 0;
};

class JobTable {
 public:
  explicit JobTable(JobTableOptions options);
  // Drains, then waits for the running jobs to return.
  ~JobTable();
  JobTable(const JobTable&) = delete;
  JobTable& operator=(const JobTable&) = delete;

  // RESOURCE_EXHAUSTED when the queue is full; UNAVAILABLE once draining; INVALID_ARGUMENT for
  // a caller name over the limit.
  // `max_wait`: how long it may stay queued (InfiniteDuration: the table's default).
  absl::StatusOr<JobSnapshot> Submit(std::string kind, std::string caller, JobPriority priority,
                                     JobWork work,
                                     absl::Duration max_wait = absl::InfiniteDuration());
  // NOT_FOUND for an unknown (or dropped) id.
  absl::StatusOr<JobSnapshot> Get(const std::string& id);
  absl::StatusOr<JobSnapshot> Cancel(const std::string& id);
  // Newest first; `caller` empty: everyone's.
  std::vector<JobSnapshot> List(std::size_t limit, const std::string& caller);
  // Waits until the job has lines after `from_sequence`, has finished, or `deadline` passes.
  absl::StatusOr<JobWatch> Watch(const std::string& id, std::uint64_t from_sequence,
                                 absl::Time deadline);
  // Refuses new jobs and fails the queued ones with UNAVAILABLE; running ones go on.
  void Drain();
  // Cancels every running job (the end of a drain's grace); returns how many.
  std::size_t CancelRunning();
  // Waits until nothing runs or `deadline` passes; true when nothing runs.
  bool WaitIdle(absl::Time deadline);
  JobStats Stats();
  // Demand per kind (kinds seen so far).
  std::map<std::string, JobDemand> Demand();
  const JobTableOptions& options() const { return options_; }

 private:
  struct Job;
  class Control;

  void WorkerLoop();
  // Fails queued jobs whose wait limit passed.
  void ExpiryLoop();
  // Updates the kind's demand counts by the deltas and tells on_demand. mu_ held.
  void ChangeDemandLocked(const std::string& kind, int waiting, int running);
  // The next queued job to run, removed from the queue; null when none. mu_ held.
  std::shared_ptr<Job> TakeNextLocked();
  void FinishLocked(Job& job, JobState state, absl::Status status, std::any result);
  void PruneLocked(absl::Time now);
  JobSnapshot SnapshotLocked(const Job& job) const;
  std::string NewIdLocked();

  const JobTableOptions options_;
  std::mutex mu_;
  std::condition_variable work_ready_;   // a job was queued, or stopping
  std::condition_variable changed_;      // any job's lines or state changed
  std::condition_variable expiry_wake_;  // a job with a wait limit was queued, or stopping
  std::map<std::string, JobDemand> demand_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  std::deque<std::shared_ptr<Job>> queue_;     // in submission order
  std::deque<std::shared_ptr<Job>> finished_;  // in finishing order
  std::map<std::string, int> running_by_caller_;
  // When each caller's last job started (a start counter), for round-robin between callers.
  std::map<std::string, std::uint64_t> last_start_by_caller_;
  std::uint64_t starts_ = 0;
  JobStats stats_;
  bool draining_ = false;
  bool stopping_ = false;
  std::uint64_t next_id_ = 0;
  std::uint64_t id_salt_ = 0;
  std::vector<std::thread> workers_;
  std::thread expiry_;
};

}  // namespace workerpair::controller

#endif  // WORKERPAIR_SERVICES_CONTROLLER_JOB_TABLE_H_
