// ServerRunner: the gRPC server bootstrap every workerpair service uses.
//
// It binds the listen address, registers services, health (grpc.health.v1, one status per
// service plus the overall "" entry) and reflection (grpc.reflection.v1alpha, able to describe
// Health too), writes the bound port to --port_file, and on SIGINT/SIGTERM shuts down with a
// deadline.
//
//   int main(int argc, char** argv) {
//     BlockTerminationSignals();  // first, before any thread exists
//     InitProcess(argc, argv, "...");
//     ServerRunner runner(ServerOptionsFromFlags("worker-light"));
//     FilesService files(...);
//     runner.AddService(&files, v1::LightFilesService::service_full_name());
//     if (auto s = runner.Start(); !s.ok()) { ... }
//     runner.RunUntilSignal();
//   }
#ifndef WORKERPAIR_LIBS_RPC_SERVER_RUNNER_H_
#define WORKERPAIR_LIBS_RPC_SERVER_RUNNER_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "libs/common/metrics_http_server.h"
#include "libs/rpc/process_flags.h"

namespace workerpair {

class RpcMetricsInterceptorFactory;

// Sets the keepalive and connection-age channel arguments of `options` on `builder`: server
// pings after keepalive_time (closing a connection whose ack takes keepalive_timeout), client
// pings accepted every min_client_ping_interval with or without calls in flight, and GOAWAY at
// max_connection_age (+-10% jitter by gRPC) with max_connection_age_grace for calls in flight.
void ApplyConnectionArguments(const ServerOptions& options, grpc::ServerBuilder* builder);

// Blocks SIGINT and SIGTERM in the calling thread and every thread created after it, so that
// RunUntilSignal can receive them with sigwait. Call at the top of main.
void BlockTerminationSignals();

class ServerRunner {
 public:
  explicit ServerRunner(ServerOptions options);
  ~ServerRunner();
  ServerRunner(const ServerRunner&) = delete;
  ServerRunner& operator=(const ServerRunner&) = delete;

  // Registers a service implementation; its health status is reported under `health_name`, its
  // full name (pass v1::LightFilesService::service_full_name()). Call before Start.
  void AddService(grpc::Service* service, std::string health_name);

  // Registers an async/callback service that has no health entry of its own.
  void AddServiceWithoutHealth(grpc::Service* service);

  // Binds and starts serving (and the metrics endpoint, if configured); all services report
  // SERVING. UNAVAILABLE when an address cannot be bound; INVALID_ARGUMENT or NOT_FOUND for bad
  // TLS settings. The port file gets the gRPC port, the metrics port and the health port, one
  // per line (0 for those that are off).
  absl::Status Start();

  // The bound TCP port (after Start).
  int port() const { return port_; }
  // The bound health-only port, or 0 when it is off.
  int health_port() const { return health_port_; }
  // The bound metrics port, or 0 when metrics are off.
  int metrics_port() const { return metrics_ ? metrics_->port() : 0; }

  // Sets every registered service's health status, and the overall "" entry.
  void SetServing(bool serving);

  // Sets only the registered services' health statuses. "" keeps meaning "the process is alive"
  // (what a liveness probe asks) while the services say whether they take new work (readiness).
  void SetServicesServing(bool serving);

  // Blocks until SIGINT or SIGTERM. Then reports the services NOT_SERVING (the overall "" entry
  // stays SERVING while draining, so liveness probes do not kill a pod finishing its jobs),
  // calls `drain` (if any) with the shutdown deadline so the service can finish or hand back
  // its work, and shuts the server down, cancelling calls still running at the deadline.
  void RunUntilSignal(const std::function<void(absl::Time deadline)>& drain = {});

  // Shuts down now, waiting for in-flight calls until `deadline`.
  void Shutdown(absl::Time deadline);

  grpc::Server* server() { return server_.get(); }
  const ServerOptions& options() const { return options_; }

 private:
  ServerOptions options_;
  grpc::ServerBuilder builder_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<MetricsHttpServer> metrics_;
  // Owned by builder_, then server_; told which services are registered so its labels stay a known set.
  RpcMetricsInterceptorFactory* rpc_metrics_ = nullptr;
  // Plaintext, health-only twin of server_ (--health_listen); mirrors its health statuses.
  std::unique_ptr<grpc::Server> health_server_;
  int health_port_ = 0;
  std::vector<std::string> health_names_;
  int port_ = 0;
};

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_RPC_SERVER_RUNNER_H_
