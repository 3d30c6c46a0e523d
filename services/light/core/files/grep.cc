#include "services/light/core/files/grep.h"

#include <re2/re2.h>
#include <sys/stat.h>

#include <algorithm>

#include "libs/common/str_cat.h"
#include "libs/common/file_io.h"
#include "libs/common/glob.h"
#include "libs/common/path_confinement.h"
#include "libs/common/status_macros.h"
#include "services/light/core/files/workspace_walk.h"

namespace workerpair::light {
namespace fs = std::filesystem;
namespace {

bool LooksBinary(std::string_view content) {
  return content.substr(0, 8192).find('\0') != std::string_view::npos;
}

}  // namespace

absl::StatusOr<GrepResult> Grep(const Workspace& ws, const GrepOptions& options,
                                const FileLimits& limits) {
  if (options.pattern.empty()) return absl::InvalidArgumentError("grep pattern is empty");
  if (options.pattern.size() > limits.max_pattern_bytes) {
    return absl::InvalidArgumentError(StrCat("grep pattern is ", options.pattern.size(),
                                                   " bytes, over the limit of ",
                                                   limits.max_pattern_bytes));
  }
  RE2::Options re_options;
  re_options.set_log_errors(false);
  re_options.set_case_sensitive(!options.case_insensitive);
  re_options.set_max_mem(8 << 20);
  const RE2 regex(options.pattern, re_options);
  if (!regex.ok()) {
    return absl::InvalidArgumentError(
        StrCat("grep pattern '", options.pattern, "' is not valid RE2: ", regex.error()));
  }

  ConfineOptions confine;
  confine.allow_root = true;
  WP_ASSIGN_OR_RETURN(fs::path start, ConfinePath(ws.root, options.path, confine));
  struct stat st;
  if (::stat(start.c_str(), &st) != 0) {
    return absl::NotFoundError(StrCat("'", options.path, "' does not exist"));
  }

  // Collect candidate files first so results come in path order.
  std::vector<std::string> files;
  if (S_ISREG(st.st_mode)) {
    files.push_back(RelativeToRoot(ws.root, start));
  } else {
    WP_RETURN_IF_ERROR(WalkTree(ws.root, start, /*recursive=*/true,
                                [&](const std::string& relative, const struct stat& entry) {
                                  if (S_ISREG(entry.st_mode) &&
                                      GlobMatches(options.glob, relative)) {
                                    files.push_back(relative);
                                  }
                                  return true;
                                }));
    std::sort(files.begin(), files.end());
  }

  const std::uint32_t cap = options.max_results == 0
                                ? limits.max_grep_results
                                : std::min(options.max_results, limits.max_grep_results);
  GrepResult result;
  for (const std::string& relative : files) {
    absl::StatusOr<std::string> content =
        ReadFileCapped(ws.root / relative, relative, limits.max_read_bytes);
    if (!content.ok() || LooksBinary(*content)) {
      ++result.files_skipped;
      continue;
    }
    ++result.files_searched;
    std::string_view text = *content;
    std::uint64_t line_number = 0;
    while (!text.empty()) {
      ++line_number;
      const std::size_t newline = text.find('\n');
      std::string_view line = text.substr(0, newline);
      text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!RE2::PartialMatch(line, regex)) continue;
      if (result.matches.size() == cap) {
        result.truncated = true;
        return result;
      }
      result.matches.push_back(
          {relative, line_number, std::string(line.substr(0, kMaxGrepLineBytes))});
    }
  }
  return result;
}

}  // namespace workerpair::light
