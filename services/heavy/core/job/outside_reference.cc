#include "services/heavy/core/job/outside_reference.h"

#include <string>
#include <vector>

#include "libs/common/error_reason.h"

namespace workerpair::heavy::job {
namespace fs = std::filesystem;
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Quoted pieces ('...', "...", `...`) and whitespace-separated words holding a '/'.
std::vector<std::string> Candidates(std::string_view message) {
  std::vector<std::string> found;
  for (std::size_t i = 0; i < message.size(); ++i) {
    const char quote = message[i];
    if (quote != '\'' && quote != '"' && quote != '`') continue;
    const std::size_t end = message.find(quote, i + 1);
    if (end == std::string_view::npos) break;
    found.emplace_back(message.substr(i + 1, end - i - 1));
    i = end;
  }
  std::size_t i = 0;
  while (i < message.size()) {
    while (i < message.size() && IsSpace(message[i])) ++i;
    std::size_t end = i;
    while (end < message.size() && !IsSpace(message[end])) ++end;
    std::string word(message.substr(i, end - i));
    // Punctuation around a path in prose: "file /etc/x:" or "(/etc/x)".
    while (!word.empty() && std::string_view("'\"`(<[").find(word.front()) != std::string_view::npos) {
      word.erase(0, 1);
    }
    while (!word.empty() &&
           std::string_view("'\"`)>],;:.").find(word.back()) != std::string_view::npos) {
      word.pop_back();
    }
    if (word.find('/') != std::string::npos) found.push_back(word);
    i = end;
  }
  return found;
}

bool Within(const fs::path& path, const fs::path& root) {
  auto p = path.begin();
  for (auto r = root.begin(); r != root.end(); ++r, ++p) {
    if (r->empty()) continue;  // a trailing separator
    if (p == path.end() || *p != *r) return false;
  }
  return true;
}

}  // namespace

bool NamesPathOutside(std::string_view message, const fs::path& payload_root) {
  const fs::path root = payload_root.lexically_normal();
  for (const std::string& candidate : Candidates(message)) {
    if (candidate.empty()) continue;
    const fs::path path(candidate);
    const fs::path resolved =
        (path.is_absolute() ? path : root / path).lexically_normal();
    if (!Within(resolved, root)) return true;
  }
  return false;
}

absl::Status MaskOutsideReferences(absl::Status status, const fs::path& payload_root) {
  if (status.ok()) return status;
  const std::string message(status.message());
  if (!NamesPathOutside(message, payload_root)) return status;
  return WithReason(absl::PermissionDeniedError(std::string(kOutsideReferenceMessage)),
                    ErrorReason::kSandboxDenied);
}

}  // namespace workerpair::heavy::job
