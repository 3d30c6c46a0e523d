// The controller's proto-free pool core: the retry rule as the failover loop applies it,
// capacity waiting, ejection and probing, power-of-two-choices routing, dns targets, the
// silence watchdog.
#include "services/controller/core/failover.h"

#include <catch2/catch.hpp>
#include <atomic>
#include <map>
#include <set>

#include "libs/common/error_reason.h"
#include "services/controller/core/dns_target.h"
#include "services/controller/core/router.h"
#include "services/controller/core/silence_watchdog.h"

using namespace workerpair::controller;
using workerpair::ErrorReason;
using workerpair::ReasonOf;
using workerpair::WithReason;

namespace {

// A clock the loop and the router share; sleeping advances it.
struct FakeTime {
  absl::Time now = absl::FromUnixSeconds(1'000'000);
  std::vector<absl::Duration> slept;
  FailoverHooks Hooks(std::vector<CapacityWait>* waits = nullptr) {
    FailoverHooks hooks;
    hooks.now = [this] { return now; };
    hooks.sleep = [this](absl::Duration d) {
      slept.push_back(d);
      now += d;
    };
    if (waits != nullptr) hooks.on_capacity_wait = [waits](const CapacityWait& w) { waits->push_back(w); };
    return hooks;
  }
  Router::Clock Clock() {
    return [this] { return now; };
  }
};

absl::Status Full() {
  return WithReason(absl::ResourceExhaustedError("every slot is busy"), ErrorReason::kReplicaFull);
}
absl::Status Lost() {
  return WithReason(absl::UnavailableError("stream broke"), ErrorReason::kReplicaLost);
}

}  // namespace

TEST_CASE("A payload error is returned after one attempt, whatever its code", "[failover]") {
  const absl::Status errors[] = {
      WithReason(absl::ResourceExhaustedError("too many entries"), ErrorReason::kPayloadLimit),
      WithReason(absl::InvalidArgumentError("SIGSEGV in compile"), ErrorReason::kSceneCrashed),
      WithReason(absl::ResourceExhaustedError("memory limit"), ErrorReason::kJobMemoryLimit),
      absl::InvalidArgumentError("bad scene"),
      absl::ResourceExhaustedError("no reason: not known to be the replica's"),
      absl::DeadlineExceededError("deadline"),
  };
  for (const absl::Status& error : errors) {
    FakeTime time;
    Router router({"a", "b"}, {}, time.Clock());
    int calls = 0;
    std::string replica;
    int attempts = 0;
    absl::Status status = RunAttempts(
        router, FailoverPolicy{}, time.now + absl::Minutes(30), absl::Minutes(10),
        [&](const AttemptContext&) {
          ++calls;
          return error;
        },
        time.Hooks(), replica, attempts);
    CHECK(status == error);
    CHECK(ReasonOf(status) == ReasonOf(error));
    CHECK(calls == 1);
    // The replica that answered is healthy: nothing is ejected.
    CHECK_FALSE(router.Ejected("a"));
    CHECK_FALSE(router.Ejected("b"));
  }
}

TEST_CASE("A lost replica is ejected and the job runs on another one", "[failover]") {
  FakeTime time;
  Router router({"a", "b"}, {}, time.Clock());
  std::vector<std::string> called;
  auto outcome = RunWithFailover<int>(
      router, FailoverPolicy{}, time.now + absl::Minutes(30), absl::Minutes(10),
      [&](const AttemptContext& attempt) -> absl::StatusOr<int> {
        called.push_back(attempt.replica);
        if (attempt.attempt == 1) return Lost();
        CHECK(attempt.previous == Lost());
        return 42;
      },
      time.Hooks());
  REQUIRE(outcome.ok());
  CHECK(outcome->value == 42);
  CHECK(outcome->attempts == 2);
  REQUIRE(called.size() == 2);
  CHECK(called[0] != called[1]);
  CHECK(router.Ejected(called[0]));
  CHECK(outcome->replica == called[1]);
}

TEST_CASE("An UNAVAILABLE without a reason counts as a lost replica", "[failover]") {
  CHECK(ClassifyFailure(absl::UnavailableError("connection refused")) == FailureKind::kLost);
  CHECK(ClassifyFailure(Lost()) == FailureKind::kLost);
  CHECK(ClassifyFailure(Full()) == FailureKind::kFull);
  CHECK(ClassifyFailure(WithReason(absl::ResourceExhaustedError("uploads"),
                                   ErrorReason::kUploadsBusy)) == FailureKind::kFull);
  CHECK(ClassifyFailure(WithReason(absl::UnavailableError("draining"),
                                   ErrorReason::kReplicaDraining)) == FailureKind::kDraining);
  CHECK(ClassifyFailure(WithReason(absl::AbortedError("runner died"),
                                   ErrorReason::kRunnerLost)) == FailureKind::kPayload);
}

