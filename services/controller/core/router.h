// Router: picks the worker-heavy replica for the next attempt of a job.
//
// gRPC 1.51 has no weighted_round_robin or ORCA, so load-aware routing is ours: the router
// keeps a ReplicaView per replica (its reported load, this controller's jobs on it, recent
// failures) and sends a job to the less loaded of two randomly chosen healthy replicas ("power
// of two choices": nearly as good as the least loaded of all, without every controller piling
// onto the same one). A replica that failed to connect or went silent is ejected for a while
// and probed again once the ejection ends; when every replica is ejected the one whose ejection
// ends first is probed at once. Membership can change (a dns:/// pool re-resolved): views of
// replicas that stay are kept.
//
// Thread-safe: many jobs of one controller route at once.
//
//   Router router({"10.0.0.5:50052", "10.0.0.6:50052"});
//   std::optional<std::string> replica = router.Pick(/*exclude=*/{});   // counts it started
//   router.AttemptEnded(*replica, AttemptOutcome::kSucceeded);
#ifndef WORKERPAIR_SERVICES_CONTROLLER_CORE_ROUTER_H_
#define WORKERPAIR_SERVICES_CONTROLLER_CORE_ROUTER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/controller/core/replica_view.h"

namespace workerpair::controller {

// The pool's load summed over the replicas with a fresh report, for "pool full" messages.
struct PoolLoad {
  int replicas = 0;        // members
  int healthy = 0;         // members not ejected
  int reporting = 0;       // members with a fresh load report (the sums below are over these)
  std::uint32_t slots = 0;
  std::uint32_t running = 0;
  std::uint32_t queued = 0;
  std::uint32_t queue_capacity = 0;
};

// One member as the router sees it, for pool status.
struct ReplicaStatus {
  std::string address;
  bool ejected = false;
  absl::Time ejected_until = absl::InfinitePast();
  std::optional<LoadReport> load;  // the last report when fresh
  int in_flight = 0;               // this controller's attempts on it
  int consecutive_failures = 0;
  int lost_total = 0;              // attempts whose stream broke or went silent
  int connect_failed_total = 0;
  int ejections_total = 0;
  absl::Time last_failure_at = absl::InfinitePast();
};

class Router {
 public:
  using Clock = std::function<absl::Time()>;

  explicit Router(std::vector<std::string> replicas, EjectionPolicy policy = {},
                  Clock clock = [] { return absl::Now(); },
                  std::uint64_t seed = std::random_device{}());

  // Replaces the members (a re-resolved pool); views of replicas still present are kept.
  void SetReplicas(const std::vector<std::string>& replicas);
  std::vector<std::string> replicas() const;

  // The replica for the next attempt, never one in `exclude`:
  // - the less loaded of two random members that are neither ejected nor excluded;
  // - when every member that is not ejected is excluded: nullopt (wait for capacity: the
  //   excluded ones are alive but full);
  // - when every member is ejected: the one not excluded whose ejection ends first (a probe);
  //   nullopt when all are excluded.
  // The replica picked counts an attempt started on it (so jobs picking at the same moment
  // spread out); AttemptEnded must follow.
  // `prefer` (e.g. the replica that holds the job's payload) is taken first when it is a
  // member, neither ejected nor excluded, and has a free slot (running + queued, or this
  // controller's jobs on it, below its slots); otherwise the usual choice.
  std::optional<std::string> Pick(const std::set<std::string>& exclude,
                                  const std::string& prefer = {});

  void RecordLoad(const std::string& replica, const LoadReport& load);
  void AttemptEnded(const std::string& replica, AttemptOutcome outcome);
  // Skips `replica` for `duration` without counting a failure (ReplicaView::HoldUntil).
  void Hold(const std::string& replica, absl::Duration duration);

  bool Ejected(const std::string& replica) const;
  // Every member, in the order given; nullopt from StatusOf when `replica` is not a member.
  std::vector<ReplicaStatus> Status() const;
  std::optional<ReplicaStatus> StatusOf(const std::string& replica) const;
  PoolLoad Load() const;
  // Replicas whose load report is missing or stale (worth an Info call before a message).
  std::vector<std::string> StaleReplicas() const;
  const EjectionPolicy& policy() const { return policy_; }

 private:
  // Slots assumed for a replica that never reported: the largest any member reported, else 1.
  std::uint32_t AssumedSlotsLocked() const;
  ReplicaStatus StatusLocked(const ReplicaView& view, absl::Time now) const;
  const ReplicaView* ChooseLocked(const std::set<std::string>& exclude, absl::Time now,
                                  const std::string& prefer);

  const EjectionPolicy policy_;
  const Clock clock_;
  mutable std::mutex mu_;
  std::vector<std::string> order_;             // members, in the order given
  std::map<std::string, ReplicaView> views_;   // by address; members only
  std::mt19937_64 random_;
};

}  // namespace workerpair::controller

#endif  // WORKERPAIR_SERVICES_CONTROLLER_CORE_ROUTER_H_
