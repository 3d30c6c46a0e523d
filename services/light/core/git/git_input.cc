#include "services/light/core/git/git_input.h"

#include <git2.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <system_error>

#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "libs/common/text_preview.h"
#include "services/light/core/git/git_util.h"

namespace workerpair::light {
namespace fs = std::filesystem;
namespace {

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool IsValidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;  // truncated sequence
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (next & 0x3F);
    }
    if ((extra == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

// The first byte below 0x20 or 0x7f that `allowed` does not list; npos when none.
std::size_t FindControl(std::string_view text, std::string_view allowed = "") {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 || c == 0x7f) && allowed.find(static_cast<char>(c)) == std::string_view::npos) {
      return i;
    }
  }
  return std::string_view::npos;
}

absl::Status CheckText(std::string_view what, std::string_view text, std::size_t max_bytes,
                       std::string_view allowed_controls) {
  if (text.size() > max_bytes) {
    return absl::InvalidArgumentError(
        StrCat(what, " is ", text.size(), " bytes, over the limit of ", max_bytes));
  }
  if (const std::size_t at = FindControl(text, allowed_controls); at != std::string_view::npos) {
    return absl::InvalidArgumentError(
        StrCat(what, " '", TextPreview(text), "' has a control character at byte ", at,
               allowed_controls.empty() ? "" : " (only newline and tab are allowed)"));
  }
  if (!IsValidUtf8(text)) {
    return absl::InvalidArgumentError(StrCat(what, " '", TextPreview(text), "' is not UTF-8"));
  }
  return absl::OkStatus();
}

absl::Status CheckAuthorField(std::string_view what, std::string_view value) {
  if (value.empty()) return absl::InvalidArgumentError("author name and email are required");
  WP_RETURN_IF_ERROR(CheckText(what, value, kMaxAuthorFieldBytes, ""));
  if (value.find_first_of("<>") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        StrCat(what, " '", TextPreview(value), "' must not contain '<' or '>'"));
  }
  if (value.front() == ' ' || value.back() == ' ') {
    return absl::InvalidArgumentError(
        StrCat(what, " '", TextPreview(value), "' must not start or end with a space"));
  }
  return absl::OkStatus();
}

// A push target split for comparison: local paths vs URLs with a scheme/host and a path.
struct PushTarget {
  bool local = false;
  // "https://host" or "git@host:" for URLs; empty for local paths.
  std::string origin;
  // The path, normalised.
  std::string path;

  std::string Text() const { return origin + path; }
};

// "." and ".." segments removed from a '/'-separated path. INVALID_ARGUMENT when ".." would
// climb above its start.
absl::StatusOr<std::string> RemoveDotSegments(std::string_view path, std::string_view original) {
  const bool absolute = path.starts_with('/');
  const bool trailing = path.ends_with('/');
  std::vector<std::string_view> kept;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view segment = path.substr(start, end - start);
    if (segment == "..") {
      if (kept.empty()) {
        return absl::InvalidArgumentError(
            StrCat("remote URL '", TextPreview(original), "' climbs above its root with '..'"));
      }
      kept.pop_back();
    } else if (!segment.empty() && segment != ".") {
      kept.push_back(segment);
    }
    start = end + 1;
  }
  std::string out = absolute ? "/" : "";
  for (std::size_t i = 0; i < kept.size(); ++i) {
    if (i > 0) out += "/";
    out += kept[i];
  }
  if (trailing && !kept.empty()) out += "/";
  return out;
}

