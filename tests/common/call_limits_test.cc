// CallBudget (deadline, cancel callback, sticky status) and ConcurrencyLimiter (per key and
// total caps, release on destruction).
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "libs/common/call_budget.h"
#include "libs/common/concurrency_limiter.h"
#include "libs/common/workspace_name.h"

namespace workerpair {
namespace {

TEST_CASE("A CallBudget runs out at its deadline and stays out", "[common][budget]") {
  CHECK(CallBudget().Check().ok());
  CHECK(CallBudget().Remaining() == absl::InfiniteDuration());
  const CallBudget past(absl::Now() - absl::Seconds(1), nullptr, "the 5 s call time limit");
  const absl::Status status = past.Check();
  CHECK(status.code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(std::string(status.message()).find("the 5 s call time limit") != std::string::npos);
  CHECK(past.Exhausted());
  CHECK(past.Remaining() == absl::ZeroDuration());
}

TEST_CASE("A CallBudget asks its cancel callback, at most every poll interval",
          "[common][budget]") {
  std::atomic<bool> gone{false};
  std::atomic<int> asked{0};
  const CallBudget budget(absl::Now() + absl::Seconds(60), [&] {
    ++asked;
    return gone.load();
  });
  bool all_ok = true;
  for (int i = 0; i < 100000; ++i) all_ok = all_ok && budget.Check().ok();
  CHECK(all_ok);
  // 100000 checks in far less than a second: only a handful of polls.
  CHECK(asked.load() >= 1);
  CHECK(asked.load() < 1000);
  gone = true;
  absl::Status status = budget.Check();
  for (int i = 0; i < 1000 && status.ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    status = budget.Check();
  }
  CHECK(status.code() == absl::StatusCode::kCancelled);
  gone = false;  // sticky: the call stays cancelled
  CHECK(budget.Check().code() == absl::StatusCode::kCancelled);
  const CallBudget manual;
  manual.Cancel();
  CHECK(manual.Check().code() == absl::StatusCode::kCancelled);
}

TEST_CASE("ConcurrencyLimiter caps calls per key and in all, releasing on destruction",
          "[common][limiter]") {
  ConcurrencyLimiter limiter({.max_per_key = 2, .max_total = 3});
  auto a1 = limiter.TryAcquire("a", "Grep");
  auto a2 = limiter.TryAcquire("a", "Grep");
  REQUIRE(a1.ok());
  REQUIRE(a2.ok());
  auto a3 = limiter.TryAcquire("a", "Grep");
  CHECK(a3.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(std::string(a3.status().message()).find("workspace 'a' already runs 2") !=
        std::string::npos);
  auto b1 = limiter.TryAcquire("b", "Lint");
  REQUIRE(b1.ok());
  auto c1 = limiter.TryAcquire("c", "Lint");
  CHECK(c1.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(limiter.RunningTotal() == 3);
  { ConcurrencyLimiter::Permit gone = std::move(a1).value(); }
  CHECK(limiter.Running("a") == 1);
  CHECK(limiter.TryAcquire("c", "Lint").ok());  // acquired and released at once
  CHECK(limiter.RunningTotal() == 2);
}

TEST_CASE("ConcurrencyLimiter holds under concurrent callers", "[common][limiter]") {
  ConcurrencyLimiter limiter({.max_per_key = 3, .max_total = 0});
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto permit = limiter.TryAcquire("ws", "x");
        if (!permit.ok()) continue;
        const int now = ++running;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        --running;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(most.load() <= 3);
  CHECK(limiter.RunningTotal() == 0);
}

TEST_CASE("Workspace names follow one pattern", "[common][names]") {
  for (const std::string& good :
       std::vector<std::string>{"a", "agent-7", "A.b_c-1", std::string(64, 'x')}) {
    INFO(good);
    CHECK(CheckWorkspaceName(good).ok());
  }
  for (const std::string& bad :
       std::vector<std::string>{"", "-rf", ".git", "..", "_a", "a/b", "a b", "a\n",
                                std::string(65, 'x'), "\xc3\xa9"}) {
    INFO(bad);
    CHECK(CheckWorkspaceName(bad).code() == absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace workerpair
