#include "services/controller/core/failover.h"

#include <catch2/catch.hpp>
#include <map>

using namespace workerpair::controller;

TEST_CASE("Failover retries a full or vanished replica on another one", "[failover]") {
  ReplicaRotation rotation({"a", "b", "c"});
  FailoverPolicy policy;
  std::vector<std::string> called;
  std::vector<absl::Duration> slept;
  auto outcome = RunWithFailover<int>(
      rotation, policy,
      [&](const std::string& replica, int attempt) -> absl::StatusOr<int> {
        called.push_back(replica);
        if (attempt == 1) return absl::UnavailableError("killed");
        if (attempt == 2) return absl::ResourceExhaustedError("full");
        return 42;
      },
      [&](absl::Duration d) { slept.push_back(d); });
  REQUIRE(outcome.ok());
  CHECK(outcome->value == 42);
  CHECK(outcome->attempts == 3);
  CHECK(outcome->replica == called.back());
  CHECK(called[0] != called[1]);
  CHECK(called[1] != called[2]);
  CHECK(slept.size() == 2);
}

TEST_CASE("Failover returns a non-retryable error at once", "[failover]") {
  ReplicaRotation rotation({"a", "b"});
  int calls = 0;
  auto outcome = RunWithFailover<int>(
      rotation, FailoverPolicy{},
      [&](const std::string&, int) -> absl::StatusOr<int> {
        ++calls;
        return absl::InvalidArgumentError("bad scene");
      },
      [](absl::Duration) {});
  CHECK(absl::IsInvalidArgument(outcome.status()));
  CHECK(calls == 1);
}

TEST_CASE("Failover gives up after max_attempts, naming the replicas tried", "[failover]") {
  ReplicaRotation rotation({"a", "b"});
  FailoverPolicy policy;
  policy.max_attempts = 3;
  auto outcome = RunWithFailover<int>(
      rotation, policy,
      [&](const std::string&, int) -> absl::StatusOr<int> {
        return absl::UnavailableError("connection refused");
      },
      [](absl::Duration) {});
  CHECK(absl::IsUnavailable(outcome.status()));
  const std::string message(outcome.status().message());
  CHECK(message.find("3 attempts") != std::string::npos);
  CHECK(message.find("connection refused") != std::string::npos);
}

TEST_CASE("Backoff is jittered within a doubling cap", "[failover]") {
  FailoverPolicy policy;
  policy.initial_backoff = absl::Milliseconds(100);
  policy.max_backoff = absl::Milliseconds(350);
  std::mt19937_64 random(7);
  for (int i = 0; i < 200; ++i) {
    CHECK(BackoffBefore(2, policy, random) <= absl::Milliseconds(100));
    CHECK(BackoffBefore(3, policy, random) <= absl::Milliseconds(200));
    CHECK(BackoffBefore(6, policy, random) <= absl::Milliseconds(350));
  }
  std::map<bool, int> above_half;
  for (int i = 0; i < 200; ++i) ++above_half[BackoffBefore(2, policy, random) > absl::Milliseconds(50)];
  CHECK(above_half[true] > 50);
  CHECK(above_half[false] > 50);
}

TEST_CASE("Rotation spreads successive jobs over the replicas", "[failover]") {
  ReplicaRotation rotation({"a", "b"});
  std::map<std::string, int> counts;
  for (int i = 0; i < 10; ++i) ++counts[rotation.Next()];
  CHECK(counts["a"] == 5);
  CHECK(counts["b"] == 5);
  ReplicaRotation single({"only"});
  CHECK(single.Next("only") == "only");
}
