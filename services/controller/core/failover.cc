#include "services/controller/core/failover.h"

#include <algorithm>

namespace workerpair::controller {

bool IsRetryableOnAnotherReplica(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsResourceExhausted(status) ||
         absl::IsAborted(status);
}

absl::Duration BackoffBefore(int attempt, const FailoverPolicy& policy, std::mt19937_64& random) {
  if (attempt < 2) return absl::ZeroDuration();
  absl::Duration cap = policy.initial_backoff;
  for (int i = 2; i < attempt && cap < policy.max_backoff; ++i) cap *= 2;
  cap = std::min(cap, policy.max_backoff);
  std::uniform_real_distribution<double> fraction(0.0, 1.0);
  return cap * fraction(random);
}

ReplicaRotation::ReplicaRotation(std::vector<std::string> replicas)
    : replicas_(std::move(replicas)) {}

std::string ReplicaRotation::Next(const std::string& avoid) {
  if (replicas_.empty()) return "";
  for (std::size_t tries = 0; tries < replicas_.size(); ++tries) {
    const std::string& candidate = replicas_[next_.fetch_add(1) % replicas_.size()];
    if (candidate != avoid || replicas_.size() == 1) return candidate;
  }
  return replicas_.front();
}

}  // namespace workerpair::controller
