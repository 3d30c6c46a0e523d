// The controller service's job table: real worker threads, jobs that block on a latch the test
// opens, so every ordering checked is forced by the test, not by timing.
#include <catch2/catch.hpp>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "libs/common/error_reason.h"
#include "services/controller/job_table.h"

using namespace workerpair::controller;

namespace {

// A gate jobs wait at until the test opens it.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  void Open() {
    std::lock_guard lock(mu);
    open = true;
    cv.notify_all();
  }
  void Wait() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return open; });
  }
};

// Records the order in which jobs started.
struct StartLog {
  std::mutex mu;
  std::vector<std::string> started;
  void Add(const std::string& name) {
    std::lock_guard lock(mu);
    started.push_back(name);
  }
};

JobWork Blocking(Gate& gate, StartLog* log = nullptr, std::string name = "") {
  return [&gate, log, name](JobControl& control) -> JobOutcome {
    if (log) log->Add(name);
    control.Report({.step = "test", .line = "started " + name});
    gate.Wait();
    return {};
  };
}

JobSnapshot WaitFinished(JobTable& jobs, const std::string& id) {
  for (;;) {
    auto watch = jobs.Watch(id, 1 << 30, absl::Now() + absl::Seconds(30));
    REQUIRE(watch.ok());
    if (watch->finished) return *watch->finished;
  }
}

void WaitRunning(JobTable& jobs, const std::string& id) {
  auto watch = jobs.Watch(id, 0, absl::Now() + absl::Seconds(30));  // its first line
  REQUIRE(watch.ok());
  REQUIRE_FALSE(watch->lines.empty());
}

}  // namespace

TEST_CASE("A full queue refuses with RESOURCE_EXHAUSTED, the queued jobs run once a worker "
          "frees", "[job_table]") {
  Gate gate;
  JobTable jobs({.max_running = 1, .max_queued = 2});
  auto first = jobs.Submit("test", "a", JobPriority::kNormal, Blocking(gate));
  REQUIRE(first.ok());
  WaitRunning(jobs, first->id);
  auto second = jobs.Submit("test", "a", JobPriority::kNormal, Blocking(gate));
  auto third = jobs.Submit("test", "a", JobPriority::kNormal, Blocking(gate));
  REQUIRE(second.ok());
  REQUIRE(third.ok());
  CHECK(jobs.Get(third->id)->queue_position == 1);
  auto refused = jobs.Submit("test", "a", JobPriority::kNormal, Blocking(gate));
  REQUIRE_FALSE(refused.ok());
  CHECK(absl::IsResourceExhausted(refused.status()));
  CHECK(workerpair::RetryElsewhere(refused.status()));
  CHECK(jobs.Stats().rejected_total == 1);
  gate.Open();
  for (const auto& job : {*first, *second, *third}) {
    CHECK(WaitFinished(jobs, job.id).state == JobState::kSucceeded);
  }
  CHECK(jobs.Stats().succeeded_total == 3);
}

TEST_CASE("A caller flooding the queue does not starve another, HIGH runs before NORMAL",
          "[job_table]") {
  Gate gate;
  StartLog log;
  JobTable jobs({.max_running = 1, .max_queued = 100});
  auto running = jobs.Submit("test", "flood", JobPriority::kNormal, Blocking(gate, &log, "f0"));
  REQUIRE(running.ok());
  WaitRunning(jobs, running->id);
  std::vector<std::string> ids;
  for (int i = 1; i <= 5; ++i) {
    ids.push_back(jobs.Submit("test", "flood", JobPriority::kNormal,
                              Blocking(gate, &log, "f" + std::to_string(i)))->id);
  }
  ids.push_back(jobs.Submit("test", "other", JobPriority::kNormal, Blocking(gate, &log, "o1"))->id);
  ids.push_back(jobs.Submit("test", "late", JobPriority::kHigh, Blocking(gate, &log, "h1"))->id);
  gate.Open();
  for (const std::string& id : ids) WaitFinished(jobs, id);
  REQUIRE(log.started.size() == 8);
  CHECK(log.started[0] == "f0");
  CHECK(log.started[1] == "h1");  // high priority, submitted last
  CHECK(log.started[2] == "o1");  // served before flood's second job
  CHECK(log.started[3] == "f1");
  CHECK(log.started[7] == "f5");
}

