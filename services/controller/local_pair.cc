#include "services/controller/local_pair.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string_view>
#include <system_error>

#include "libs/common/str_cat.h"

namespace workerpair::controller {
namespace fs = std::filesystem;

absl::StatusOr<std::string> FindServiceBinary(const std::string& name) {
  std::vector<fs::path> candidates;
  std::error_code error;
  const fs::path self = fs::read_symlink("/proc/self/exe", error);
  if (!error) {
    const fs::path dir = self.parent_path();
    candidates = {dir / name, dir / ".." / "light" / name, dir / ".." / "heavy" / name};
  }
  if (const char* path = std::getenv("PATH")) {
    std::string_view rest = path;
    while (!rest.empty()) {
      const std::size_t colon = rest.find(':');
      const std::string_view entry = rest.substr(0, colon);
      if (!entry.empty()) candidates.push_back(fs::path(entry) / name);
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    }
  }
  std::string looked;
  for (const fs::path& candidate : candidates) {
    if (::access(candidate.c_str(), X_OK) == 0 && fs::is_regular_file(candidate, error)) {
      return fs::weakly_canonical(candidate, error).string();
    }
    if (looked.size() < 400) looked += StrCat(looked.empty() ? "" : ", ", candidate.string());
  }
  return absl::NotFoundError(StrCat("cannot find the '", name, "' binary (looked at ", looked,
                                    "); pass its path explicitly"));
}

absl::StatusOr<std::unique_ptr<LocalPair>> LocalPair::Start(const LocalPairOptions& options) {
  if (options.heavy_replicas < 1) {
    return absl::InvalidArgumentError("a local pair needs at least one worker-heavy replica");
  }
  std::string light_binary = options.light_binary;
  if (light_binary.empty()) {
    auto found = FindServiceBinary("worker-light");
    if (!found.ok()) return found.status();
    light_binary = *found;
  }
  std::string heavy_binary = options.heavy_binary;
  if (heavy_binary.empty()) {
    auto found = FindServiceBinary("worker-heavy");
    if (!found.ok()) return found.status();
    heavy_binary = *found;
  }
  std::error_code error;
  fs::create_directories(options.workspaces_root, error);
  if (error) {
    return absl::PermissionDeniedError(StrCat("cannot create '", options.workspaces_root.string(),
                                              "': ", error.message()));
  }
  std::unique_ptr<LocalPair> pair(new LocalPair());
  std::vector<std::string> light_args = {StrCat("--root=", options.workspaces_root.string())};
  light_args.insert(light_args.end(), options.light_args.begin(), options.light_args.end());
  auto light = ServerProcess::Start(light_binary, light_args);
  if (!light.ok()) return light.status();
  pair->light_ = std::move(*light);
  for (int i = 0; i < options.heavy_replicas; ++i) {
    auto heavy = ServerProcess::Start(heavy_binary, options.heavy_args);
    if (!heavy.ok()) return heavy.status();
    pair->heavies_.push_back(std::move(*heavy));
  }
  return pair;
}

std::vector<std::string> LocalPair::heavy_addresses() const {
  std::vector<std::string> addresses;
  for (const auto& heavy : heavies_) addresses.push_back(heavy->address());
  return addresses;
}

bool LocalPair::Stop() {
  std::vector<ServerProcess*> all = {light_.get()};
  for (auto& heavy : heavies_) all.push_back(heavy.get());
  for (ServerProcess* server : all) {
    if (server && server->running()) server->Signal(SIGTERM);
  }
  bool clean = true;
  for (ServerProcess* server : all) {
    if (!server || !server->running()) continue;
    int status = server->Wait(absl::Seconds(20));
    if (status == -1) {
      server->Signal(SIGKILL);
      server->Wait(absl::Seconds(5));
      clean = false;
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      clean = false;
    }
  }
  return clean;
}

}  // namespace workerpair::controller
