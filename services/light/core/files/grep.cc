#include "services/light/core/files/grep.h"

#include <re2/re2.h>
#include <re2/set.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>

#include "libs/common/file_io.h"
#include "libs/common/glob.h"
#include "libs/common/path_confinement.h"
#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "libs/common/text_preview.h"
#include "libs/common/utf8.h"
#include "services/light/core/files/workspace_walk.h"

namespace workerpair::light {
namespace fs = std::filesystem;
namespace {

bool LooksBinary(std::string_view content) {
  return content.substr(0, 8192).find('\0') != std::string_view::npos;
}

// One pattern compiled for DFA-only matching (a one-pattern RE2::Set: its Match never falls
// back to the NFA and reports when the DFA runs out of memory instead).
class LineMatcher {
 public:
  static absl::StatusOr<std::unique_ptr<LineMatcher>> Compile(const std::string& pattern,
                                                              bool case_insensitive) {
    RE2::Options options;
    options.set_log_errors(false);
    options.set_case_sensitive(!case_insensitive);
    options.set_max_mem(kGrepRegexMemoryBytes);
    auto matcher = std::unique_ptr<LineMatcher>(new LineMatcher(options));
    std::string error;
    if (matcher->set_.Add(pattern, &error) < 0) {
      return absl::InvalidArgumentError(
          StrCat("grep pattern '", TextPreview(pattern), "' is not valid RE2: ", error));
    }
    if (!matcher->set_.Compile()) {
      return absl::InvalidArgumentError(
          StrCat("grep pattern '", TextPreview(pattern), "' is too large for RE2's ",
                 kGrepRegexMemoryBytes >> 20, " MiB memory budget"));
    }
    return matcher;
  }

  // Whether `line` matches, in windows (see grep.h), checking `budget` between them.
  // INVALID_ARGUMENT when the DFA outgrows its memory budget.
  absl::StatusOr<bool> Matches(std::string_view line, const CallBudget* budget) const {
    std::size_t start = 0;
    while (true) {
      const std::string_view window = line.substr(start, kGrepWindowBytes);
      RE2::Set::ErrorInfo info{};
      if (set_.Match(re2::StringPiece(window.data(), window.size()), nullptr, &info)) return true;
      if (info.kind != RE2::Set::kNoError) {
        return absl::InvalidArgumentError(
            info.kind == RE2::Set::kOutOfMemory
                ? StrCat("is too costly: RE2 ran out of its ", kGrepRegexMemoryBytes >> 20,
                         " MiB memory budget")
                : StrCat("could not be matched (RE2 error ", static_cast<int>(info.kind), ")"));
      }
      if (start + window.size() >= line.size()) return false;
      start += kGrepWindowBytes - kGrepWindowOverlapBytes;
      if (budget != nullptr) WP_RETURN_IF_ERROR(budget->Check());
    }
  }

 private:
  explicit LineMatcher(const RE2::Options& options) : set_(options, RE2::UNANCHORED) {}

  RE2::Set set_;
};

}  // namespace

absl::StatusOr<GrepResult> Grep(const Workspace& ws, const GrepOptions& options,
                                const FileLimits& limits) {
  if (options.pattern.empty()) return absl::InvalidArgumentError("grep pattern is empty");
  if (options.pattern.size() > limits.max_pattern_bytes) {
    return absl::InvalidArgumentError(StrCat("grep pattern is ", options.pattern.size(),
                                             " bytes, over the limit of ",
                                             limits.max_pattern_bytes));
  }
  WP_ASSIGN_OR_RETURN(std::unique_ptr<LineMatcher> matcher,
                      LineMatcher::Compile(options.pattern, options.case_insensitive));
  const CallBudget* budget = options.budget;
  auto check_budget = [budget] { return budget != nullptr ? budget->Check() : absl::OkStatus(); };

  ConfineOptions confine;
  confine.allow_root = true;
  WP_ASSIGN_OR_RETURN(fs::path start, ConfinePath(ws.root, options.path, confine));
  struct stat st;
  if (::stat(start.c_str(), &st) != 0) {
    return absl::NotFoundError(StrCat("'", TextPreview(options.path), "' does not exist"));
  }

  // Collect candidate files first so results come in path order.
  std::vector<std::string> files;
  if (S_ISREG(st.st_mode)) {
    files.push_back(RelativeToRoot(ws.root, start));
  } else {
    WP_RETURN_IF_ERROR(WalkTree(ws.root, start, /*recursive=*/true,
                                [&](const std::string& relative, const struct stat& entry) {
                                  if (budget != nullptr && budget->Exhausted()) return false;
                                  if (S_ISREG(entry.st_mode) &&
                                      GlobMatches(options.glob, relative)) {
                                    files.push_back(relative);
                                  }
                                  return true;
                                }));
    WP_RETURN_IF_ERROR(check_budget());
    std::sort(files.begin(), files.end());
  }

  const std::uint32_t cap = options.max_results == 0
                                ? limits.max_grep_results
                                : std::min(options.max_results, limits.max_grep_results);
  GrepResult result;
  for (const std::string& relative : files) {
    WP_RETURN_IF_ERROR(check_budget());
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
      // One clock read per line; lines are matched in bounded windows.
      WP_RETURN_IF_ERROR(check_budget());
      const std::size_t newline = text.find('\n');
      std::string_view line = text.substr(0, newline);
      text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      absl::StatusOr<bool> matched = matcher->Matches(line, budget);
      if (!matched.ok()) {
        if (matched.status().code() != absl::StatusCode::kInvalidArgument) {
          return matched.status();
        }
        return absl::InvalidArgumentError(StrCat("grep pattern '", TextPreview(options.pattern),
                                                 "' ", std::string(matched.status().message()), " on '",
                                                 relative, "' line ", line_number));
      }
      if (!*matched) continue;
      if (result.matches.size() == cap) {
        result.truncated = true;
        return result;
      }
      result.matches.push_back(
          {relative, line_number, ToValidUtf8(line.substr(0, kMaxGrepLineBytes))});
    }
  }
  return result;
}

}  // namespace workerpair::light