TEST_CASE("Cancel: a queued job at once, a running one through its cancel hook", "[job_table]") {
  Gate gate;
  JobTable jobs({.max_running = 1, .max_queued = 10});
  std::atomic<bool> hook_ran{false};
  auto running = jobs.Submit("test", "", JobPriority::kNormal, [&](JobControl& control) {
    Gate stopped;
    auto registration = control.OnCancel([&] {
      hook_ran = true;
      stopped.Open();
    });
    control.Report({.line = "running"});
    stopped.Wait();
    return JobOutcome{absl::CancelledError("stopped"), {}};
  });
  REQUIRE(running.ok());
  WaitRunning(jobs, running->id);
  auto queued = jobs.Submit("test", "", JobPriority::kNormal, Blocking(gate));
  REQUIRE(queued.ok());
  auto cancelled = jobs.Cancel(queued->id);
  REQUIRE(cancelled.ok());
  CHECK(cancelled->state == JobState::kCancelled);
  CHECK(jobs.Cancel(running->id).ok());
  const JobSnapshot done = WaitFinished(jobs, running->id);
  CHECK(hook_ran);
  CHECK(done.state == JobState::kCancelled);
  CHECK(absl::IsCancelled(done.status));
  CHECK(jobs.Stats().cancelled_total == 2);
  CHECK(absl::IsNotFound(jobs.Cancel("job-unknown").status()));
}

TEST_CASE("Drain fails the queued jobs as retryable and refuses new ones, the running one "
          "finishes", "[job_table]") {
  Gate gate;
  JobTable jobs({.max_running = 1, .max_queued = 10});
  auto running = jobs.Submit("test", "", JobPriority::kNormal, Blocking(gate));
  WaitRunning(jobs, running->id);
  auto queued = jobs.Submit("test", "", JobPriority::kNormal, Blocking(gate));
  jobs.Drain();
  auto failed = jobs.Get(queued->id);
  REQUIRE(failed.ok());
  CHECK(failed->state == JobState::kFailed);
  CHECK(absl::IsUnavailable(failed->status));
  CHECK(workerpair::RetryElsewhere(failed->status));
  auto refused = jobs.Submit("test", "", JobPriority::kNormal, Blocking(gate));
  CHECK(absl::IsUnavailable(refused.status()));
  gate.Open();
  CHECK(WaitFinished(jobs, running->id).state == JobState::kSucceeded);
  CHECK(jobs.WaitIdle(absl::Now() + absl::Seconds(30)));
}

TEST_CASE("Finished jobs are kept up to max_finished, then the oldest is dropped, a watcher "
          "re-attaches from a sequence", "[job_table]") {
  JobTable jobs({.max_running = 1, .max_queued = 10, .max_finished = 2});
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto job = jobs.Submit("test", "", JobPriority::kNormal, [i](JobControl& control) {
      for (int line = 0; line < 3; ++line) control.Report({.line = std::to_string(i * 10 + line)});
      return JobOutcome{i == 1 ? absl::InvalidArgumentError("bad") : absl::OkStatus(), i};
    });
    REQUIRE(job.ok());
    ids.push_back(job->id);
    WaitFinished(jobs, job->id);
  }
  CHECK(absl::IsNotFound(jobs.Get(ids[0]).status()));
  auto failed = jobs.Get(ids[1]);
  REQUIRE(failed.ok());
  CHECK(failed->state == JobState::kFailed);
  CHECK(std::any_cast<int>(failed->result) == 1);  // a failed job keeps its result
  auto watch = jobs.Watch(ids[2], 1, absl::Now());
  REQUIRE(watch.ok());
  REQUIRE(watch->lines.size() == 2);
  CHECK(watch->lines[0].sequence == 1);
  CHECK(watch->lines[0].line == "21");
  REQUIRE(watch->finished.has_value());
  CHECK(watch->finished->progress_events == 3);
  std::vector<JobSnapshot> listed = jobs.List(10, "");
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].id == ids[2]);  // newest first
  CHECK(absl::IsInvalidArgument(
      jobs.Submit("test", std::string(200, 'x'), JobPriority::kNormal, [](JobControl&) {
            return JobOutcome{};
          }).status()));
}

