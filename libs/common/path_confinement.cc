#include "libs/common/path_confinement.h"

#include <sys/stat.h>

#include <system_error>
#include <algorithm>
#include <vector>

#include "absl/status/status.h"
#include "libs/common/str_cat.h"

namespace workerpair {
namespace fs = std::filesystem;
namespace {

// Quotes a client path for an error message, cut short so a huge path cannot flood logs.
std::string Quote(std::string_view path) {
  constexpr std::size_t kMaxShown = 200;
  if (path.size() <= kMaxShown) return StrCat("'", path, "'");
  return StrCat("'", path.substr(0, kMaxShown), "...'");
}

}  // namespace

bool IsWithin(const fs::path& root, const fs::path& path) {
  auto root_it = root.begin();
  auto path_it = path.begin();
  for (; root_it != root.end(); ++root_it, ++path_it) {
    // A trailing separator on the root shows up as an empty last component.
    if (root_it->empty() && std::next(root_it) == root.end()) return true;
    if (path_it == path.end() || *root_it != *path_it) return false;
  }
  return true;
}

std::string RelativeToRoot(const fs::path& root, const fs::path& path) {
  return path.lexically_relative(root).generic_string();
}

absl::StatusOr<fs::path> ConfinePath(const fs::path& root, std::string_view client_path,
                                     const ConfineOptions& options) {
  // Shape checks that need no filesystem access.
  if (client_path.size() > options.max_path_bytes) {
    return absl::InvalidArgumentError(StrCat("path ", Quote(client_path), " is ",
                                                   client_path.size(), " bytes, over the limit of ",
                                                   options.max_path_bytes));
  }
  if (client_path.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        StrCat("path ", Quote(client_path), " contains a NUL byte"));
  }
  if (!client_path.empty() && client_path.front() == '/') {
    return absl::PermissionDeniedError(StrCat(
        "path ", Quote(client_path), " is absolute; paths are relative to the workspace"));
  }

  // Lexical normalisation: `.` and empty components vanish, `..` pops, and popping past the
  // root is an escape.
  std::vector<std::string_view> components;
  for (std::size_t begin = 0; begin <= client_path.size();) {
    const std::size_t slash = std::min(client_path.find('/', begin), client_path.size());
    const std::string_view part = client_path.substr(begin, slash - begin);
    begin = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (components.empty()) {
        return absl::PermissionDeniedError(StrCat(
            "path ", Quote(client_path), " escapes the workspace through '..'"));
      }
      components.pop_back();
      continue;
    }
    if (part.size() > options.max_component_bytes) {
      return absl::InvalidArgumentError(StrCat("path ", Quote(client_path),
                                                     " has a component of ", part.size(),
                                                     " bytes, over the limit of ",
                                                     options.max_component_bytes));
    }
    components.push_back(part);
  }
  if (components.empty() && !options.allow_root) {
    return absl::InvalidArgumentError(
        StrCat("path ", Quote(client_path), " names no file (it is empty or the root)"));
  }

  // Walk the components that exist, resolving each symlink and checking where it lands.
  fs::path resolved = root;
  for (std::size_t i = 0; i < components.size(); ++i) {
    fs::path next = resolved / std::string(components[i]);
    struct stat st;
    if (::lstat(next.c_str(), &st) != 0) {
      // The rest does not exist yet: nothing below can be a symlink.
      for (std::size_t j = i; j < components.size(); ++j) resolved /= std::string(components[j]);
      return resolved;
    }
    if (!S_ISLNK(st.st_mode)) {
      resolved = std::move(next);
      continue;
    }
    // The link itself lives inside the root; only following it could lead out.
    if (i + 1 == components.size() && !options.follow_final_symlink) return next;
    std::error_code ec;
    fs::path target = fs::weakly_canonical(next, ec);
    if (ec || !IsWithin(root, target)) {
      return absl::PermissionDeniedError(StrCat(
          "path ", Quote(client_path), " leads outside the workspace through symlink '",
          RelativeToRoot(root, next), "'"));
    }
    resolved = std::move(target);
  }
  return resolved;
}

}  // namespace workerpair
