// Grep over a workspace: RE2 regular expressions, line by line, glob-filtered.
//
//   WP_ASSIGN_OR_RETURN(GrepResult r, Grep(ws, {.pattern = "zone_goal"}, limits));
//   WP_ASSIGN_OR_RETURN(GrepResult r, Grep(ws, {.pattern = "x", .budget = &budget}, limits));
//
// Matching cost is bounded whatever the pattern and the file: lines are matched with RE2's
// DFA only (RE2::Set), never its NFA fallback, whose cost is pattern size x text (a pattern like
// [a-z]{999}[0-9] ran 70 s on 15 MB that way); the DFA's memory is capped at
// kGrepRegexMemoryBytes, and a pattern whose DFA outgrows it on some line is INVALID_ARGUMENT.
// A line is matched in windows of at most kGrepWindowBytes, and the call's budget is checked
// between windows, so a cancelled or timed-out call stops within a fraction of a second.
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_FILES_GREP_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_FILES_GREP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/call_budget.h"
#include "services/light/core/files/file_limits.h"
#include "services/light/core/files/workspace_store.h"

namespace workerpair::light {

struct GrepOptions {
  std::string pattern;  // RE2 syntax
  std::string path;     // directory or file; "" for the workspace
  std::string glob;
  bool case_insensitive = false;
  std::uint32_t max_results = 0;  // 0: the limit
  // Checked between files and lines; null for none.
  const CallBudget* budget = nullptr;
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

// Memory RE2 may use for one pattern (program and DFA state cache).
inline constexpr std::int64_t kGrepRegexMemoryBytes = 8 << 20;

// Longest piece of a line one DFA run sees. RE2's DFA costs at most a few microseconds per byte
// even when its cache thrashes, so one window takes well under a second. A longer line is
// matched in windows overlapping by kGrepWindowOverlapBytes: a match longer than the overlap
// that spans two windows can be missed, and ^, $ and \b also hold at window edges.
inline constexpr std::size_t kGrepWindowBytes = 64u << 10;
inline constexpr std::size_t kGrepWindowOverlapBytes = 4u << 10;

// Searches regular files (never through symlinks) in path order. INVALID_ARGUMENT for a bad or
// over-long pattern, or one too costly for RE2's memory budget on a line it meets (naming the
// file and line); NOT_FOUND for a missing path; the budget's CANCELLED / DEADLINE_EXCEEDED
// when it runs out. Binary files (a NUL in the first 8 KiB) and files over max_read_bytes are
// skipped and counted.
absl::StatusOr<GrepResult> Grep(const Workspace& ws, const GrepOptions& options,
                                const FileLimits& limits);

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_FILES_GREP_H_
