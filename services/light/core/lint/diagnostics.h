// Lint diagnostics: what every check (MJCF, manifest, mesh, external linters) reports.
//
//   LintReport report;
//   report.Add({.path = "scene.xml", .line = 12, .column = 5, .code = "mjcf/missing-asset",
//               .severity = Severity::kError, .message = "mesh file 'meshes/a.stl' not found"});
//   if (!report.ok()) { ... }   // ok() is false when any diagnostic is an error
//
// Lines and columns are 1-based; 0 means "not known" (a whole-file diagnostic).
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_LINT_DIAGNOSTICS_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_LINT_DIAGNOSTICS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "libs/common/line_column.h"

namespace workerpair::light {

enum class Severity { kInfo, kWarning, kError };

// "info", "warning" or "error".
std::string_view SeverityName(Severity severity);

struct Diagnostic {
  // Workspace-relative path of the file the diagnostic is about, '/'-separated.
  std::string path;
  // 1-based line and column; 0 when not known.
  int line = 0;
  int column = 0;
  // Stable machine-readable code, "<family>/<name>", e.g. "mjcf/missing-asset".
  std::string code;
  Severity severity = Severity::kError;
  // Human-readable explanation naming what was wrong (never a server-side absolute path).
  std::string message;
};

// 1-based line and column of the byte at `offset` in `text` (libs/common/line_column.h).
using workerpair::LineColumn;
using workerpair::LineColumnAt;

// The result of linting one file or a workspace.
class LintReport {
 public:
  explicit LintReport(std::size_t max_diagnostics = 10000) : max_diagnostics_(max_diagnostics) {}

  // Appends a diagnostic; beyond max_diagnostics it is dropped and truncated() becomes true.
  void Add(Diagnostic diagnostic);
  void AddAll(std::vector<Diagnostic> diagnostics);
  // Counts one more file examined.
  void CountFile() { ++files_checked_; }
  void set_truncated() { truncated_ = true; }

  // True when no error was reported (warnings and infos do not fail a lint).
  bool ok() const { return errors_ == 0; }
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }
  std::vector<Diagnostic>& mutable_diagnostics() { return diagnostics_; }
  std::uint32_t files_checked() const { return files_checked_; }
  std::uint32_t error_count() const { return errors_; }
  std::uint32_t warning_count() const { return warnings_; }
  // True when diagnostics were dropped or files were left unchecked because of a limit.
  bool truncated() const { return truncated_; }

  // Sorts diagnostics by path, line, column, code.
  void Sort();

 private:
  std::size_t max_diagnostics_;
  std::vector<Diagnostic> diagnostics_;
  std::uint32_t files_checked_ = 0;
  std::uint32_t errors_ = 0;
  std::uint32_t warnings_ = 0;
  bool truncated_ = false;
};

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_LINT_DIAGNOSTICS_H_