TEST_CASE("Lost attempts are bounded by max_attempts", "[failover]") {
  FakeTime time;
  Router router({"a", "b"}, {}, time.Clock());
  FailoverPolicy policy;
  policy.max_attempts = 3;
  int calls = 0;
  std::string replica;
  int attempts = 0;
  absl::Status status = RunAttempts(
      router, policy, time.now + absl::Minutes(30), absl::Minutes(10),
      [&](const AttemptContext&) {
        ++calls;
        return absl::UnavailableError("connection refused");
      },
      time.Hooks(), replica, attempts);
  CHECK(absl::IsUnavailable(status));
  CHECK(ReasonOf(status) == ErrorReason::kReplicaLost);
  CHECK(calls == 3);
  const std::string message(status.message());
  CHECK(message.find("3 attempt(s) lost") != std::string::npos);
  CHECK(message.find("connection refused") != std::string::npos);
}

TEST_CASE("A full pool waits for capacity without using up the attempts", "[failover]") {
  FakeTime time;
  Router router({"a", "b"}, {}, time.Clock());
  FailoverPolicy policy;
  policy.max_attempts = 2;
  std::vector<CapacityWait> waits;
  int calls = 0;
  auto outcome = RunWithFailover<int>(
      router, policy, time.now + absl::Minutes(30), absl::Minutes(10),
      [&](const AttemptContext&) -> absl::StatusOr<int> {
        // Full for the first 20 attempts (10 waits over both replicas), then a slot frees.
        if (++calls <= 20) return Full();
        return 7;
      },
      time.Hooks(&waits));
  REQUIRE(outcome.ok());
  CHECK(outcome->attempts == 21);
  // Both replicas are asked before each wait: one wait per two refusals.
  CHECK(waits.size() == 10);
  for (std::size_t i = 0; i < waits.size(); ++i) {
    CHECK(waits[i].waits == static_cast<int>(i + 1));
    CHECK(waits[i].wait >= policy.capacity_initial_backoff / 2);
    CHECK(waits[i].wait <= policy.capacity_max_backoff);
  }
  CHECK_FALSE(router.Ejected("a"));
  CHECK_FALSE(router.Ejected("b"));
}

TEST_CASE("A pool that stays full until the total wait passes is RESOURCE_EXHAUSTED",
          "[failover]") {
  FakeTime time;
  Router router({"a", "b"}, {}, time.Clock());
  const absl::Time deadline = time.now + absl::Seconds(30);
  std::string replica;
  int attempts = 0;
  absl::Status status = RunAttempts(
      router, FailoverPolicy{}, deadline, absl::Minutes(10),
      [&](const AttemptContext& attempt) {
        CHECK(attempt.deadline <= deadline);
        return Full();
      },
      time.Hooks(), replica, attempts);
  CHECK(absl::IsResourceExhausted(status));
  CHECK(ReasonOf(status) == ErrorReason::kReplicaFull);
  CHECK(time.now == deadline);
  CHECK(std::string(status.message()).find("stayed full") != std::string::npos);
}

TEST_CASE("An attempt's deadline is the smaller of its limit and the total wait", "[failover]") {
  FakeTime time;
  Router router({"a"}, {}, time.Clock());
  std::vector<absl::Time> deadlines;
  auto outcome = RunWithFailover<int>(
      router, FailoverPolicy{}, time.now + absl::Seconds(100), absl::Seconds(60),
      [&](const AttemptContext& attempt) -> absl::StatusOr<int> {
        deadlines.push_back(attempt.deadline);
        if (deadlines.size() == 1) {
          time.now += absl::Seconds(60);  // the first attempt used its whole limit, then broke
          return Lost();
        }
        return 1;
      },
      time.Hooks());
  REQUIRE(outcome.ok());
  REQUIRE(deadlines.size() == 2);
  CHECK(deadlines[0] == absl::FromUnixSeconds(1'000'000) + absl::Seconds(60));
  CHECK(deadlines[1] == absl::FromUnixSeconds(1'000'000) + absl::Seconds(100));
}

