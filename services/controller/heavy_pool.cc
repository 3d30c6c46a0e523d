#include "services/controller/heavy_pool.h"

#include <algorithm>

#include "libs/common/str_cat.h"

namespace workerpair::controller {

HeavyPool::HeavyPool(std::vector<std::string> targets, ClientSecurityOptions security,
                     absl::Duration resolve_interval, EjectionPolicy ejection)
    : targets_(std::move(targets)),
      security_(std::move(security)),
      resolve_interval_(resolve_interval),
      router_({}, ejection) {
  for (const std::string& target : targets_) {
    absl::StatusOr<std::optional<DnsTarget>> dns = ParseDnsTarget(target);
    if (!dns.ok()) {
      config_error_ = dns.status();
      return;
    }
    if (*dns && targets_.size() > 1) {
      config_error_ = absl::InvalidArgumentError(
          StrCat("the dns target '", target, "' must be the pool's only target"));
      return;
    }
    if (*dns) dns_ = **dns;
  }
  if (!dns_) {
    router_.SetReplicas(targets_);
    return;
  }
  // A name on a certificate is checked against the name dialled, not the pod's address.
  if (!security_.ca_file.empty() && security_.server_name.empty()) {
    security_.server_name = dns_->host;
  }
  Resolve();
  resolver_ = std::thread([this] { ResolveLoop(); });
}

HeavyPool::~HeavyPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (resolver_.joinable()) resolver_.join();
}

absl::Status HeavyPool::config_error() const {
  std::lock_guard lock(mu_);
  return config_error_;
}

void HeavyPool::Resolve() {
  std::lock_guard resolving(resolve_mu_);
  absl::StatusOr<std::vector<std::string>> addresses = ResolveDnsTarget(*dns_);
  std::lock_guard lock(mu_);
  last_resolved_ = absl::Now();
  if (!addresses.ok()) {
    // Keep routing to the replicas known before: a DNS hiccup is not a pool that vanished.
    if (router_.replicas().empty()) config_error_ = addresses.status();
    return;
  }
  config_error_ = absl::OkStatus();
  router_.SetReplicas(*addresses);
  for (auto it = channels_.begin(); it != channels_.end();) {
    const bool kept = std::find(addresses->begin(), addresses->end(), it->first) != addresses->end();
    it = kept ? std::next(it) : channels_.erase(it);
  }
}

void HeavyPool::ResolveLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const absl::Time due = last_resolved_ + resolve_interval_;
    if (absl::Now() < due) {
      wake_.wait_until(lock, absl::ToChronoTime(due));
      continue;
    }
    lock.unlock();
    Resolve();
    lock.lock();
  }
}

void HeavyPool::ResolveSoon() {
  if (!dns_) return;
  {
    std::lock_guard lock(mu_);
    if (absl::Now() - last_resolved_ < absl::Seconds(1)) return;
  }
  Resolve();
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> HeavyPool::Channel(const std::string& replica) {
  std::lock_guard lock(mu_);
  auto& channel = channels_[replica];
  if (!channel) {
    auto made = MakeClientChannel(replica, security_);
    if (!made.ok()) {
      channels_.erase(replica);
      return absl::InvalidArgumentError(StrCat("cannot make a channel to ", replica, ": ",
                                               std::string(made.status().message())));
    }
    channel = *made;
    // Start connecting now: by the time a job needs it the handshake is done.
    channel->GetState(/*try_to_connect=*/true);
  }
  return channel;
}

}  // namespace workerpair::controller
