// MetricsHttpServer: serves MetricsRegistry::Render() as `GET /metrics` over plain HTTP/1.0, for
// Prometheus scrapes. One small thread; requests are tiny and answered one at a time.
//
//   WP_ASSIGN_OR_RETURN(auto server, MetricsHttpServer::Start("0.0.0.0:9092", &registry));
//   int port = server->port();
#ifndef WORKERPAIR_LIBS_COMMON_METRICS_HTTP_SERVER_H_
#define WORKERPAIR_LIBS_COMMON_METRICS_HTTP_SERVER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "libs/common/metrics.h"

namespace workerpair {

class MetricsHttpServer {
 public:
  // Binds `address` (host:port; port 0 picks one). INVALID_ARGUMENT for a malformed address,
  // UNAVAILABLE when it cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(const std::string& address,
                                                                  MetricsRegistry* registry);
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  int port() const { return port_; }

 private:
  MetricsHttpServer(int fd, int port, MetricsRegistry* registry);
  void Serve();
  void Answer(int client);

  int listen_fd_;
  int port_;
  MetricsRegistry* registry_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_COMMON_METRICS_HTTP_SERVER_H_