TEST_CASE("A draining replica is skipped without using up an attempt", "[failover]") {
  FakeTime time;
  Router router({"a", "b"}, {}, time.Clock());
  FailoverPolicy policy;
  policy.max_attempts = 1;
  std::vector<std::string> called;
  auto outcome = RunWithFailover<int>(
      router, policy, time.now + absl::Minutes(30), absl::Minutes(10),
      [&](const AttemptContext& attempt) -> absl::StatusOr<int> {
        called.push_back(attempt.replica);
        if (called.size() == 1) {
          return WithReason(absl::UnavailableError("draining"), ErrorReason::kReplicaDraining);
        }
        return 5;
      },
      time.Hooks());
  REQUIRE(outcome.ok());
  REQUIRE(called.size() == 2);
  CHECK(router.Ejected(called[0]));
  CHECK(called[1] != called[0]);
}

TEST_CASE("The router sends jobs to the less loaded replica and spreads concurrent picks",
          "[router]") {
  FakeTime time;
  Router router({"a", "b"}, {}, time.Clock(), /*seed=*/1);
  router.RecordLoad("a", {.slots = 2, .running = 2, .queued = 3, .queue_capacity = 4});
  router.RecordLoad("b", {.slots = 2, .running = 1, .queued = 0, .queue_capacity = 4});
  for (int i = 0; i < 20; ++i) {
    auto picked = router.Pick({});
    REQUIRE(picked);
    CHECK(*picked == "b");
    router.AttemptEnded(*picked, AttemptOutcome::kSucceeded);
  }
  // Without reports, picks not yet ended count as load: 10 picks split 5/5.
  Router fresh({"x", "y"}, {}, time.Clock(), /*seed=*/2);
  std::map<std::string, int> picks;
  for (int i = 0; i < 10; ++i) ++picks[*fresh.Pick({})];
  CHECK(picks["x"] == 5);
  CHECK(picks["y"] == 5);
}

TEST_CASE("Power of two choices covers every replica of a larger pool", "[router]") {
  FakeTime time;
  std::vector<std::string> members;
  for (int i = 0; i < 8; ++i) members.push_back("r" + std::to_string(i));
  Router router(members, {}, time.Clock(), /*seed=*/3);
  std::map<std::string, int> picks;
  for (int i = 0; i < 80; ++i) ++picks[*router.Pick({})];  // none ended: load accumulates
  CHECK(picks.size() == 8);
  for (const auto& [replica, count] : picks) CHECK(count >= 5);
}

TEST_CASE("An ejected replica is skipped, probed once its ejection ends, and restored by a "
          "success", "[router]") {
  FakeTime time;
  EjectionPolicy policy;
  Router router({"a", "b"}, policy, time.Clock());
  router.Pick({});
  router.AttemptEnded("a", AttemptOutcome::kConnectFailed);
  CHECK(router.Ejected("a"));
  for (int i = 0; i < 10; ++i) {
    CHECK(*router.Pick({}) == "b");
    router.AttemptEnded("b", AttemptOutcome::kSucceeded);
  }
  // "b" full and "a" ejected: wait (nullopt) rather than probe a failed replica.
  CHECK_FALSE(router.Pick({"b"}));
  // Every replica ejected: the one whose ejection ends first is probed at once.
  router.AttemptEnded("b", AttemptOutcome::kLost);
  router.AttemptEnded("b", AttemptOutcome::kLost);  // ejected twice as long as "a"
  CHECK(*router.Pick({}) == "a");
  // A second failure doubles the ejection.
  router.AttemptEnded("a", AttemptOutcome::kLost);
  time.now += policy.base_ejection;
  CHECK(router.Ejected("a"));
  time.now += policy.base_ejection;
  CHECK_FALSE(router.Ejected("a"));
  router.Pick({});
  router.AttemptEnded("a", AttemptOutcome::kSucceeded);
  CHECK_FALSE(router.Ejected("a"));
}

TEST_CASE("The failure record outlives the ejection it caused, a success clears only the "
          "consecutive count", "[router]") {
  FakeTime time;
  EjectionPolicy policy;
  Router router({"a", "b"}, policy, time.Clock());
  router.Pick({});
  router.AttemptEnded("a", AttemptOutcome::kLost);
  router.Pick({});
  router.AttemptEnded("a", AttemptOutcome::kConnectFailed);
  router.Pick({});
  router.AttemptEnded("a", AttemptOutcome::kFull);  // alive: not a failure
  time.now += policy.max_ejection;
  CHECK_FALSE(router.Ejected("a"));
  auto a = router.StatusOf("a");
  REQUIRE(a.has_value());
  CHECK(a->lost_total == 1);
  CHECK(a->connect_failed_total == 1);
  CHECK(a->ejections_total == 2);
  CHECK(a->consecutive_failures == 0);
  CHECK_FALSE(a->ejected);
  CHECK_FALSE(router.StatusOf("nobody").has_value());
  std::vector<ReplicaStatus> all = router.Status();
  REQUIRE(all.size() == 2);
  CHECK(all[0].address == "a");
  CHECK(all[1].address == "b");
  CHECK(all[1].ejections_total == 0);
}

