#include "libs/rpc/client_channel.h"

#include "libs/rpc/pem_file.h"
#include "libs/rpc/trace_metadata.h"

namespace workerpair {

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeClientChannel(
    const std::string& address, const ClientSecurityOptions& options,
    const std::string& service_config_json) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(64 << 20);
  arguments.SetMaxSendMessageSize(64 << 20);
  // Keepalive: a ping every 10 s, a connection whose peer does not answer within 5 s is closed
  // (a frozen pod, a black-holed network), with or without calls in flight, however long the
  // calls are silent. Servers permit it (libs/rpc/server_runner.cc: pings 5 s apart).
  arguments.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, kClientKeepaliveTimeMs);
  arguments.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kClientKeepaliveTimeoutMs);
  arguments.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  arguments.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  // Give up a connection attempt after 5 s (not 20 s) and retry at most 5 s apart, so a pod
  // that comes back is usable soon and a frozen one fails fast.
  arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 5000);
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
  if (!service_config_json.empty()) arguments.SetServiceConfigJSON(service_config_json);
  if (!options.server_name.empty()) {
    arguments.SetSslTargetNameOverride(options.server_name);
  }
  if (options.ca_file.empty()) {
    if (!options.token.empty()) {
      return absl::InvalidArgumentError("a bearer token needs TLS: give the server's CA file");
    }
    return grpc::experimental::CreateCustomChannelWithInterceptors(
        address, grpc::InsecureChannelCredentials(), arguments, TraceInterceptors());
  }
  grpc::SslCredentialsOptions ssl;
  auto ca = ReadPemFile(options.ca_file, "CA");
  if (!ca.ok()) return ca.status();
  ssl.pem_root_certs = *ca;
  if (!options.cert_file.empty()) {
    auto cert = ReadPemFile(options.cert_file, "client certificate");
    if (!cert.ok()) return cert.status();
    auto key = ReadPemFile(options.key_file, "client key");
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *cert;
    ssl.pem_private_key = *key;
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::SslCredentials(ssl);
  if (!options.token.empty()) {
    credentials = grpc::CompositeChannelCredentials(
        credentials, grpc::AccessTokenCredentials(options.token));
  }
  // Every call carries the calling thread's request trace (x-request-id, traceparent).
  return grpc::experimental::CreateCustomChannelWithInterceptors(address, credentials, arguments,
                                                                 TraceInterceptors());
}

}  // namespace workerpair
