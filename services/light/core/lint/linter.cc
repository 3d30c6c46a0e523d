#include "services/light/core/lint/linter.h"

#include <sys/stat.h>

#include <algorithm>
#include <functional>
#include <map>

#include "libs/common/ascii.h"
#include "libs/common/file_io.h"
#include "libs/common/glob.h"
#include "libs/common/path_confinement.h"
#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "libs/scene/scene_names.h"
#include "services/light/core/files/workspace_walk.h"
#include "services/light/core/lint/manifest_check.h"
#include "services/light/core/lint/mesh_check.h"
#include "services/light/core/lint/mjcf_check.h"

namespace workerpair::light {
namespace {

using ascii::EndsWithIgnoreCase;

std::string_view FileName(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

absl::Status CheckBudget(const CallBudget* budget) {
  return budget != nullptr ? budget->Check() : absl::OkStatus();
}

// Asked while an external linter runs: it is killed once the budget runs out.
std::function<bool()> StopWhenExhausted(const CallBudget* budget) {
  if (budget == nullptr) return {};
  return [budget] { return budget->Exhausted(); };
}

}  // namespace

bool Linter::HasBuiltinCheck(std::string_view path) {
  return EndsWithIgnoreCase(path, ".xml") || FileName(path) == scene::kManifestFileName ||
         IsMeshFile(path);
}

std::vector<const std::vector<std::string>*> Linter::LintersFor(std::string_view path) const {
  std::vector<const std::vector<std::string>*> commands;
  for (const auto& [glob, command] : options_.linters.commands) {
    if (GlobMatches(glob, path)) commands.push_back(&command);
  }
  return commands;
}

absl::Status Linter::RunBuiltin(const Workspace& workspace, const std::string& path,
                                const CallBudget* budget, LintReport* report) const {
  if (!HasBuiltinCheck(path)) return absl::OkStatus();
  WP_RETURN_IF_ERROR(CheckBudget(budget));
  absl::StatusOr<std::string> content =
      ReadFileCapped(workspace.root / path, path, options_.max_file_bytes);
  if (!content.ok()) {
    const bool too_large = content.status().code() == absl::StatusCode::kResourceExhausted;
    report->Add(Diagnostic{path, 0, 0, too_large ? "lint/file-too-large" : "lint/unreadable",
                           Severity::kWarning,
                           StrCat("not checked: ", std::string(content.status().message()))});
    return absl::OkStatus();
  }
  // A check cut short by the budget says so in its diagnostics; they are dropped with the
  // report, since the call then fails with the budget's status.
  std::vector<Diagnostic> found;
  if (EndsWithIgnoreCase(path, ".xml")) {
    found = CheckXmlFile(workspace.root, path, *content, options_.limits, budget);
  } else if (FileName(path) == scene::kManifestFileName) {
    found = CheckManifestFile(workspace.root, path, *content, options_.limits);
  } else {
    found = CheckMeshFile(path, *content, /*max_findings=*/20, budget);
  }
  WP_RETURN_IF_ERROR(CheckBudget(budget));
  report->AddAll(std::move(found));
  return absl::OkStatus();
}

absl::StatusOr<LintReport> Linter::LintFile(const Workspace& workspace, std::string_view path,
                                            const LintRunOptions& run) const {
  WP_ASSIGN_OR_RETURN(std::filesystem::path file, ConfinePath(workspace.root, path));
  const std::string relative = RelativeToRoot(workspace.root, file);
  struct stat st;
  if (::stat(file.c_str(), &st) != 0) {
    return absl::NotFoundError(StrCat("'", relative, "' does not exist"));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(StrCat("'", relative, "' is not a regular file"));
  }
  LintReport report(options_.max_diagnostics);
  report.CountFile();
  WP_RETURN_IF_ERROR(RunBuiltin(workspace, relative, run.budget, &report));
  const auto linters = LintersFor(relative);
  if (run.external) {
    for (const auto* command : linters) {
      WP_RETURN_IF_ERROR(CheckBudget(run.budget));
      report.AddAll(RunExternalLinter(workspace.root, *command, {relative}, options_.linters,
                                      StopWhenExhausted(run.budget)));
      WP_RETURN_IF_ERROR(CheckBudget(run.budget));
    }
  }
  if (!HasBuiltinCheck(relative) && (linters.empty() || !run.external)) {
    report.Add(Diagnostic{relative, 0, 0, "lint/no-checks", Severity::kInfo,
                          linters.empty() ? "no check applies to this file type"
                                          : "only external linters apply, and they were skipped"});
  }
  report.Sort();
  return report;
}

absl::StatusOr<LintReport> Linter::LintWorkspace(const Workspace& workspace,
                                                 const WorkspaceLintOptions& options) const {
  WP_ASSIGN_OR_RETURN(std::filesystem::path start,
                      ConfinePath(workspace.root, options.path, {.allow_root = true}));
  struct stat st;
  if (::stat(start.c_str(), &st) != 0) {
    return absl::NotFoundError(StrCat("'", options.path, "' does not exist"));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(StrCat("'", options.path, "' is not a directory"));
  }

  // Collect the files to check, in a stable order.
  LintReport report(options_.max_diagnostics);
  std::vector<std::string> files;
  bool too_many = false;
  WP_RETURN_IF_ERROR(WalkTree(workspace.root, start, /*recursive=*/true,
                              [&](const std::string& relative, const struct stat& entry) {
                                if (options.budget != nullptr && options.budget->Exhausted()) {
                                  return false;
                                }
                                if (!S_ISREG(entry.st_mode)) return true;
                                if (!GlobMatches(options.glob, relative)) return true;
                                if (!HasBuiltinCheck(relative) && LintersFor(relative).empty()) {
                                  return true;
                                }
                                if (files.size() >= options_.max_files) {
                                  too_many = true;
                                  return false;
                                }
                                files.push_back(relative);
                                return true;
                              }));
  WP_RETURN_IF_ERROR(CheckBudget(options.budget));
  std::sort(files.begin(), files.end());
  if (too_many) {
    report.set_truncated();
    report.Add(Diagnostic{options.path, 0, 0, "lint/too-many-files", Severity::kInfo,
                          StrCat("only the first ", options_.max_files,
                                 " files found were checked")});
  }

  // Built-in checks per file; external linters batched per command.
  std::map<const std::vector<std::string>*, std::vector<std::string>> batches;
  for (const std::string& file : files) {
    report.CountFile();
    WP_RETURN_IF_ERROR(RunBuiltin(workspace, file, options.budget, &report));
    if (!options.external) continue;
    for (const auto* command : LintersFor(file)) batches[command].push_back(file);
  }
  for (const auto& [command, batch] : batches) {
    WP_RETURN_IF_ERROR(CheckBudget(options.budget));
    report.AddAll(RunExternalLinter(workspace.root, *command, batch, options_.linters,
                                    StopWhenExhausted(options.budget)));
    WP_RETURN_IF_ERROR(CheckBudget(options.budget));
  }
  report.Sort();
  return report;
}

}  // namespace workerpair::light
