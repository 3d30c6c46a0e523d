// Grep over a workspace: RE2 regular expressions, line by line, glob-filtered.
//
//   WP_ASSIGN_OR_RETURN(GrepResult r, Grep(ws, {.pattern = "zone_goal"}, limits));
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_FILES_GREP_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_FILES_GREP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/light/core/files/file_limits.h"
#include "services/light/core/files/workspace_store.h"

namespace workerpair::light {

struct GrepOptions {
  std::string pattern;  // RE2 syntax
  std::string path;     // directory or file; "" for the workspace
  std::string glob;
  bool case_insensitive = false;
  std::uint32_t max_results = 0;  // 0: the limit
};

struct GrepMatch {
  std::string path;
  std::uint64_t line_number = 0;
  std::string line;
};

struct GrepResult {
  std::vector<GrepMatch> matches;
  bool truncated = false;
  std::uint64_t files_searched = 0;
  std::uint64_t files_skipped = 0;
};

// Longest line text returned per match; longer lines are cut.
inline constexpr std::size_t kMaxGrepLineBytes = 2000;

// Searches regular files (never through symlinks) in path order. INVALID_ARGUMENT for a bad or
// over-long pattern, NOT_FOUND for a missing path. Binary files (a NUL in the first 8 KiB) and
// files over max_read_bytes are skipped and counted.
absl::StatusOr<GrepResult> Grep(const Workspace& ws, const GrepOptions& options,
                                const FileLimits& limits);

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_FILES_GREP_H_
