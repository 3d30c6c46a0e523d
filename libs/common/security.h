// Transport security for servers and clients: TLS, mutual TLS and an optional bearer token.
//
// Server: TLS when a certificate and key are given; with a client CA, clients must present a
// certificate that CA signed (mutual TLS). With a token, every call except grpc.health.v1 must
// carry `authorization: Bearer <token>`. Failures are UNAUTHENTICATED before any handler runs.
// A token requires TLS: it must never cross the network in clear.
//
//   WP_ASSIGN_OR_RETURN(auto creds, MakeServerCredentials(options.security));
//   builder.AddListeningPort(address, creds, &port);
//
// Client: the same files from the other side (CA to trust, optional client certificate) and the
// token sent on every call.
#ifndef WORKERPAIR_LIBS_COMMON_SECURITY_H_
#define WORKERPAIR_LIBS_COMMON_SECURITY_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace workerpair {

struct ServerSecurityOptions {
  std::string cert_file;       // PEM server certificate chain; empty: plaintext
  std::string key_file;        // PEM private key
  std::string client_ca_file;  // PEM CA for client certificates; set: mutual TLS
  std::string token_file;      // file holding the bearer token; set: token required
};

struct ClientSecurityOptions {
  std::string ca_file;      // PEM CA to trust for the server; empty: plaintext
  std::string cert_file;    // PEM client certificate for mutual TLS (optional)
  std::string key_file;     // its key
  std::string token;        // bearer token to send (optional; needs TLS)
  std::string server_name;  // overrides the name checked against the server certificate
};

// INVALID_ARGUMENT for an incomplete combination (key without cert, token without TLS),
// NOT_FOUND for an unreadable file.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerSecurityOptions& options);

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

#endif  // WORKERPAIR_LIBS_COMMON_SECURITY_H_
