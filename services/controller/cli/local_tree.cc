#include "services/controller/cli/local_tree.h"

#include <algorithm>

#include "libs/common/file_io.h"
#include "libs/common/str_cat.h"

namespace workerpair::controller::cli {
namespace fs = std::filesystem;

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ReadLocalTree(
    const fs::path& dir, const LocalTreeLimits& limits) {
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    return absl::NotFoundError(StrCat("'", dir.string(), "' is not a directory"));
  }
  std::vector<std::pair<std::string, std::string>> files;
  std::uint64_t total = 0;
  fs::recursive_directory_iterator it(dir, error), end;
  for (; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (it->is_directory() && std::find(limits.skip_directories.begin(),
                                        limits.skip_directories.end(),
                                        name) != limits.skip_directories.end()) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_symlink() || !it->is_regular_file()) continue;
    if (files.size() >= limits.max_files) {
      return absl::ResourceExhaustedError(
          StrCat("'", dir.string(), "' holds more than ", limits.max_files, " files"));
    }
    auto bytes = ReadFileCapped(it->path(), it->path().string(), limits.max_total_bytes);
    if (!bytes.ok()) return bytes.status();
    total += bytes->size();
    if (total > limits.max_total_bytes) {
      return absl::ResourceExhaustedError(StrCat("more than ", limits.max_total_bytes >> 20,
                                                 " MiB under '", dir.string(), "'"));
    }
    files.emplace_back(it->path().lexically_relative(dir).generic_string(), *std::move(bytes));
  }
  if (error) {
    return absl::InternalError(StrCat("cannot walk '", dir.string(), "': ", error.message()));
  }
  return files;
}

}  // namespace workerpair::controller::cli
