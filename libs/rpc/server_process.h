// Real service processes on ephemeral loopback ports, and temporary directories: what the
// integration tests, the benchmarks and `controller demo` start worker-light and worker-heavy with.
//
//   TempDir dir;
//   auto light = ServerProcess::Start(WORKERPAIR_LIGHT_BINARY, {"--root=" + dir.path().string()});
//   REQUIRE(light.ok());
//   auto stub = workerpair::v1::LightFilesService::NewStub((*light)->Channel());
#ifndef WORKERPAIR_LIBS_RPC_SERVER_PROCESS_H_
#define WORKERPAIR_LIBS_RPC_SERVER_PROCESS_H_

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace workerpair {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A service binary started with --listen=127.0.0.1:0 and --port_file; Start returns once the
// port file appears (the server is accepting calls). The destructor sends SIGTERM, waits for
// the process, and sends SIGKILL if it has not ended within 15 s.
class ServerProcess {
 public:
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(
      const std::string& binary, const std::vector<std::string>& args,
      absl::Duration timeout = absl::Seconds(60),
      const std::vector<std::pair<std::string, std::string>>& env = {});
  ~ServerProcess();

  int port() const { return port_; }
  // The metrics port, when the server was started with --metrics_listen (0 otherwise).
  int metrics_port() const { return metrics_port_; }
  // The plaintext health-only port, when started with --health_listen (0 otherwise).
  int health_port() const { return health_port_; }
  pid_t pid() const { return pid_; }
  // "127.0.0.1:PORT"
  std::string address() const;
  // A new insecure channel to the server, with message limits large enough for tests.
  std::shared_ptr<grpc::Channel> Channel() const;

  // Sends `signal`; with Wait, observes how the process ended.
  void Signal(int signal);
  // Waits for the process to end; returns its exit status as from waitpid, or -1 on timeout.
  int Wait(absl::Duration timeout = absl::Seconds(30));
  bool running() const { return pid_ > 0; }

 private:
  ServerProcess() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  int metrics_port_ = 0;
  int health_port_ = 0;
  std::unique_ptr<TempDir> run_dir_;
};

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_RPC_SERVER_PROCESS_H_
