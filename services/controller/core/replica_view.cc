#include "services/controller/core/replica_view.h"

#include <algorithm>

namespace workerpair::controller {

void ReplicaView::RecordLoad(const LoadReport& load, absl::Time now,
                             const EjectionPolicy& policy) {
  last_load_ = load;
  load_at_ = now;
  // A drain does not end: the replica admits nothing new until it is replaced.
  if (load.draining) ejected_until_ = std::max(ejected_until_, now + policy.draining_ejection);
}

void ReplicaView::AttemptEnded(AttemptOutcome outcome, absl::Time now,
                               const EjectionPolicy& policy) {
  in_flight_ = std::max(0, in_flight_ - 1);
  switch (outcome) {
    case AttemptOutcome::kSucceeded:
    case AttemptOutcome::kFull:
      // Alive and answering: whatever failed before, the replica is healthy again.
      consecutive_failures_ = 0;
      ejected_until_ = absl::InfinitePast();
      break;
    case AttemptOutcome::kDraining:
      ejected_until_ = std::max(ejected_until_, now + policy.draining_ejection);
      break;
    case AttemptOutcome::kLost:
    case AttemptOutcome::kConnectFailed: {
      ++consecutive_failures_;
      ++ejections_total_;
      ++(outcome == AttemptOutcome::kLost ? lost_total_ : connect_failed_total_);
      last_failure_at_ = now;
      absl::Duration ejection = policy.base_ejection;
      for (int i = 1; i < consecutive_failures_ && ejection < policy.max_ejection; ++i) {
        ejection *= 2;
      }
      ejected_until_ = now + std::min(ejection, policy.max_ejection);
      break;
    }
  }
}

std::optional<LoadReport> ReplicaView::FreshLoad(absl::Time now,
                                                 const EjectionPolicy& policy) const {
  if (!last_load_ || now - load_at_ > policy.load_freshness) return std::nullopt;
  return last_load_;
}

double ReplicaView::LoadScore(absl::Time now, const EjectionPolicy& policy,
                              std::uint32_t assumed_slots) const {
  const std::optional<LoadReport> load = FreshLoad(now, policy);
  const std::uint32_t slots =
      std::max<std::uint32_t>(1, last_load_ && last_load_->slots > 0 ? last_load_->slots
                                                                      : assumed_slots);
  double busy = load ? static_cast<double>(load->running + load->queued) : 0.0;
  // Our own jobs on the replica are a lower bound of its load, and fresher than any report.
  busy = std::max(busy, static_cast<double>(in_flight_));
  return busy / slots;
}

}  // namespace workerpair::controller
