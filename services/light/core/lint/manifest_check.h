// Checks of the simulation manifest (manifest.json) against docs/MANIFEST.md, schema version 1.
//
//   std::vector<Diagnostic> found = CheckManifestFile(ws.root, "payload/manifest.json", content,
//                                                     SceneLimits{});
//
// Referenced files (`scene`, part `mesh`) are resolved relative to the manifest's directory,
// the payload root, and must stay inside the workspace. Codes (severity):
//   manifest/parse-error          (error)   not JSON (a number out of range such as 1e999
//                                           included); line and column of the parser's stop
//   manifest/over-limit           (error)   larger than 1 MiB, nested deeper than 32 levels or
//                                           a string over 4 KiB (real manifests are a few KiB)
//   manifest/unknown-key          (error)   a key the schema does not have (typos included)
//   manifest/duplicate-key        (error)   a key repeated within one object
//   manifest/wrong-type           (error)   e.g. a string where a number belongs
//   manifest/missing-key          (error)   a required key is absent
//   manifest/out-of-range         (error)   a value outside its documented range
//   manifest/unsupported-version  (error)   version other than the one this build reads
//   manifest/scene-or-assembly    (error)   not exactly one of `scene` and `assembly`
//   manifest/invalid-value        (error)   a bad name, odd video size, mass and density both
//   manifest/duplicate-name       (error)   two parts or two zones with one name
//   manifest/unknown-reference    (error)   target_body that names no part of the assembly
//   manifest/missing-file, manifest/file-outside-workspace, manifest/invalid-path,
//   manifest/not-a-file           (error)   a referenced scene or mesh file
//   manifest/over-cap             (warning) over a SceneLimits cap: the service will clamp it
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_LINT_MANIFEST_CHECK_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_LINT_MANIFEST_CHECK_H_

#include <filesystem>
#include <string_view>
#include <vector>

#include "libs/common/scene_limits.h"
#include "services/light/core/lint/diagnostics.h"

namespace workerpair::light {

// The file name that marks a simulation manifest.
inline constexpr std::string_view kManifestFileName = "manifest.json";

// Checks the manifest `relative_path` whose bytes are `content`, inside the canonical
// workspace directory `root`.
std::vector<Diagnostic> CheckManifestFile(const std::filesystem::path& root,
                                          std::string_view relative_path,
                                          std::string_view content, const SceneLimits& limits);

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_LINT_MANIFEST_CHECK_H_
