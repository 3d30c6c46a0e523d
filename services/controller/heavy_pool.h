// HeavyPool: the worker-heavy replicas a HeavyClient routes to, one channel per replica.
//
// The pool is a list of addresses, or one `dns:///name:port` target (a Kubernetes headless
// Service). A dns target is resolved by the pool itself (getaddrinfo) when it starts and then
// every `resolve_interval` on a thread of its own, and at once (at most once a second) when
// asked because no replica answered; pods the autoscaler adds get work within one interval,
// pods that went away stop being routed to. Every address gets its own channel (with keepalive,
// libs/rpc/client_channel.h) so the Router can pick per replica; channels of addresses that left
// are dropped. The pool also remembers which replica it last sent each payload to (by SHA-256,
// bounded, least recently used first out): that replica holds the payload (and, once a job
// ran, its compiled scene), so the router prefers it when it has room (Router::Pick).
//
//   HeavyPool pool({"dns:///heavy.ns.svc:50052"}, security, absl::Seconds(30));
//   pool.router().Pick({});   pool.Channel("10.0.0.5:50052")
#ifndef WORKERPAIR_SERVICES_CONTROLLER_HEAVY_POOL_H_
#define WORKERPAIR_SERVICES_CONTROLLER_HEAVY_POOL_H_

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/rpc/client_channel.h"
#include "services/controller/core/dns_target.h"
#include "services/controller/core/router.h"

namespace workerpair::controller {

class HeavyPool {
 public:
  // `targets`: addresses, or one dns:/// target. A target that is not valid leaves the pool
  // empty and `config_error()` says why.
  HeavyPool(std::vector<std::string> targets, ClientSecurityOptions security,
            absl::Duration resolve_interval, EjectionPolicy ejection = {});
  ~HeavyPool();
  HeavyPool(const HeavyPool&) = delete;
  HeavyPool& operator=(const HeavyPool&) = delete;

  Router& router() { return router_; }
  // The channel to `replica` (an address the router handed out, or any target for Info).
  absl::StatusOr<std::shared_ptr<grpc::Channel>> Channel(const std::string& replica);

  // Re-resolves a dns pool now unless that happened less than a second ago.
  void ResolveSoon();
  // Once per pool, before its first job: connects to every replica at once and waits (at most
  // `max_wait`) for the first to be ready, then a little for the others; those still not ready
  // are held back for `max_wait` (Router::Hold), so a fresh client's first job does not wait
  // out the connect timeout of a replica that froze before the call.
  void WarmUp(absl::Duration max_wait);
  // The targets as given and the replicas they stand for now.
  const std::vector<std::string>& targets() const { return targets_; }
  std::vector<std::string> replicas() const { return router_.replicas(); }
  // Why the pool is empty when it is: a malformed target or a name that did not resolve.
  absl::Status config_error() const;
  // A dns:/// pool (resolved by the pool itself; it may have no replica for a while: scaled
  // to zero).
  bool is_dns() const { return dns_.has_value(); }

  // `replica` ran a job on payload `sha256` (it holds the payload now).
  void NoteHolder(const std::string& sha256, const std::string& replica);
  // The replica that last ran a job on payload `sha256`; empty when none is known.
  std::string HolderOf(const std::string& sha256) const;
  // Most payloads whose holder is remembered.
  static constexpr std::size_t kMaxHolders = 4096;

 private:
  void Resolve();
  void ResolveLoop();

  const std::vector<std::string> targets_;
  ClientSecurityOptions security_;
  const absl::Duration resolve_interval_;
  std::optional<DnsTarget> dns_;
  Router router_;

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;  // guarded by mu_
  absl::Status config_error_;                                       // guarded by mu_
  absl::Time last_resolved_ = absl::InfinitePast();                 // guarded by mu_
  // Payload digest -> replica, most recently noted first; guarded by mu_.
  std::list<std::pair<std::string, std::string>> holders_;
  std::mutex resolve_mu_;  // one resolution at a time
  std::once_flag warm_up_once_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  std::thread resolver_;   // dns pools only
};

}  // namespace workerpair::controller

#endif  // WORKERPAIR_SERVICES_CONTROLLER_HEAVY_POOL_H_
