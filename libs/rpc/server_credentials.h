// Transport security of a server: TLS, mutual TLS and an optional bearer token.
//
// TLS when a certificate and key are given; with a client CA, clients must present a
// certificate that CA signed (mutual TLS). With a token, every call except grpc.health.v1 must
// carry `authorization: Bearer <token>`. Failures are UNAUTHENTICATED before any handler runs.
// A token requires TLS: it must never cross the network in clear. The client side is
// libs/rpc/client_channel.h.
//
//   WP_ASSIGN_OR_RETURN(auto creds, MakeServerCredentials(options.security));
//   builder.AddListeningPort(address, creds, &port);
#ifndef WORKERPAIR_LIBS_RPC_SERVER_CREDENTIALS_H_
#define WORKERPAIR_LIBS_RPC_SERVER_CREDENTIALS_H_

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

// INVALID_ARGUMENT for an incomplete combination (key without cert, token without TLS),
// NOT_FOUND for an unreadable file.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerSecurityOptions& options);

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_RPC_SERVER_CREDENTIALS_H_