TEST_CASE("A job still queued past its wait limit fails retryable, demand counts waiting and "
          "running jobs per kind, a running job that waits for capacity as waiting",
          "[job_table]") {
  std::mutex demand_mu;
  std::map<std::string, JobDemand> seen;  // the last demand on_demand reported, per kind
  JobTableOptions options{.max_running = 1, .max_queued = 8};
  options.on_demand = [&](const std::string& kind, const JobDemand& demand) {
    std::lock_guard lock(demand_mu);
    seen[kind] = demand;
  };
  JobTable jobs(options);
  Gate gate;
  Gate waiting_set;
  Gate leave_waiting;
  auto running = jobs.Submit("simulation", "a", JobPriority::kNormal, [&](JobControl& control) {
    control.Report({.step = "test", .line = "started"});
    control.SetWaiting(true);  // as when the heavy pool is full or empty
    waiting_set.Open();
    leave_waiting.Wait();
    control.SetWaiting(false);
    gate.Wait();
    return JobOutcome{};
  });
  REQUIRE(running.ok());
  waiting_set.Wait();
  auto impatient = jobs.Submit("verify", "b", JobPriority::kNormal, Blocking(gate),
                               absl::Milliseconds(200));
  auto patient = jobs.Submit("verify", "b", JobPriority::kNormal, Blocking(gate));
  REQUIRE(impatient.ok());
  REQUIRE(patient.ok());
  CHECK(jobs.Demand()["simulation"].waiting == 1);
  CHECK(jobs.Demand()["simulation"].running == 0);
  const JobSnapshot expired = WaitFinished(jobs, impatient->id);
  CHECK(expired.state == JobState::kFailed);
  CHECK(absl::IsResourceExhausted(expired.status));
  CHECK(workerpair::RetryElsewhere(expired.status));
  CHECK(expired.started_at == absl::InfinitePast());
  CHECK(jobs.Demand()["verify"].waiting == 1);  // the patient one stays
  leave_waiting.Open();
  for (int i = 0; i < 100 && jobs.Demand()["simulation"].running != 1; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  CHECK(jobs.Demand()["simulation"].running == 1);
  CHECK(jobs.Demand()["simulation"].waiting == 0);
  gate.Open();
  CHECK(WaitFinished(jobs, patient->id).state == JobState::kSucceeded);
  CHECK(WaitFinished(jobs, running->id).state == JobState::kSucceeded);
  std::lock_guard lock(demand_mu);
  CHECK(seen["simulation"].waiting == 0);
  CHECK(seen["simulation"].running == 0);
  CHECK(seen["verify"].waiting == 0);
  CHECK(seen["verify"].running == 0);
}

TEST_CASE("Cancel fires a running job's Cancellation (what cancels its heavy call)",
          "[job_table]") {
  JobTable jobs({.max_running = 1});
  auto running = jobs.Submit("simulation", "", JobPriority::kNormal, [](JobControl& control) {
    control.Report({.step = "test", .line = "started"});
    // Stands for a wait for capacity: a sleep the cancellation ends.
    const bool slept = control.cancellation().SleepFor(absl::Minutes(10));
    return JobOutcome{slept ? absl::OkStatus() : CancelledByCaller(), {}};
  });
  REQUIRE(running.ok());
  WaitRunning(jobs, running->id);
  REQUIRE(jobs.Cancel(running->id).ok());
  const JobSnapshot cancelled = WaitFinished(jobs, running->id);
  CHECK(cancelled.state == JobState::kCancelled);
}
