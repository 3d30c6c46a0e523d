// Walking a workspace directory tree without following symlinks, skipping `.git`, the
// service's own temporary files and names that are not valid UTF-8. Shared by list, grep and anything else that scans a workspace.
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_FILES_WORKSPACE_WALK_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_FILES_WORKSPACE_WALK_H_

#include <sys/stat.h>

#include <filesystem>
#include <functional>
#include <string>

#include "absl/status/status.h"

namespace workerpair::light {

// Calls `visit(relative_path, lstat)` for every entry under `start` (not `start` itself), in
// no particular order; relative paths are relative to `root`. Directory symlinks are reported
// but never entered. `visit` returns false to stop the walk.
absl::Status WalkTree(const std::filesystem::path& root, const std::filesystem::path& start,
                      bool recursive,
                      const std::function<bool(const std::string&, const struct stat&)>& visit);

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_FILES_WORKSPACE_WALK_H_
