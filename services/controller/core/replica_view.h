// ReplicaView: what one controller knows about one worker-heavy replica, for routing.
//
// It keeps the replica's last reported load (from JobAccepted, heartbeats or Info), the jobs
// this controller has in flight on it, and its recent failures. A replica that failed to
// connect or went silent / broke a stream is ejected (skipped) for a while that doubles with
// each consecutive failure, then probed again; a success ends the ejection. A draining replica
// is skipped for a fixed while: it will not admit anything until it is replaced.
//
// Not thread-safe on its own: the Router that owns the views serialises access.
//
//   ReplicaView view("10.0.0.5:50052");
//   view.RecordLoad({.slots = 2, .running = 2, .queued = 3, .queue_capacity = 4}, now, policy);
//   view.AttemptStarted();  ...  view.AttemptEnded(AttemptOutcome::kLost, now, policy);
//   if (!view.Ejected(now)) ... view.LoadScore(now, 2)
#ifndef WORKERPAIR_SERVICES_CONTROLLER_CORE_REPLICA_VIEW_H_
#define WORKERPAIR_SERVICES_CONTROLLER_CORE_REPLICA_VIEW_H_

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"

namespace workerpair::controller {

// A replica's load as it reported it (the proto's ReplicaLoad without the proto).
struct LoadReport {
  std::uint32_t slots = 0;           // concurrent jobs it runs
  std::uint32_t running = 0;         // slots in use
  std::uint32_t queued = 0;          // jobs waiting for a slot
  std::uint32_t queue_capacity = 0;  // most jobs that may wait
  bool draining = false;             // admits nothing new
};

// How one attempt on a replica ended, as far as routing cares.
enum class AttemptOutcome {
  kSucceeded,      // the replica ran the job (or refused it for the payload's sake: it is fine)
  kFull,           // REPLICA_FULL / UPLOADS_BUSY: alive, no room now
  kDraining,       // REPLICA_DRAINING: alive, shutting down
  kLost,           // the stream broke or went silent mid-job
  kConnectFailed,  // no connection within the connect timeout
};

// How long a failed replica is skipped.
struct EjectionPolicy {
  // First ejection; doubles with each consecutive failure up to `max_ejection`.
  absl::Duration base_ejection = absl::Seconds(5);
  absl::Duration max_ejection = absl::Seconds(60);
  // A draining replica is skipped this long (it exits within its grace period).
  absl::Duration draining_ejection = absl::Seconds(30);
  // A load report older than this no longer counts.
  absl::Duration load_freshness = absl::Seconds(15);
};

class ReplicaView {
 public:
  explicit ReplicaView(std::string address) : address_(std::move(address)) {}

  const std::string& address() const { return address_; }

  // A report with `draining` set ejects the replica for policy.draining_ejection.
  void RecordLoad(const LoadReport& load, absl::Time now, const EjectionPolicy& policy);
  // An attempt this controller sends to the replica begins / ends.
  void AttemptStarted() { ++in_flight_; }
  void AttemptEnded(AttemptOutcome outcome, absl::Time now, const EjectionPolicy& policy);
  // Skips the replica until `until` without counting a failure (e.g. it was still connecting
  // while the others answered): it is tried after them, and alone only as a probe.
  void HoldUntil(absl::Time until) { ejected_until_ = std::max(ejected_until_, until); }

  // True while the replica is skipped after a failure or because it drains.
  bool Ejected(absl::Time now) const { return now < ejected_until_; }
  absl::Time ejected_until() const { return ejected_until_; }
  int consecutive_failures() const { return consecutive_failures_; }
  int in_flight() const { return in_flight_; }
  // The failure record since this view was made (it outlives the ejection it caused, so pool
  // status and tests can tell a replica was lost after its ejection ended).
  int lost_total() const { return lost_total_; }
  int connect_failed_total() const { return connect_failed_total_; }
  int ejections_total() const { return ejections_total_; }
  absl::Time last_failure_at() const { return last_failure_at_; }
  // The last load report, fresh or not, and when it came.
  const std::optional<LoadReport>& last_load() const { return last_load_; }
  absl::Time load_at() const { return load_at_; }

  // The last report when it is fresh, else nullopt.
  std::optional<LoadReport> FreshLoad(absl::Time now, const EjectionPolicy& policy) const;
  // How busy the replica is, in jobs per slot (running + queued, or this controller's own jobs
  // on it when more): lower is better. `assumed_slots` stands in when no report gave its slots.
  double LoadScore(absl::Time now, const EjectionPolicy& policy,
                   std::uint32_t assumed_slots) const;
  // Slots from the last report (fresh or not); 0 when it never reported.
  std::uint32_t known_slots() const { return last_load_ ? last_load_->slots : 0; }

 private:
  std::string address_;
  std::optional<LoadReport> last_load_;
  absl::Time load_at_ = absl::InfinitePast();
  int in_flight_ = 0;
  int consecutive_failures_ = 0;
  int lost_total_ = 0;
  int connect_failed_total_ = 0;
  int ejections_total_ = 0;
  absl::Time last_failure_at_ = absl::InfinitePast();
  absl::Time ejected_until_ = absl::InfinitePast();
};

}  // namespace workerpair::controller

#endif  // WORKERPAIR_SERVICES_CONTROLLER_CORE_REPLICA_VIEW_H_
