#include "services/controller/core/dns_target.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "libs/common/str_cat.h"

namespace workerpair::controller {

absl::StatusOr<std::optional<DnsTarget>> ParseDnsTarget(std::string_view target) {
  constexpr std::string_view kScheme = "dns:";
  if (target.substr(0, kScheme.size()) != kScheme) return std::optional<DnsTarget>();
  std::string_view rest = target.substr(kScheme.size());
  if (rest.substr(0, 2) == "//") {
    // dns://authority/host:port: the authority names a DNS server; getaddrinfo uses the
    // system's, so only the path matters.
    const std::size_t slash = rest.find('/', 2);
    if (slash == std::string_view::npos) {
      return absl::InvalidArgumentError(
          StrCat("'", target, "' has no host:port (write dns:///host:port)"));
    }
    rest = rest.substr(slash + 1);
  }
  std::string_view host;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return absl::InvalidArgumentError(StrCat("'", target, "' is not dns:///[ip6]:port"));
    }
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    const std::size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
      return absl::InvalidArgumentError(
          StrCat("'", target, "' has no port (write dns:///host:port)"));
    }
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  const bool numeric_port =
      !port.empty() && port.size() <= 5 &&
      std::all_of(port.begin(), port.end(), [](char c) { return std::isdigit(c) != 0; });
  if (host.empty() || !numeric_port || std::stoi(std::string(port)) > 65535) {
    return absl::InvalidArgumentError(
        StrCat("'", target, "' needs a host and a port in 1..65535 (dns:///host:port)"));
  }
  return std::optional<DnsTarget>(DnsTarget{std::string(host), std::string(port)});
}

absl::StatusOr<std::vector<std::string>> ResolveDnsTarget(const DnsTarget& target) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int error = getaddrinfo(target.host.c_str(), target.port.c_str(), &hints, &found);
  if (error != 0) {
    return absl::UnavailableError(
        StrCat("cannot resolve '", target.host, "': ", gai_strerror(error)));
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> owned(found, freeaddrinfo);
  std::vector<std::string> addresses;
  for (const addrinfo* entry = found; entry != nullptr; entry = entry->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    if (entry->ai_family == AF_INET) {
      const auto* ip4 = reinterpret_cast<const sockaddr_in*>(entry->ai_addr);
      if (inet_ntop(AF_INET, &ip4->sin_addr, text, sizeof(text)) == nullptr) continue;
      addresses.push_back(StrCat(text, ":", target.port));
    } else if (entry->ai_family == AF_INET6) {
      const auto* ip6 = reinterpret_cast<const sockaddr_in6*>(entry->ai_addr);
      if (inet_ntop(AF_INET6, &ip6->sin6_addr, text, sizeof(text)) == nullptr) continue;
      addresses.push_back(StrCat("[", text, "]:", target.port));
    }
  }
  std::sort(addresses.begin(), addresses.end());
  addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
  if (addresses.empty()) {
    return absl::UnavailableError(StrCat("'", target.host, "' resolves to no address"));
  }
  return addresses;
}

}  // namespace workerpair::controller
