#include "services/light/core/lint/workspace_refs.h"

#include <sys/stat.h>

#include "absl/status/status.h"
#include "libs/common/path_confinement.h"

namespace workerpair::light {

std::string ParentDir(std::string_view relative_file) {
  const std::size_t slash = relative_file.rfind('/');
  if (slash == std::string_view::npos) return "";
  return std::string(relative_file.substr(0, slash));
}

std::string JoinRelative(std::string_view a, std::string_view b) {
  if (a.empty() || a == ".") return std::string(b);
  if (b.empty() || b == ".") return std::string(a);
  std::string joined(a);
  if (joined.back() != '/') joined.push_back('/');
  joined.append(b);
  return joined;
}

ResolvedRef ResolveReference(const std::filesystem::path& root, std::string_view base_dir,
                             std::string_view reference) {
  ResolvedRef result;
  if (reference.empty()) {
    result.problem = RefProblem::kInvalid;
    return result;
  }
  // An absolute reference is never confined, whatever it names.
  if (reference.front() == '/' || base_dir.starts_with('/')) {
    result.problem = RefProblem::kOutside;
    return result;
  }
  const std::string joined = JoinRelative(base_dir, reference);
  absl::StatusOr<std::filesystem::path> path = ConfinePath(root, joined);
  if (!path.ok()) {
    result.problem = path.status().code() == absl::StatusCode::kPermissionDenied
                         ? RefProblem::kOutside
                         : RefProblem::kInvalid;
    return result;
  }
  result.relative = RelativeToRoot(root, *path);
  struct stat st;
  if (::stat(path->c_str(), &st) != 0) {
    result.problem = RefProblem::kMissing;
  } else if (!S_ISREG(st.st_mode)) {
    result.problem = RefProblem::kNotFile;
  }
  return result;
}

}  // namespace workerpair::light
