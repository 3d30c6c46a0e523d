#include "services/light/core/files/workspace_walk.h"

#include <system_error>

#include "libs/common/file_io.h"
#include "libs/common/path_confinement.h"
#include "libs/common/utf8.h"

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
    // A name that is not UTF-8 cannot travel in a reply (proto3 strings) nor be named by any
    // call, so it is left out rather than breaking the whole listing.
    if (!IsValidUtf8(name)) {
      if (S_ISDIR(st.st_mode)) it.disable_recursion_pending();
      continue;
    }
    if (!visit(RelativeToRoot(root, path), st)) break;
  }
  return absl::OkStatus();
}

}  // namespace workerpair::light
