// LocalPair: a worker-light and worker-heavy replicas started as child processes on loopback
// ports, for `controller demo` (and anyone who wants the pair on one machine).
//
// The binaries are found next to the controller's own executable (an installed layout), in the
// build tree's ../light and ../heavy folders, or given explicitly. Destruction stops the
// servers with SIGTERM (graceful drain), then SIGKILL if they hang.
//
//   auto pair = LocalPair::Start({.workspaces_root = "/tmp/demo/workspaces"});
//   LightClient light(CreateChannel((*pair)->light_address()));
#ifndef WORKERPAIR_SERVICES_CONTROLLER_LOCAL_PAIR_H_
#define WORKERPAIR_SERVICES_CONTROLLER_LOCAL_PAIR_H_

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/rpc/server_process.h"

namespace workerpair::controller {

struct LocalPairOptions {
  // worker-light's --root (created when missing).
  std::filesystem::path workspaces_root;
  // Empty: looked up as described above.
  std::string light_binary;
  std::string heavy_binary;
  int heavy_replicas = 1;
  // Extra flags for each server (e.g. {"--slots=1"}).
  std::vector<std::string> light_args;
  std::vector<std::string> heavy_args;
};

class LocalPair {
 public:
  static absl::StatusOr<std::unique_ptr<LocalPair>> Start(const LocalPairOptions& options);

  std::string light_address() const { return light_->address(); }
  std::vector<std::string> heavy_addresses() const;
  ServerProcess& light() { return *light_; }
  ServerProcess& heavy(int index) { return *heavies_.at(index); }

  // Stops every server (SIGTERM, then SIGKILL after a grace period); true when all exited 0.
  bool Stop();

 private:
  std::unique_ptr<ServerProcess> light_;
  std::vector<std::unique_ptr<ServerProcess>> heavies_;
};

// Where a sibling service binary (`worker-light`, `worker-heavy`) is: next to this executable,
// or in the build tree (../light, ../heavy). NOT_FOUND names the places looked at.
absl::StatusOr<std::string> FindServiceBinary(const std::string& name);

}  // namespace workerpair::controller

#endif  // WORKERPAIR_SERVICES_CONTROLLER_LOCAL_PAIR_H_
