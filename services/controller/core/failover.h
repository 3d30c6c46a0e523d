// Failover: run a job on a pool of interchangeable worker-heavy replicas, following the retry
// rule (libs/common/error_reason.h RetryElsewhere, documented at the top of heavy.proto).
//
// An attempt's error decides what happens next:
// - a payload error (PAYLOAD_INVALID, PAYLOAD_LIMIT, SCENE_CRASHED, a deadline, ...): returned
//   after that one attempt; another replica would fail the same way;
// - REPLICA_FULL / UPLOADS_BUSY / REPLICA_DRAINING: the replica is alive but cannot take the
//   job; another replica is tried at once, and when every live replica is full the job waits
//   (jittered, growing backoff) until a slot frees or the caller's total wait passes. These
//   attempts do not use up `max_attempts`: a full pool is not a failing pool;
// - a lost replica (UNAVAILABLE without a reason, REPLICA_LOST: a broken, silent or refused
//   stream): the replica is ejected and the job runs elsewhere after a short backoff; these
//   count against `max_attempts`.
// The whole loop, waits included, ends at the caller's total deadline; each attempt gets the
// smaller of its own limit and what is left of the total.
//
//   FailoverPolicy policy;
//   Router router({"10.0.0.5:50052", "10.0.0.6:50052"});
//   auto outcome = RunWithFailover<Result>(router, policy, absl::Now() + absl::Minutes(30),
//       [&](const AttemptContext& attempt) { return SimulateOn(attempt.replica, ...); });
#ifndef WORKERPAIR_SERVICES_CONTROLLER_CORE_FAILOVER_H_
#define WORKERPAIR_SERVICES_CONTROLLER_CORE_FAILOVER_H_

#include <functional>
#include <optional>
#include <random>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/controller/core/router.h"

namespace workerpair::controller {

struct FailoverPolicy {
  // Attempts lost to a replica that broke, went silent or could not be reached, the first
  // attempt included; attempts refused by a full or draining replica do not count.
  int max_attempts = 4;
  // Backoff before the attempt after a lost one: uniform in [0, min(max, initial * 2^(n-2))]
  // ("full jitter"), so many controllers retrying at once spread out.
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  // Wait while every live replica is full: the k-th wait in a row is uniform in
  // [cap/2, cap], cap = min(capacity_max_backoff, capacity_initial_backoff * 2^(k-1)).
  absl::Duration capacity_initial_backoff = absl::Milliseconds(250);
  absl::Duration capacity_max_backoff = absl::Seconds(2);
};

// The backoff before the attempt that follows `lost` lost attempts (1, 2, ...).
absl::Duration BackoffAfterLost(int lost, const FailoverPolicy& policy, std::mt19937_64& random);
// The `waits`-th (1, 2, ...) wait in a row for capacity.
absl::Duration CapacityBackoff(int waits, const FailoverPolicy& policy, std::mt19937_64& random);

// How an attempt's error is treated (see the top of this file).
enum class FailureKind { kPayload, kFull, kDraining, kLost };
FailureKind ClassifyFailure(const absl::Status& status);

// What one attempt is given.
struct AttemptContext {
  std::string replica;
  int attempt = 0;        // 1, 2, ... over every attempt of the job
  absl::Time deadline;    // min(attempt limit, the job's total deadline)
  absl::Status previous;  // why the previous attempt did not finish the job (OK for the first)
};

// What the loop tells its caller while the job waits for capacity.
struct CapacityWait {
  PoolLoad load;
  absl::Duration wait;
  int waits = 0;  // waits in a row so far, this one included
};

struct FailoverHooks {
  // Before each wait for capacity (e.g. refresh the load figures, print "pool full: ...").
  std::function<void(const CapacityWait&)> on_capacity_wait;
  // How the loop sleeps (tests pass a fake); absl::SleepFor by default.
  std::function<void(absl::Duration)> sleep;
  // The clock; absl::Now by default.
  std::function<absl::Time()> now;
  // Asked before each attempt and each wait: a non-OK status (e.g. the job was cancelled)
  // ends the loop with that status.
  std::function<absl::Status()> should_stop;
  // Asked before each pick: the replica to prefer when it has room (Router::Pick), e.g. the one
  // that holds the job's payload; empty: none.
  std::function<std::string()> preferred;
};

template <typename T>
struct FailoverOutcome {
  T value;
  std::string replica;  // the replica that produced `value`
  // Every try, those a full or draining replica refused included; 1 when the first succeeded.
  int attempts = 0;
};

// The loop without the value: `attempt_fn` stores its result itself. Returns OK once an
// attempt succeeded, with `replica` and `attempts` set.
absl::Status RunAttempts(Router& router, const FailoverPolicy& policy, absl::Time total_deadline,
                         absl::Duration attempt_limit,
                         const std::function<absl::Status(const AttemptContext&)>& attempt_fn,
                         const FailoverHooks& hooks, std::string& replica, int& attempts);

// Runs `attempt_fn` until it succeeds, fails for the payload's sake (returned as is), loses
// `policy.max_attempts` replicas (UNAVAILABLE naming them and the last error), or the total
// deadline passes (RESOURCE_EXHAUSTED / REPLICA_FULL while the pool stayed full,
// DEADLINE_EXCEEDED otherwise).
template <typename T>
absl::StatusOr<FailoverOutcome<T>> RunWithFailover(
    Router& router, const FailoverPolicy& policy, absl::Time total_deadline,
    absl::Duration attempt_limit,
    const std::function<absl::StatusOr<T>(const AttemptContext&)>& attempt_fn,
    const FailoverHooks& hooks = {}) {
  std::optional<T> value;
  FailoverOutcome<T> outcome;
  absl::Status status = RunAttempts(
      router, policy, total_deadline, attempt_limit,
      [&](const AttemptContext& attempt) {
        absl::StatusOr<T> result = attempt_fn(attempt);
        if (!result.ok()) return result.status();
        value = std::move(*result);
        return absl::OkStatus();
      },
      hooks, outcome.replica, outcome.attempts);
  if (!status.ok()) return status;
  outcome.value = std::move(*value);
  return outcome;
}

}  // namespace workerpair::controller

#endif  // WORKERPAIR_SERVICES_CONTROLLER_CORE_FAILOVER_H_
