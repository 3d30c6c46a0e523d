// Path confinement: resolving untrusted client paths inside a root directory.
//
// Every path a client sends is relative to a root (a workspace, a scratch directory). Before the
// service touches the filesystem it resolves the path here, which refuses anything that would
// reach outside the root:
//
//   WP_ASSIGN_OR_RETURN(std::filesystem::path file, ConfinePath(workspace_root, "src/a.py"));
//
// Errors:
//   INVALID_ARGUMENT   empty path, NUL byte, over-long path or component
//   PERMISSION_DENIED  absolute path, a `..` that climbs above the root, or a symlink (at any
//                      depth) whose target lies outside the root
//
// Checks are made against the filesystem as it is at call time. The services never create
// symlinks themselves, so a client cannot plant one between the check and the use through them.
#ifndef WORKERPAIR_LIBS_COMMON_PATH_CONFINEMENT_H_
#define WORKERPAIR_LIBS_COMMON_PATH_CONFINEMENT_H_

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace workerpair {

struct ConfineOptions {
  // Longest accepted client path, in bytes.
  std::size_t max_path_bytes = 1024;
  // Longest accepted single component, in bytes (ext4 and most filesystems allow 255).
  std::size_t max_component_bytes = 255;
  // When true, "" and "." resolve to the root itself; otherwise they are INVALID_ARGUMENT.
  bool allow_root = false;
  // When false, a symlink in the last component is returned as the link itself (still inside
  // the root) rather than its target: what delete and move want.
  bool follow_final_symlink = true;
};

// Resolves `client_path` ('/'-separated, relative) inside `root`, which must be an absolute,
// canonical directory path. Returns an absolute path inside `root`; components that do not exist
// yet are appended lexically.
absl::StatusOr<std::filesystem::path> ConfinePath(const std::filesystem::path& root,
                                                  std::string_view client_path,
                                                  const ConfineOptions& options = {});

// Returns `path` relative to `root` with '/' separators ("." for the root itself). `path` must be
// inside `root`, as ConfinePath guarantees.
std::string RelativeToRoot(const std::filesystem::path& root, const std::filesystem::path& path);

// True when `path` equals `root` or lies beneath it, comparing whole components.
bool IsWithin(const std::filesystem::path& root, const std::filesystem::path& path);

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_COMMON_PATH_CONFINEMENT_H_
