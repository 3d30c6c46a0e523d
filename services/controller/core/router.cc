#include "services/controller/core/router.h"

#include <algorithm>

namespace workerpair::controller {

Router::Router(std::vector<std::string> replicas, EjectionPolicy policy, Clock clock,
               std::uint64_t seed)
    : policy_(policy), clock_(std::move(clock)), random_(seed) {
  SetReplicas(replicas);
}

void Router::SetReplicas(const std::vector<std::string>& replicas) {
  std::lock_guard lock(mu_);
  std::map<std::string, ReplicaView> kept;
  order_.clear();
  for (const std::string& address : replicas) {
    if (kept.count(address) > 0) continue;  // a duplicate address is one replica
    auto existing = views_.find(address);
    kept.emplace(address, existing != views_.end() ? std::move(existing->second)
                                                   : ReplicaView(address));
    order_.push_back(address);
  }
  views_ = std::move(kept);
}

std::vector<std::string> Router::replicas() const {
  std::lock_guard lock(mu_);
  return order_;
}

std::uint32_t Router::AssumedSlotsLocked() const {
  std::uint32_t slots = 0;
  for (const auto& [address, view] : views_) slots = std::max(slots, view.known_slots());
  return std::max<std::uint32_t>(slots, 1);
}

std::optional<std::string> Router::Pick(const std::set<std::string>& exclude,
                                        const std::string& prefer) {
  std::lock_guard lock(mu_);
  const ReplicaView* chosen = ChooseLocked(exclude, clock_(), prefer);
  if (chosen == nullptr) return std::nullopt;
  views_.at(chosen->address()).AttemptStarted();
  return chosen->address();
}

const ReplicaView* Router::ChooseLocked(const std::set<std::string>& exclude, absl::Time now,
                                        const std::string& prefer) {
  if (!prefer.empty() && exclude.count(prefer) == 0) {
    auto it = views_.find(prefer);
    if (it != views_.end() && !it->second.Ejected(now) &&
        it->second.LoadScore(now, policy_, AssumedSlotsLocked()) < 1.0) {
      return &it->second;
    }
  }
  std::vector<const ReplicaView*> healthy;
  bool any_alive = false;
  const ReplicaView* probe = nullptr;
  for (const std::string& address : order_) {
    const ReplicaView& view = views_.at(address);
    const bool ejected = view.Ejected(now);
    if (!ejected) any_alive = true;
    if (exclude.count(address) > 0) continue;
    if (!ejected) {
      healthy.push_back(&view);
    } else if (probe == nullptr || view.ejected_until() < probe->ejected_until()) {
      probe = &view;
    }
  }
  if (healthy.empty()) {
    // Alive replicas that are all excluded are full: waiting beats probing a failed one.
    if (any_alive) return nullptr;
    return probe;
  }
  if (healthy.size() == 1) return healthy.front();
  std::uniform_int_distribution<std::size_t> index(0, healthy.size() - 1);
  const std::size_t first = index(random_);
  std::size_t second = index(random_);
  while (second == first) second = index(random_);
  const std::uint32_t assumed = AssumedSlotsLocked();
  const double first_score = healthy[first]->LoadScore(now, policy_, assumed);
  const double second_score = healthy[second]->LoadScore(now, policy_, assumed);
  return second_score < first_score ? healthy[second] : healthy[first];
}

void Router::RecordLoad(const std::string& replica, const LoadReport& load) {
  std::lock_guard lock(mu_);
  auto it = views_.find(replica);
  if (it != views_.end()) it->second.RecordLoad(load, clock_(), policy_);
}

void Router::AttemptEnded(const std::string& replica, AttemptOutcome outcome) {
  std::lock_guard lock(mu_);
  auto it = views_.find(replica);
  if (it != views_.end()) it->second.AttemptEnded(outcome, clock_(), policy_);
}

void Router::Hold(const std::string& replica, absl::Duration duration) {
  std::lock_guard lock(mu_);
  auto it = views_.find(replica);
  if (it != views_.end()) it->second.HoldUntil(clock_() + duration);
}

bool Router::Ejected(const std::string& replica) const {
  std::lock_guard lock(mu_);
  auto it = views_.find(replica);
  return it != views_.end() && it->second.Ejected(clock_());
}

ReplicaStatus Router::StatusLocked(const ReplicaView& view, absl::Time now) const {
  ReplicaStatus status;
  status.address = view.address();
  status.ejected = view.Ejected(now);
  status.ejected_until = view.ejected_until();
  status.load = view.FreshLoad(now, policy_);
  status.in_flight = view.in_flight();
  status.consecutive_failures = view.consecutive_failures();
  status.lost_total = view.lost_total();
  status.connect_failed_total = view.connect_failed_total();
  status.ejections_total = view.ejections_total();
  status.last_failure_at = view.last_failure_at();
  return status;
}

std::vector<ReplicaStatus> Router::Status() const {
  std::lock_guard lock(mu_);
  const absl::Time now = clock_();
  std::vector<ReplicaStatus> all;
  for (const std::string& address : order_) all.push_back(StatusLocked(views_.at(address), now));
  return all;
}

std::optional<ReplicaStatus> Router::StatusOf(const std::string& replica) const {
  std::lock_guard lock(mu_);
  auto it = views_.find(replica);
  if (it == views_.end()) return std::nullopt;
  return StatusLocked(it->second, clock_());
}

PoolLoad Router::Load() const {
  std::lock_guard lock(mu_);
  const absl::Time now = clock_();
  PoolLoad load;
  for (const auto& [address, view] : views_) {
    ++load.replicas;
    if (!view.Ejected(now)) ++load.healthy;
    if (std::optional<LoadReport> report = view.FreshLoad(now, policy_)) {
      ++load.reporting;
      load.slots += report->slots;
      load.running += report->running;
      load.queued += report->queued;
      load.queue_capacity += report->queue_capacity;
    }
  }
  return load;
}

std::vector<std::string> Router::StaleReplicas() const {
  std::lock_guard lock(mu_);
  const absl::Time now = clock_();
  std::vector<std::string> stale;
  for (const std::string& address : order_) {
    const ReplicaView& view = views_.at(address);
    if (!view.Ejected(now) && !view.FreshLoad(now, policy_)) stale.push_back(address);
  }
  return stale;
}

}  // namespace workerpair::controller
