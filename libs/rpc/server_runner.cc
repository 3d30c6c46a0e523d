#include "libs/rpc/server_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <fstream>

#include "libs/rpc/call_log_interceptor.h"
#include "libs/common/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "libs/common/process_metrics.h"
#include "libs/rpc/rpc_metrics_interceptor.h"

namespace workerpair {
namespace {

// Writes `port` to `path` via a temporary file and rename, so a reader never sees half a number.
absl::Status WritePortFile(const std::string& path, int port, int metrics_port,
                           int health_port) {
  const std::string temp = StrCat(path, ".tmp.", ::getpid());
  {
    std::ofstream out(temp, std::ios::trunc);
    out << port << "\n" << metrics_port << "\n" << health_port << "\n";
    if (!out.flush()) {
      return absl::UnavailableError(StrCat("cannot write port file '", temp, "'"));
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(StrCat("cannot rename '", temp, "' to '", path, "'"));
  }
  return absl::OkStatus();
}

// Milliseconds for a channel argument; `unlimited` for zero.
int ArgMillis(absl::Duration value, int unlimited) {
  if (value <= absl::ZeroDuration()) return unlimited;
  return static_cast<int>(std::min<std::int64_t>(absl::ToInt64Milliseconds(value), INT_MAX));
}

}  // namespace

void ApplyConnectionArguments(const ServerOptions& options, grpc::ServerBuilder* builder) {
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                              ArgMillis(options.keepalive_time, INT_MAX));
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                              ArgMillis(options.keepalive_timeout, 20000));
  // Clients ping while idle too (they keep channels to every replica warm).
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                              ArgMillis(options.min_client_ping_interval, 0));
  // The server's own pings are not limited by how much data it sends.
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                              ArgMillis(options.max_connection_age, INT_MAX));
  builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                              ArgMillis(options.max_connection_age_grace, INT_MAX));
}

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

ServerRunner::ServerRunner(ServerOptions options) : options_(std::move(options)) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  // Reflection can describe only what the generated pool holds: touching the Health descriptor
  // links health.proto's generated code in, so grpc.health.v1.Health is describable too.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();

  ApplyConnectionArguments(options_, &builder_);
  builder_.SetMaxReceiveMessageSize(options_.max_message_bytes);
  builder_.SetMaxSendMessageSize(options_.max_message_bytes);
  grpc::ResourceQuota quota(StrCat(options_.service_name, "-quota"));
  quota.SetMaxThreads(options_.max_rpc_threads);
  builder_.SetResourceQuota(quota);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  auto rpc_metrics = std::make_unique<RpcMetricsInterceptorFactory>(&MetricsRegistry::Default());
  rpc_metrics_ = rpc_metrics.get();
  // Health and reflection are served on every server (above); AddService adds the rest.
  rpc_metrics_->AddKnownService(grpc::health::v1::Health::service_full_name());
  rpc_metrics_->AddKnownService("grpc.reflection.v1alpha.ServerReflection");
  creators.push_back(std::move(rpc_metrics));
  // One line per call: at info for a job's calls (they carry x-request-id), else at debug.
  creators.push_back(std::make_unique<CallLogInterceptorFactory>(options_.service_name, rpc_metrics_));
  builder_.experimental().SetInterceptorCreators(std::move(creators));
  RegisterProcessMetrics(&MetricsRegistry::Default());
}

ServerRunner::~ServerRunner() {
  if (server_) Shutdown(absl::Now());
}

void ServerRunner::AddService(grpc::Service* service, std::string health_name) {
  builder_.RegisterService(service);
  if (!rpc_metrics_->AddKnownService(health_name)) {
    spdlog::warn("{}: no descriptor for service '{}'; its calls count as method=\"unknown\"",
                 options_.service_name, health_name);
  }
  health_names_.push_back(std::move(health_name));
}

void ServerRunner::AddServiceWithoutHealth(grpc::Service* service) {
  builder_.RegisterService(service);
}

absl::Status ServerRunner::Start() {
  auto credentials = MakeServerCredentials(options_.security);
  if (!credentials.ok()) return credentials.status();
  if (!options_.metrics_listen.empty()) {
    auto metrics = MetricsHttpServer::Start(options_.metrics_listen, &MetricsRegistry::Default());
    if (!metrics.ok()) return metrics.status();
    metrics_ = std::move(*metrics);
  }
  builder_.AddListeningPort(options_.listen_address, *credentials, &port_);
  server_ = builder_.BuildAndStart();
  if (!server_ || port_ == 0) {
    server_.reset();
    return absl::UnavailableError(
        StrCat("cannot listen on '", options_.listen_address, "'"));
  }
  if (!options_.health_listen.empty()) {
    // No services registered: the default health service is all this server has.
    grpc::ServerBuilder health_builder;
    health_builder.AddListeningPort(options_.health_listen, grpc::InsecureServerCredentials(),
                                    &health_port_);
    health_server_ = health_builder.BuildAndStart();
    if (!health_server_ || health_port_ == 0) {
      return absl::UnavailableError(
          StrCat("cannot listen for health checks on '", options_.health_listen, "'"));
    }
  }
  SetServing(true);
  spdlog::info("{} listening on {} (port {}{}){}", options_.service_name,
               options_.listen_address, port_,
               options_.security.cert_file.empty() ? ", plaintext" : ", TLS",
               metrics_ ? StrCat("; metrics on port ", metrics_->port()) : std::string());
  if (!options_.port_file.empty()) {
    if (absl::Status status = WritePortFile(options_.port_file, port_, metrics_port(), health_port_); !status.ok()) return status;
  }
  return absl::OkStatus();
}

void ServerRunner::SetServing(bool serving) {
  for (grpc::Server* server : {server_.get(), health_server_.get()}) {
    if (server == nullptr) continue;
    if (grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService()) {
      health->SetServingStatus(serving);
    }
  }
  SetServicesServing(serving);
}

void ServerRunner::SetServicesServing(bool serving) {
  for (grpc::Server* server : {server_.get(), health_server_.get()}) {
    if (server == nullptr) continue;
    grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
    if (health == nullptr) continue;
    for (const std::string& name : health_names_) health->SetServingStatus(name, serving);
  }
}

void ServerRunner::RunUntilSignal(const std::function<void(absl::Time deadline)>& drain) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int signal_number = 0;
  sigwait(&set, &signal_number);
  const absl::Time deadline = absl::Now() + options_.shutdown_grace;
  spdlog::info("{}: received {}, shutting down (grace {})", options_.service_name,
               signal_number == SIGTERM ? "SIGTERM" : "SIGINT",
               absl::FormatDuration(options_.shutdown_grace));
  SetServicesServing(false);
  if (drain) drain(deadline);
  Shutdown(deadline);
}

void ServerRunner::Shutdown(absl::Time deadline) {
  if (!server_) return;
  SetServing(false);
  server_->Shutdown(absl::ToChronoTime(deadline));
  server_->Wait();
  server_.reset();
  if (health_server_) {
    health_server_->Shutdown(absl::ToChronoTime(deadline));
    health_server_.reset();
  }
  metrics_.reset();
  spdlog::info("{}: stopped", options_.service_name);
}

}  // namespace workerpair
