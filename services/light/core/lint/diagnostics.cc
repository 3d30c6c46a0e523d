#include "services/light/core/lint/diagnostics.h"

#include <algorithm>
#include <tuple>

namespace workerpair::light {

std::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kInfo: return "info";
    case Severity::kWarning: return "warning";
    case Severity::kError: return "error";
  }
  return "error";
}

void LintReport::Add(Diagnostic diagnostic) {
  // Errors always count, even past the cap, so ok() never turns true by truncation.
  if (diagnostic.severity == Severity::kError) ++errors_;
  if (diagnostic.severity == Severity::kWarning) ++warnings_;
  if (diagnostics_.size() >= max_diagnostics_) {
    truncated_ = true;
    return;
  }
  diagnostics_.push_back(std::move(diagnostic));
}

void LintReport::AddAll(std::vector<Diagnostic> diagnostics) {
  for (Diagnostic& diagnostic : diagnostics) Add(std::move(diagnostic));
}

void LintReport::Sort() {
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return std::tie(a.path, a.line, a.column, a.code) <
                            std::tie(b.path, b.line, b.column, b.code);
                   });
}

}  // namespace workerpair::light
