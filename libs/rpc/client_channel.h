// Channels to workerpair servers: the server's CA to trust, an optional client certificate
// (mutual TLS) and bearer token, workerpair's message limits, keepalive and reconnect backoff,
// and the calling thread's request trace on every call. The server side is
// libs/rpc/server_credentials.h.
//
//   WP_ASSIGN_OR_RETURN(auto channel, MakeClientChannel("host:50051", {.ca_file = "ca.pem"}));
#ifndef WORKERPAIR_LIBS_RPC_CLIENT_CHANNEL_H_
#define WORKERPAIR_LIBS_RPC_CLIENT_CHANNEL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace workerpair {

struct ClientSecurityOptions {
  std::string ca_file;      // PEM CA to trust for the server; empty: plaintext
  std::string cert_file;    // PEM client certificate for mutual TLS (optional)
  std::string key_file;     // its key
  std::string token;        // bearer token to send (optional; needs TLS)
  std::string server_name;  // overrides the name checked against the server certificate
};

// Client keepalive on every channel MakeClientChannel makes: a ping after 10 s without
// activity, the connection closed when no answer comes within 5 s, also without calls in
// flight. A server must permit pings this often (GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_
// WITHOUT_DATA_MS <= 5 s, permit without calls) or it ends the connection (too_many_pings).
inline constexpr int kClientKeepaliveTimeMs = 10'000;
inline constexpr int kClientKeepaliveTimeoutMs = 5'000;

// A channel to `address` with the given security, workerpair's message limits, keepalive (see
// above), a 5 s connect timeout and reconnect backoff, and an optional gRPC service config
// (e.g. round_robin balancing for a dns:/// target).
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeClientChannel(
    const std::string& address, const ClientSecurityOptions& options,
    const std::string& service_config_json = "");

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_RPC_CLIENT_CHANNEL_H_
