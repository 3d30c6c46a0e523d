// dns:/// pool targets, resolved by the controller itself.
//
// A Kubernetes headless Service is one name for every pod. gRPC's own dns resolver re-resolves
// only when a connection breaks, and hides which pod a call reached; the controller instead
// resolves the name on its own schedule (getaddrinfo, so /etc/hosts and the system's DNS both
// answer), keeps one channel per address and routes per replica.
//
//   std::optional<DnsTarget> dns = ParseDnsTarget("dns:///heavy.ns.svc:50052");
//   auto addresses = ResolveDnsTarget(*dns);   // {"10.0.0.5:50052", "10.0.0.6:50052"}
#ifndef WORKERPAIR_SERVICES_CONTROLLER_CORE_DNS_TARGET_H_
#define WORKERPAIR_SERVICES_CONTROLLER_CORE_DNS_TARGET_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace workerpair::controller {

struct DnsTarget {
  std::string host;  // a name (or an address literal, without brackets)
  std::string port;  // digits
};

// The name and port of "dns:///host:port", "dns://authority/host:port" (the authority is
// ignored) or "dns:host:port"; nullopt when `target` is not a dns target. INVALID_ARGUMENT for
// a dns target without a host or a numeric port.
absl::StatusOr<std::optional<DnsTarget>> ParseDnsTarget(std::string_view target);

// Every address the name resolves to now, as "ip:port" ("[ip6]:port"), sorted, without
// repeats. UNAVAILABLE naming the host when it does not resolve.
absl::StatusOr<std::vector<std::string>> ResolveDnsTarget(const DnsTarget& target);

}  // namespace workerpair::controller

#endif  // WORKERPAIR_SERVICES_CONTROLLER_CORE_DNS_TARGET_H_
