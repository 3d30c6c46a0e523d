#include "services/heavy/core/admission/scheduler.h"

#include "libs/common/error_reason.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace workerpair::heavy::admission {
namespace {

using namespace std::chrono_literals;

// A latch a job waits on until the test opens it or the job is cancelled.
class Gate {
 public:
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // Waits until open or cancelled; true when opened.
  bool Wait(const JobContext& job) {
    std::unique_lock<std::mutex> lock(mu_);
    while (!open_ && !job.cancelled()) cv_.wait_for(lock, 2ms);
    return open_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Records what happened to each job.
struct Recorder {
  std::atomic<int> started{0};
  std::atomic<int> finished{0};
  std::mutex mu;
  std::vector<absl::Status> abandoned;
  std::vector<absl::Status> run_results;
  std::vector<int> positions;

  JobSpec Spec(Gate* gate) {
    JobSpec spec;
    spec.kind = "test";
    spec.run = [this, gate](JobContext& job) -> absl::Status {
      ++started;
      const bool opened = gate->Wait(job);
      absl::Status result = opened ? absl::OkStatus() : job.cancel_reason();
      {
        std::lock_guard<std::mutex> lock(mu);
        run_results.push_back(result);
      }
      ++finished;
      return result;
    };
    spec.abandon = [this](absl::Status why) {
      std::lock_guard<std::mutex> lock(mu);
      abandoned.push_back(std::move(why));
    };
    spec.on_queue_position = [this](int position) {
      std::lock_guard<std::mutex> lock(mu);
      positions.push_back(position);
    };
    return spec;
  }
};

// Polls `condition` for up to 5 s.
template <typename Condition>
bool Eventually(Condition condition) {
  for (int i = 0; i < 2500; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return condition();
}

TEST_CASE("N running plus a full queue, then the next job is RESOURCE_EXHAUSTED") {
  Gate gate;
  Recorder recorder;
  Scheduler scheduler({.slots = 2, .queue_capacity = 3});
  std::vector<std::shared_ptr<JobHandle>> handles;
  for (int i = 0; i < 5; ++i) {
    auto handle = scheduler.Submit(recorder.Spec(&gate));
    REQUIRE(handle.ok());
    handles.push_back(*handle);
  }
  CHECK(handles[0]->admitted_position() == 0);
  CHECK(handles[1]->admitted_position() == 0);
  CHECK(handles[2]->admitted_position() == 1);
  CHECK(handles[3]->admitted_position() == 2);
  CHECK(handles[4]->admitted_position() == 3);
  REQUIRE(Eventually([&] { return recorder.started == 2; }));

  const absl::Status early = scheduler.CheckCapacity();
  CHECK(early.code() == absl::StatusCode::kResourceExhausted);
  CHECK(ReasonOf(early) == ErrorReason::kReplicaFull);
  auto refused = scheduler.Submit(recorder.Spec(&gate));
  REQUIRE(refused.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(ReasonOf(refused.status()) == ErrorReason::kReplicaFull);
  CHECK(refused.status().message() ==
        "all 2 slots busy and the queue of 3 is full; try another replica");

  SchedulerStats stats = scheduler.Stats();
  CHECK(stats.slots == 2);
  CHECK(stats.running == 2);
  CHECK(stats.queued == 3);
  CHECK(stats.accepted == 5);
  CHECK(stats.rejected == 2);  // the early CheckCapacity refusal counts too
  CHECK(scheduler.Jobs().size() == 5);

  gate.Open();
  REQUIRE(scheduler.WaitIdle(absl::Now() + absl::Seconds(5)));
  CHECK(recorder.finished == 5);
  CHECK(scheduler.Stats().succeeded == 5);
  CHECK(recorder.started == 5);
}

TEST_CASE("Queued jobs are told when they move forward") {
  Gate first_gate, rest_gate;
  Recorder first, rest;
  Scheduler scheduler({.slots = 1, .queue_capacity = 3});
  auto running = scheduler.Submit(first.Spec(&first_gate));
  REQUIRE(running.ok());
  REQUIRE(Eventually([&] { return first.started == 1; }));
  auto a = scheduler.Submit(rest.Spec(&rest_gate));
  auto b = scheduler.Submit(rest.Spec(&rest_gate));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK((*a)->queue_position() == 1);
  CHECK((*b)->queue_position() == 2);

  // The running job ends: a starts, b moves to place 1.
  first_gate.Open();
  REQUIRE(Eventually([&] { return rest.started == 1; }));
  CHECK((*b)->queue_position() == 1);
  {
    std::lock_guard<std::mutex> lock(rest.mu);
    CHECK(rest.positions == std::vector<int>{1});
  }
  rest_gate.Open();
  REQUIRE(scheduler.WaitIdle(absl::Now() + absl::Seconds(5)));
}

TEST_CASE("Cancelling a running job frees its slot for the next queued job") {
  Gate gate;
  Recorder recorder;
  Scheduler scheduler({.slots = 1, .queue_capacity = 1});
  auto running = scheduler.Submit(recorder.Spec(&gate));
  auto queued = scheduler.Submit(recorder.Spec(&gate));
  REQUIRE(running.ok());
  REQUIRE(queued.ok());
  REQUIRE(Eventually([&] { return recorder.started == 1; }));
  CHECK(scheduler.Submit(recorder.Spec(&gate)).status().code() ==
        absl::StatusCode::kResourceExhausted);

  (*running)->Cancel(absl::CancelledError("caller cancelled"));
  REQUIRE(Eventually([&] { return recorder.started == 2; }));
  {
    std::lock_guard<std::mutex> lock(recorder.mu);
    REQUIRE(recorder.run_results.size() == 1);
    CHECK(recorder.run_results[0].code() == absl::StatusCode::kCancelled);
    CHECK(recorder.run_results[0].message() == "caller cancelled");
  }
  CHECK(Eventually([&] { return scheduler.Stats().cancelled == 1; }));
  gate.Open();
  REQUIRE(scheduler.WaitIdle(absl::Now() + absl::Seconds(5)));
  CHECK(scheduler.Stats().succeeded == 1);
}

TEST_CASE("Cancelling a queued job abandons it and frees its place in the queue") {
  Gate gate;
  Recorder recorder;
  Scheduler scheduler({.slots = 1, .queue_capacity = 1});
  auto running = scheduler.Submit(recorder.Spec(&gate));
  auto queued = scheduler.Submit(recorder.Spec(&gate));
  REQUIRE(running.ok());
  REQUIRE(queued.ok());
  REQUIRE(Eventually([&] { return recorder.started == 1; }));

  (*queued)->Cancel(absl::DeadlineExceededError("deadline passed"));
  (*queued)->Cancel(absl::CancelledError("second cancel is a no-op"));
  {
    std::lock_guard<std::mutex> lock(recorder.mu);
    REQUIRE(recorder.abandoned.size() == 1);
    CHECK(recorder.abandoned[0].code() == absl::StatusCode::kDeadlineExceeded);
  }
  CHECK(scheduler.Stats().queued == 0);
  auto replacement = scheduler.Submit(recorder.Spec(&gate));
  CHECK(replacement.ok());

  gate.Open();
  REQUIRE(scheduler.WaitIdle(absl::Now() + absl::Seconds(5)));
  CHECK(recorder.started == 2);  // the cancelled job never ran
}

TEST_CASE("Drain refuses new jobs, hands back the queue, and cancels what outlives the grace") {
  Gate gate;  // never opened: jobs run until cancelled
  Recorder recorder;
  Scheduler scheduler({.slots = 2, .queue_capacity = 2});
  for (int i = 0; i < 4; ++i) REQUIRE(scheduler.Submit(recorder.Spec(&gate)).ok());
  REQUIRE(Eventually([&] { return recorder.started == 2; }));

  std::atomic<bool> drained{false};
  int cancelled_by_drain = -1;
  std::thread drainer([&] {
    cancelled_by_drain = scheduler.Drain(absl::Now() + absl::Milliseconds(300));
    drained = true;
  });
  // Immediately: no admission, queued jobs handed back with UNAVAILABLE.
  REQUIRE(Eventually([&] { return scheduler.Stats().draining; }));
  const absl::Status refused_draining = scheduler.Submit(recorder.Spec(&gate)).status();
  CHECK(refused_draining.code() == absl::StatusCode::kUnavailable);
  CHECK(ReasonOf(refused_draining) == ErrorReason::kReplicaDraining);
  REQUIRE(Eventually([&] {
    std::lock_guard<std::mutex> lock(recorder.mu);
    return recorder.abandoned.size() == 2;
  }));
  // Within the grace period the running jobs keep running.
  std::this_thread::sleep_for(100ms);
  CHECK_FALSE(drained);
  CHECK(recorder.finished == 0);

  drainer.join();
  CHECK(cancelled_by_drain == 2);
  CHECK(recorder.finished == 2);
  std::lock_guard<std::mutex> lock(recorder.mu);
  for (const absl::Status& status : recorder.abandoned) {
    CHECK(status.code() == absl::StatusCode::kUnavailable);
    CHECK(ReasonOf(status) == ErrorReason::kReplicaDraining);
  }
  for (const absl::Status& status : recorder.run_results) {
    CHECK(status.code() == absl::StatusCode::kUnavailable);
    CHECK(ReasonOf(status) == ErrorReason::kReplicaDraining);
  }
}

TEST_CASE("Drain lets running jobs that finish within the grace period succeed") {
  Gate gate;
  Recorder recorder;
  Scheduler scheduler({.slots = 1, .queue_capacity = 0});
  REQUIRE(scheduler.Submit(recorder.Spec(&gate)).ok());
  REQUIRE(Eventually([&] { return recorder.started == 1; }));
  std::thread opener([&] {
    std::this_thread::sleep_for(100ms);
    gate.Open();
  });
  CHECK(scheduler.Drain(absl::Now() + absl::Seconds(10)) == 0);
  opener.join();
  CHECK(scheduler.Stats().succeeded == 1);
}

TEST_CASE("A job may borrow idle slots, but not while others are queued") {
  Scheduler scheduler({.slots = 4, .queue_capacity = 2});
  std::atomic<int> granted{-1};
  std::atomic<int> running_while_borrowed{-1};
  JobSpec spec;
  spec.kind = "verify";
  spec.run = [&](JobContext& job) -> absl::Status {
    JobContext::ExtraSlots extra = job.TryBorrowSlots(10);
    granted = extra.count();
    running_while_borrowed = scheduler.Stats().running;
    return absl::OkStatus();
  };
  spec.abandon = [](absl::Status) {};
  REQUIRE(scheduler.Submit(spec).ok());
  REQUIRE(scheduler.WaitIdle(absl::Now() + absl::Seconds(5)));
  CHECK(granted == 3);
  CHECK(running_while_borrowed == 4);
  CHECK(scheduler.Stats().running == 0);

  // With every slot taken by one job's borrowing, a new job waits in the queue.
  Gate gate;
  Recorder recorder;
  std::atomic<bool> release{false};
  JobSpec hog;
  hog.kind = "verify";
  hog.run = [&](JobContext& job) -> absl::Status {
    JobContext::ExtraSlots extra = job.TryBorrowSlots(3);
    granted = extra.count();
    while (!release && !job.cancelled()) std::this_thread::sleep_for(1ms);
    return absl::OkStatus();
  };
  hog.abandon = [](absl::Status) {};
  REQUIRE(scheduler.Submit(hog).ok());
  REQUIRE(Eventually([&] { return scheduler.Stats().running == 4; }));
  auto waiting = scheduler.Submit(recorder.Spec(&gate));
  REQUIRE(waiting.ok());
  CHECK((*waiting)->admitted_position() == 1);
  release = true;
  REQUIRE(Eventually([&] { return recorder.started == 1; }));
  gate.Open();
  REQUIRE(scheduler.WaitIdle(absl::Now() + absl::Seconds(5)));
}

TEST_CASE("A job that throws counts as failed and its worker keeps serving") {
  Scheduler scheduler({.slots = 1, .queue_capacity = 4});
  JobSpec bad;
  bad.kind = "test";
  bad.run = [](JobContext&) -> absl::Status { throw std::runtime_error("boom"); };
  bad.abandon = [](absl::Status) {};
  REQUIRE(scheduler.Submit(bad).ok());
  std::atomic<bool> ran{false};
  JobSpec good;
  good.kind = "test";
  good.run = [&](JobContext&) -> absl::Status {
    ran = true;
    return absl::InvalidArgumentError("bad scene");
  };
  good.abandon = [](absl::Status) {};
  REQUIRE(scheduler.Submit(good).ok());
  REQUIRE(scheduler.WaitIdle(absl::Now() + absl::Seconds(5)));
  CHECK(ran);
  CHECK(scheduler.Stats().failed == 2);
}

TEST_CASE("on_finished runs after the slot is free, so the caller can submit again at once") {
  Scheduler scheduler({.slots = 1, .queue_capacity = 0});
  std::atomic<int> running_seen{-1};
  std::atomic<bool> resubmitted{false};
  std::atomic<int> finished_code{-1};
  JobSpec spec;
  spec.kind = "test";
  spec.run = [](JobContext&) -> absl::Status { return absl::NotFoundError("x"); };
  spec.abandon = [](absl::Status) {};
  spec.on_finished = [&](absl::Status status) {
    finished_code = static_cast<int>(status.code());
    running_seen = scheduler.Stats().running;
    JobSpec next;
    next.kind = "test";
    next.run = [](JobContext&) -> absl::Status { return absl::OkStatus(); };
    next.abandon = [](absl::Status) {};
    resubmitted = scheduler.Submit(std::move(next)).ok();
  };
  REQUIRE(scheduler.Submit(std::move(spec)).ok());
  REQUIRE(Eventually([&] { return scheduler.Stats().succeeded == 1; }));
  CHECK(finished_code == static_cast<int>(absl::StatusCode::kNotFound));
  CHECK(running_seen == 0);
  CHECK(resubmitted);
}

TEST_CASE("Submit without run or abandon is INVALID_ARGUMENT") {
  Scheduler scheduler({.slots = 1, .queue_capacity = 0});
  CHECK(scheduler.Submit(JobSpec{}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(DefaultSlots() >= 1);
}

}  // namespace
}  // namespace workerpair::heavy::admission
