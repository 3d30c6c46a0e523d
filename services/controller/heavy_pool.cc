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

void HeavyPool::WarmUp(absl::Duration max_wait) {
  std::call_once(warm_up_once_, [&] {
    const std::vector<std::string> replicas = router_.replicas();
    if (replicas.size() < 2) return;
    std::vector<std::shared_ptr<grpc::Channel>> channels;
    for (const std::string& replica : replicas) {
      auto channel = Channel(replica);  // starts connecting
      channels.push_back(channel.ok() ? *channel : nullptr);
    }
    auto ready = [&](std::size_t i) {
      return channels[i] != nullptr &&
             channels[i]->GetState(/*try_to_connect=*/true) == GRPC_CHANNEL_READY;
    };
    const absl::Time start = absl::Now();
    const absl::Time give_up = start + max_wait;
    absl::Time settle = absl::InfiniteFuture();  // set once the first replica is ready
    for (;;) {
      std::size_t ready_count = 0;
      for (std::size_t i = 0; i < channels.size(); ++i) ready_count += ready(i) ? 1 : 0;
      const absl::Time now = absl::Now();
      if (ready_count == channels.size() || now >= give_up || now >= settle) break;
      if (ready_count > 0 && settle == absl::InfiniteFuture()) {
        // Others get a moment more than the first one took: they may only be a bit slower.
        settle = std::min(give_up, now + absl::Milliseconds(100) + 2 * (now - start));
      }
      // Waiting on a state change drives the connection attempts (polling GetState alone
      // leaves them to gRPC's 5 s backup poller).
      for (std::size_t i = 0; i < channels.size(); ++i) {
        if (channels[i] == nullptr) continue;
        const grpc_connectivity_state state = channels[i]->GetState(/*try_to_connect=*/true);
        if (state == GRPC_CHANNEL_READY) continue;
        channels[i]->WaitForStateChange(
            state, absl::ToChronoTime(absl::Now() + absl::Milliseconds(5)));
      }
    }
    if (settle == absl::InfiniteFuture()) return;  // none ready: nothing learned
    for (std::size_t i = 0; i < channels.size(); ++i) {
      if (!ready(i)) router_.Hold(replicas[i], max_wait);
    }
  });
}

void HeavyPool::NoteHolder(const std::string& sha256, const std::string& replica) {
  if (sha256.empty() || replica.empty()) return;
  std::lock_guard lock(mu_);
  for (auto it = holders_.begin(); it != holders_.end(); ++it) {
    if (it->first != sha256) continue;
    holders_.erase(it);
    break;
  }
  holders_.emplace_front(sha256, replica);
  if (holders_.size() > kMaxHolders) holders_.pop_back();
}

std::string HeavyPool::HolderOf(const std::string& sha256) const {
  std::lock_guard lock(mu_);
  for (const auto& [digest, replica] : holders_) {
    if (digest == sha256) return replica;
  }
  return {};
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
