#include "libs/rpc/server_credentials.h"

#include <grpcpp/security/auth_metadata_processor.h>

#include <string_view>
#include <utility>

#include "libs/common/str_cat.h"
#include "libs/rpc/pem_file.h"

namespace workerpair {
namespace {

// Compares without an early exit, so response time does not reveal a matching prefix.
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// Runs before every call on a TLS port: checks the client certificate (mutual TLS) and the
// bearer token, except for health checks, which probes make without credentials.
class CallAuthenticator final : public grpc::AuthMetadataProcessor {
 public:
  CallAuthenticator(std::string token, bool require_client_cert)
      : token_(std::move(token)), require_client_cert_(require_client_cert) {}

  bool IsBlocking() const override { return false; }

  grpc::Status Process(const InputMetadata& metadata, grpc::AuthContext* context,
                       OutputMetadata*, OutputMetadata*) override {
    std::string_view path;
    std::string_view authorization;
    for (const auto& [key, value] : metadata) {
      if (key == ":path") path = std::string_view(value.data(), value.size());
      if (key == "authorization") authorization = std::string_view(value.data(), value.size());
    }
    if (path.starts_with("/grpc.health.v1.Health/")) return grpc::Status::OK;
    if (require_client_cert_ && !context->IsPeerAuthenticated()) {
      return {grpc::StatusCode::UNAUTHENTICATED,
              "a client certificate signed by the configured CA is required"};
    }
    if (!token_.empty()) {
      constexpr std::string_view kBearer = "Bearer ";
      if (!authorization.starts_with(kBearer)) {
        return {grpc::StatusCode::UNAUTHENTICATED, "missing 'authorization: Bearer' token"};
      }
      if (!ConstantTimeEquals(authorization.substr(kBearer.size()), token_)) {
        return {grpc::StatusCode::UNAUTHENTICATED, "bearer token is not valid"};
      }
    }
    return grpc::Status::OK;
  }

 private:
  std::string token_;
  bool require_client_cert_;
};

std::string TrimToken(std::string token) {
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
    token.pop_back();
  }
  return token;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerSecurityOptions& options) {
  if (options.cert_file.empty()) {
    if (!options.key_file.empty() || !options.client_ca_file.empty()) {
      return absl::InvalidArgumentError("--tls_key and --tls_client_ca need --tls_cert");
    }
    if (!options.token_file.empty()) {
      return absl::InvalidArgumentError(
          "--auth_token_file needs TLS (--tls_cert and --tls_key): a bearer token must not "
          "cross the network in clear");
    }
    return grpc::InsecureServerCredentials();
  }
  if (options.key_file.empty()) return absl::InvalidArgumentError("--tls_cert needs --tls_key");
  auto cert = ReadPemFile(options.cert_file, "TLS certificate");
  if (!cert.ok()) return cert.status();
  auto key = ReadPemFile(options.key_file, "TLS key");
  if (!key.ok()) return key.status();

  const bool mutual = !options.client_ca_file.empty();
  // Request-and-verify (not require) so a client without a certificate completes the handshake
  // and gets a clear UNAUTHENTICATED from CallAuthenticator, and health probes still work.
  grpc::SslServerCredentialsOptions ssl(mutual ? GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY
                                               : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  if (mutual) {
    auto ca = ReadPemFile(options.client_ca_file, "client CA");
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *ca;
  }
  ssl.pem_key_cert_pairs.push_back({*key, *cert});
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::SslServerCredentials(ssl);

  std::string token;
  if (!options.token_file.empty()) {
    auto read = ReadPemFile(options.token_file, "auth token");
    if (!read.ok()) return read.status();
    token = TrimToken(*read);
    if (token.empty()) {
      return absl::InvalidArgumentError(
          StrCat("auth token file '", options.token_file, "' is empty"));
    }
  }
  if (mutual || !token.empty()) {
    credentials->SetAuthMetadataProcessor(
        std::make_shared<CallAuthenticator>(std::move(token), mutual));
  }
  return credentials;
}

}  // namespace workerpair
