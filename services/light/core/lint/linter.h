// Linter: lints one file or a whole workspace with the built-in checks (XML/MJCF, manifest,
// meshes) and the configured external linters, into one LintReport.
//
//   Linter linter(LintOptions{});                      // DefaultLinterConfig(), SceneLimits{}
//   WP_ASSIGN_OR_RETURN(LintReport one, linter.LintFile(ws, "scenes/ramp.xml", {}));
//   WP_ASSIGN_OR_RETURN(LintReport all, linter.LintWorkspace(ws, {.glob = "*.xml"}));
//   if (!all.ok()) ...                                 // some diagnostic is an error
//
// Which checks a file gets, by name: *.xml -> CheckXmlFile; manifest.json ->
// CheckManifestFile; *.stl/*.obj -> CheckMeshFile; plus every LinterConfig glob it matches.
// A workspace walk skips .git, symlinks and the service's temporary files.
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_LINT_LINTER_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_LINT_LINTER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "libs/common/call_budget.h"
#include "libs/scene/scene_limits.h"
#include "services/light/core/files/workspace_store.h"
#include "services/light/core/lint/diagnostics.h"
#include "services/light/core/lint/external_linters.h"

namespace workerpair::light {

struct LintOptions {
  SceneLimits limits;
  LinterConfig linters = DefaultLinterConfig();
  // Files larger than this are not read (lint/file-too-large, warning).
  std::uint64_t max_file_bytes = 64ull << 20;
  // Most files one workspace lint examines; beyond it the report is truncated.
  std::size_t max_files = 10000;
  // Most diagnostics one report carries (errors are still counted past it).
  std::size_t max_diagnostics = 10000;
};

struct LintRunOptions {
  // Run the external linters too (they cost a process each).
  bool external = true;
  // Polled between files and inside the built-in checks; null for none.
  const CallBudget* budget = nullptr;
};

struct WorkspaceLintOptions {
  // Directory to lint, relative to the workspace; "" for all of it.
  std::string path;
  // Only files matching this glob (libs/common/glob.h); "" for all.
  std::string glob;
  bool external = true;
  // Polled between files and inside the built-in checks; null for none.
  const CallBudget* budget = nullptr;
};

class Linter {
 public:
  explicit Linter(LintOptions options) : options_(std::move(options)) {}

  // Lints one file. A file no check applies to gets one lint/no-checks info diagnostic.
  // INVALID_ARGUMENT / PERMISSION_DENIED for a bad or escaping path (ConfinePath), NOT_FOUND
  // when it does not exist, FAILED_PRECONDITION when it is not a regular file; the budget's
  // CANCELLED / DEADLINE_EXCEEDED when it runs out (no partial report).
  absl::StatusOr<LintReport> LintFile(const Workspace& workspace, std::string_view path,
                                      const LintRunOptions& run = {}) const;

  // Lints every file under `options.path` that matches `options.glob` and that some check
  // applies to. Errors as LintFile, with FAILED_PRECONDITION when the path is not a directory.
  absl::StatusOr<LintReport> LintWorkspace(const Workspace& workspace,
                                           const WorkspaceLintOptions& options) const;

  const LintOptions& options() const { return options_; }

 private:
  // True when a built-in check applies to `path`.
  static bool HasBuiltinCheck(std::string_view path);
  // The external commands whose globs match `path`.
  std::vector<const std::vector<std::string>*> LintersFor(std::string_view path) const;
  // Reads and runs the built-in checks on one file into `report`; the budget's status when it
  // ran out meanwhile.
  absl::Status RunBuiltin(const Workspace& workspace, const std::string& path,
                          const CallBudget* budget, LintReport* report) const;

  LintOptions options_;
};

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_LINT_LINTER_H_
