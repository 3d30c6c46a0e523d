#include "services/light/core/files/workspace_walk.h"

#include <system_error>

#include "libs/common/file_io.h"
#include "libs/common/path_confinement.h"

namespace workerpair::light {
namespace fs = std::filesystem;

absl::Status WalkTree(const fs::path& root, const fs::path& start, bool recursive,
                      const std::function<bool(const std::string&, const struct stat&)>& visit) {
  std::error_code ec;
  fs::recursive_directory_iterator it(start, fs::directory_options::skip_permission_denied, ec);
  if (ec) return ErrnoError(ec.value(), "listing", RelativeToRoot(root, start));
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return ErrnoError(ec.value(), "listing", RelativeToRoot(root, start));
    const fs::path& path = it->path();
    const std::string name = path.filename().string();
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;  // vanished meanwhile
    if (S_ISDIR(st.st_mode) && (name == ".git" || !recursive)) it.disable_recursion_pending();
    if (name == ".git" || name.starts_with(kTempFilePrefix)) continue;
    if (!visit(RelativeToRoot(root, path), st)) break;
  }
  return absl::OkStatus();
}

}  // namespace workerpair::light