absl::StatusOr<PushTarget> ParsePushTarget(std::string_view url) {
  PushTarget target;
  std::string_view path;
  if (url.starts_with("file://")) {
    path = url.substr(7);
    if (path.starts_with("localhost/")) path.remove_prefix(9);
    if (!path.starts_with('/')) {
      return absl::InvalidArgumentError(
          StrCat("remote URL '", TextPreview(url), "': file:// URLs must name a local path"));
    }
    target.local = true;
  } else if (const std::size_t scheme = url.find("://"); scheme != std::string_view::npos) {
    const std::size_t slash = url.find('/', scheme + 3);
    target.origin = std::string(url.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view("/") : url.substr(slash);
  } else if (const std::size_t colon = url.find(':');
             colon != std::string_view::npos && colon > 0 && colon < url.find('/')) {
    // scp-like [user@]host:path
    target.origin = std::string(url.substr(0, colon + 1));
    path = url.substr(colon + 1);
  } else {
    target.local = true;
    path = url;
  }
  if (target.local) {
    std::error_code ec;
    const fs::path resolved = fs::weakly_canonical(fs::path(std::string(path)), ec);
    if (ec) {
      return absl::InvalidArgumentError(
          StrCat("remote path '", TextPreview(url), "' cannot be resolved"));
    }
    target.path = resolved.lexically_normal().string();
    while (target.path.size() > 1 && target.path.ends_with('/')) target.path.pop_back();
    return target;
  }
  // Percent-encoded '.', '/' or '\' could hide a ".." from the check below.
  std::string lower(path);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (std::string_view encoded : {"%2e", "%2f", "%5c"}) {
    if (lower.find(encoded) != std::string::npos) {
      return absl::InvalidArgumentError(StrCat("remote URL '", TextPreview(url),
                                               "' has a percent-encoded '.', '/' or '\\'"));
    }
  }
  if (path.find('\\') != std::string_view::npos) {
    return absl::InvalidArgumentError(StrCat("remote URL '", TextPreview(url), "' has a '\\'"));
  }
  WP_ASSIGN_OR_RETURN(target.path, RemoveDotSegments(path, url));
  return target;
}

// True when `target` lies under `prefix`: equal, or `prefix` followed by a '/' in `target` (a
// prefix already ending in '/' needs nothing more).
bool Under(const PushTarget& target, const PushTarget& prefix) {
  if (target.local != prefix.local || target.origin != prefix.origin) return false;
  const std::string& t = target.path;
  const std::string& p = prefix.path;
  if (!t.starts_with(p)) return false;
  return t.size() == p.size() || p.ends_with('/') || t[p.size()] == '/';
}

}  // namespace

absl::Status ValidateAuthor(const GitAuthor& author) {
  WP_RETURN_IF_ERROR(CheckAuthorField("author name", author.name));
  return CheckAuthorField("author email", author.email);
}

absl::Status ValidateCommitMessage(std::string_view message) {
  return CheckText("the commit message", message, kMaxCommitMessageBytes, "\n\t");
}

absl::Status ValidateBranchName(std::string_view name) {
  const auto invalid = [&] {
    return absl::InvalidArgumentError(StrCat("'", TextPreview(name), "' is not a valid branch name"));
  };
  if (name.empty() || name.size() > kMaxRefNameBytes || name.front() == '-' ||
      FindControl(name) != std::string_view::npos || !IsValidUtf8(name)) {
    return invalid();
  }
  git_internal::InitLibgit2Once();  // name checks need the library initialised
  int valid = 0;
  if (git_reference_name_is_valid(&valid, StrCat("refs/heads/", name).c_str()) < 0 || !valid) {
    return invalid();
  }
  if (git_branch_name_is_valid(&valid, std::string(name).c_str()) < 0 || !valid) return invalid();
  return absl::OkStatus();
}

absl::Status ValidateRemoteName(std::string_view name) {
  git_internal::InitLibgit2Once();
  int valid = 0;
  if (name.empty() || name.size() > kMaxRefNameBytes || FindControl(name) != std::string_view::npos ||
      git_remote_name_is_valid(&valid, std::string(name).c_str()) < 0 || !valid) {
    return absl::InvalidArgumentError(StrCat("'", TextPreview(name), "' is not a valid remote name"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> CheckPushTarget(std::string_view url,
                                            const std::vector<std::string>& allowed_prefixes) {
  if (url.empty()) return absl::InvalidArgumentError("a remote URL is required");
  WP_RETURN_IF_ERROR(CheckText("remote URL", url, kMaxRemoteUrlBytes, ""));
  if (allowed_prefixes.empty()) return std::string(url);
  WP_ASSIGN_OR_RETURN(const PushTarget target, ParsePushTarget(url));
  for (const std::string& allowed : allowed_prefixes) {
    absl::StatusOr<PushTarget> prefix = ParsePushTarget(allowed);
    if (prefix.ok() && Under(target, *prefix)) return target.Text();
  }
  return absl::PermissionDeniedError(
      StrCat("remote URL '", TextPreview(url), "' is not under an allowed prefix"));
}

}  // namespace workerpair::light
