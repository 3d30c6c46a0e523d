#include "services/light/core/lint/manifest_check.h"

#include <string>
#include <utility>

#include "libs/common/str_cat.h"
#include "libs/common/text_preview.h"
#include "libs/scene/manifest.h"
#include "services/light/core/lint/workspace_refs.h"

namespace workerpair::light {
namespace {

// A file the manifest names, resolved inside the workspace; a diagnostic when it is not there.
void CheckReference(const std::filesystem::path& root, const std::string& manifest_path,
                    const std::string& base_dir, const scene::ManifestReference& reference,
                    std::vector<Diagnostic>* found) {
  const ResolvedRef ref = ResolveReference(root, base_dir, reference.path);
  const std::string subject = StrCat(reference.what, " file '", TextPreview(reference.path),
                                     "' (", reference.display, ")");
  auto add = [&](std::string code, std::string message) {
    found->push_back(Diagnostic{manifest_path, reference.line, reference.column, std::move(code),
                                Severity::kError, std::move(message)});
  };
  switch (ref.problem) {
    case RefProblem::kNone:
      return;
    case RefProblem::kOutside:
      return add("manifest/file-outside-workspace", StrCat(subject, " lies outside the workspace"));
    case RefProblem::kInvalid:
      return add("manifest/invalid-path", StrCat(subject, " is not a valid path"));
    case RefProblem::kMissing:
      return add("manifest/missing-file",
                 StrCat(subject, " not found: looked for '", TextPreview(ref.relative), "'"));
    case RefProblem::kNotFile:
      return add("manifest/not-a-file", StrCat(subject, " names '", TextPreview(ref.relative),
                                               "', which is not a regular file"));
  }
}

}  // namespace

std::vector<Diagnostic> CheckManifestFile(const std::filesystem::path& root,
                                          std::string_view relative_path,
                                          std::string_view content, const SceneLimits& limits) {
  const std::string path(relative_path);
  // The schema's findings as they are (the library's codes are the diagnostic codes), then the
  // referenced files, which only the workspace can answer for.
  const scene::ManifestCheck check = scene::CheckManifest(content, limits);
  std::vector<Diagnostic> found;
  found.reserve(check.findings.size());
  for (const scene::ManifestFinding& finding : check.findings) {
    found.push_back(Diagnostic{path, finding.line, finding.column, finding.code,
                               finding.error ? Severity::kError : Severity::kWarning,
                               finding.message});
  }
  const std::string base_dir = ParentDir(relative_path);
  for (const scene::ManifestReference& reference : check.references) {
    CheckReference(root, path, base_dir, reference, &found);
  }
  return found;
}

}  // namespace workerpair::light
