// Reading a folder on the user's machine for `upload` and `run`: its regular files, with the
// paths relative to the folder.
//
// Only regular files travel: symlinks could point outside what the user meant to send, and
// .git is local history the workspace keeps for itself.
//
//   WP_ASSIGN_OR_RETURN(auto files, ReadLocalTree(dir, {.max_total_bytes = 64 << 20}));
#ifndef WORKERPAIR_SERVICES_CONTROLLER_CLI_LOCAL_TREE_H_
#define WORKERPAIR_SERVICES_CONTROLLER_CLI_LOCAL_TREE_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace workerpair::controller::cli {

struct LocalTreeLimits {
  std::uint64_t max_total_bytes = 0;
  std::size_t max_files = std::numeric_limits<std::size_t>::max();
  // Folder names not descended into, wherever they are.
  std::vector<std::string> skip_directories = {".git"};
};

// (relative '/'-separated path, bytes) of every regular file under `dir`, in walk order.
// NOT_FOUND when `dir` is not a directory; RESOURCE_EXHAUSTED past a limit, naming it; the
// error of a file that cannot be read; INTERNAL when the walk fails.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ReadLocalTree(
    const std::filesystem::path& dir, const LocalTreeLimits& limits);

}  // namespace workerpair::controller::cli

#endif  // WORKERPAIR_SERVICES_CONTROLLER_CLI_LOCAL_TREE_H_