TEST_CASE("A held replica is tried after the others, alone only as a probe, with no failure "
          "counted", "[router]") {
  FakeTime time;
  Router router({"a", "b"}, {}, time.Clock());
  router.Hold("a", absl::Seconds(5));
  for (int i = 0; i < 5; ++i) {
    CHECK(*router.Pick({}) == "b");
    router.AttemptEnded("b", AttemptOutcome::kSucceeded);
  }
  CHECK_FALSE(router.Pick({"b"}));  // "b" full: wait, do not try the held one
  time.now += absl::Seconds(5);
  CHECK_FALSE(router.Ejected("a"));
  // Its first failure after the hold is a first failure: the base ejection.
  router.AttemptEnded("a", AttemptOutcome::kLost);
  time.now += absl::Seconds(5);
  CHECK_FALSE(router.Ejected("a"));
}

TEST_CASE("A re-resolved pool keeps what it knew of replicas that stay", "[router]") {
  FakeTime time;
  Router router({"a", "b"}, {}, time.Clock());
  router.Pick({});
  router.AttemptEnded("a", AttemptOutcome::kLost);
  router.SetReplicas({"a", "c"});
  CHECK(router.replicas() == std::vector<std::string>{"a", "c"});
  CHECK(router.Ejected("a"));
  CHECK(*router.Pick({}) == "c");
  router.SetReplicas({});
  CHECK_FALSE(router.Pick({}));
}

TEST_CASE("dns targets parse into host and port", "[dns]") {
  auto plain = ParseDnsTarget("10.0.0.5:50052");
  REQUIRE(plain.ok());
  CHECK_FALSE(plain->has_value());
  for (const char* text : {"dns:///heavy.ns.svc:50052", "dns://8.8.8.8/heavy.ns.svc:50052",
                           "dns:heavy.ns.svc:50052"}) {
    auto parsed = ParseDnsTarget(text);
    REQUIRE(parsed.ok());
    REQUIRE(parsed->has_value());
    CHECK((*parsed)->host == "heavy.ns.svc");
    CHECK((*parsed)->port == "50052");
  }
  auto ip6 = ParseDnsTarget("dns:///[::1]:50052");
  REQUIRE(ip6.ok());
  CHECK((*ip6)->host == "::1");
  for (const char* bad : {"dns:///heavy", "dns:///:50052", "dns:///heavy:port", "dns:///h:99999",
                          "dns://authority-only"}) {
    CHECK(absl::IsInvalidArgument(ParseDnsTarget(bad).status()));
  }
  auto resolved = ResolveDnsTarget({"127.0.0.1", "50052"});
  REQUIRE(resolved.ok());
  CHECK(*resolved == std::vector<std::string>{"127.0.0.1:50052"});
  CHECK(absl::IsUnavailable(ResolveDnsTarget({"no-such-host.invalid", "1"}).status()));
}

TEST_CASE("The silence watchdog fires once after the limit and not while fed", "[watchdog]") {
  std::atomic<int> fired{0};
  {
    SilenceWatchdog watchdog(absl::Milliseconds(300), [&] { ++fired; });
    for (int i = 0; i < 10; ++i) {
      absl::SleepFor(absl::Milliseconds(50));
      watchdog.Feed();
    }
    CHECK(fired == 0);
    CHECK_FALSE(watchdog.fired());
    watchdog.SetLimit(absl::Milliseconds(50));
    for (int i = 0; i < 100 && !watchdog.fired(); ++i) absl::SleepFor(absl::Milliseconds(20));
    CHECK(watchdog.fired());
    CHECK(watchdog.fired_limit() == absl::Milliseconds(50));
  }
  CHECK(fired == 1);
  SilenceWatchdog idle(absl::InfiniteDuration(), [&] { ++fired; });
  absl::SleepFor(absl::Milliseconds(100));
  CHECK_FALSE(idle.fired());
}
