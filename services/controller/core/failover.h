// Failover: run a job on a pool of interchangeable replicas, moving to another replica when one
// is gone (UNAVAILABLE, a broken stream) or full (RESOURCE_EXHAUSTED), with jittered backoff.
//
// worker-heavy replicas are stateless, so a failed attempt is simply re-run elsewhere with the
// payload sent again. The caller learns which replica ran the job and how many attempts it took.
//
//   FailoverPolicy policy{.max_attempts = 4};
//   ReplicaRotation rotation({"10.0.0.5:50052", "10.0.0.6:50052"});
//   auto outcome = RunWithFailover<Result>(rotation, policy, [&](const std::string& replica,
//                                                               int attempt) {
//     return SimulateOn(replica, payload);
//   });
#ifndef WORKERPAIR_SERVICES_CONTROLLER_CORE_FAILOVER_H_
#define WORKERPAIR_SERVICES_CONTROLLER_CORE_FAILOVER_H_

#include <atomic>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/common/str_cat.h"

namespace workerpair::controller {

struct FailoverPolicy {
  // Attempts in all, the first included.
  int max_attempts = 4;
  // Backoff before attempt n (n >= 2): uniform in [0, min(max, initial * 2^(n-2))] ("full
  // jitter"), so many controllers retrying at once spread out.
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
};

// True for the failures that another replica may not have: the replica is gone or full.
bool IsRetryableOnAnotherReplica(const absl::Status& status);

// The backoff before `attempt` (2, 3, ...) under `policy`, drawn with `random`.
absl::Duration BackoffBefore(int attempt, const FailoverPolicy& policy, std::mt19937_64& random);

// Hands out replicas round-robin, so successive jobs and retries land on different replicas.
class ReplicaRotation {
 public:
  explicit ReplicaRotation(std::vector<std::string> replicas);
  // The next replica; never the same as `avoid` when another exists.
  std::string Next(const std::string& avoid = "");
  std::size_t size() const { return replicas_.size(); }

 private:
  std::vector<std::string> replicas_;
  std::atomic<std::size_t> next_{0};
};

template <typename T>
struct FailoverOutcome {
  T value;
  std::string replica;  // the replica that produced `value`
  int attempts = 0;     // 1 when the first attempt succeeded
};

// Runs `attempt_fn(replica, attempt_number)` until it succeeds, fails with a non-retryable
// error (returned as is), or `policy.max_attempts` are spent (UNAVAILABLE naming every replica
// tried and the last error).
template <typename T>
absl::StatusOr<FailoverOutcome<T>> RunWithFailover(
    ReplicaRotation& rotation, const FailoverPolicy& policy,
    const std::function<absl::StatusOr<T>(const std::string& replica, int attempt)>& attempt_fn,
    const std::function<void(absl::Duration)>& sleep = [](absl::Duration d) {
      absl::SleepFor(d);
    }) {
  std::mt19937_64 random(std::random_device{}());
  std::string previous;
  std::string tried;
  absl::Status last;
  for (int attempt = 1; attempt <= policy.max_attempts; ++attempt) {
    if (attempt > 1) sleep(BackoffBefore(attempt, policy, random));
    const std::string replica = rotation.Next(previous);
    absl::StatusOr<T> result = attempt_fn(replica, attempt);
    if (result.ok()) return FailoverOutcome<T>{std::move(*result), replica, attempt};
    if (!IsRetryableOnAnotherReplica(result.status())) return result.status();
    last = result.status();
    tried += StrCat(tried.empty() ? "" : ", ", replica);
    previous = replica;
  }
  return absl::UnavailableError(StrCat("no replica could run the job after ",
                                       policy.max_attempts, " attempts (tried ", tried,
                                       "); last error: ", std::string(last.message())));
}

}  // namespace workerpair::controller

#endif  // WORKERPAIR_SERVICES_CONTROLLER_CORE_FAILOVER_H_
