// Lint of the simulation manifest (manifest.json): the scene contract's findings
// (libs/scene/manifest.h, one schema for lint and worker-heavy) as diagnostics, plus the files
// the manifest names, checked in the workspace.
//
//   std::vector<Diagnostic> found = CheckManifestFile(ws.root, "payload/manifest.json", content,
//                                                     SceneLimits{});
//
// Referenced files (`scene`, part `mesh`) are resolved relative to the manifest's directory,
// the payload root, and must stay inside the workspace. Codes (severity):
//   manifest/parse-error          (error)   not JSON (a number out of range such as 1e999
//                                           included); line and column of the parser's stop
//   manifest/over-limit           (error)   larger than 1 MiB, nested deeper than 32 levels or
//                                           a string over 4 KiB (real manifests are a few KiB);
//                                           more assembly parts than SceneLimits::max_bodies;
//                                           more than 1000 findings (the rest are not listed)
//   manifest/unknown-key          (error)   a key the schema does not have (typos included)
//   manifest/duplicate-key        (error)   a key repeated within one object
//   manifest/wrong-type           (error)   e.g. a string where a number belongs
//   manifest/missing-key          (error)   a required key is absent
//   manifest/out-of-range         (error)   a value outside its documented range
//   manifest/unsupported-version  (error)   version other than the one this build reads
//   manifest/scene-or-assembly    (error)   not exactly one of `scene` and `assembly`
//   manifest/invalid-value        (error)   a bad name (rule or 100-character limit), an empty
//                                           scene, camera or target_body, odd video size, mass
//                                           and density both
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

#include "libs/scene/scene_limits.h"
#include "services/light/core/lint/diagnostics.h"

namespace workerpair::light {

// Checks the manifest `relative_path` whose bytes are `content`, inside the canonical
// workspace directory `root`.
std::vector<Diagnostic> CheckManifestFile(const std::filesystem::path& root,
                                          std::string_view relative_path,
                                          std::string_view content, const SceneLimits& limits);

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_LINT_MANIFEST_CHECK_H_
