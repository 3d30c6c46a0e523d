// Fuzzes the manifest check of the scene contract (libs/scene/manifest.h), the one parser that
// worker-heavy, the linter and the controller share, and the linter's use of it: any bytes as
// manifest.json. Must never crash or hang, and must keep its promises: findings bounded in
// number and length, positions inside the text, a manifest exactly when no finding is an
// error, and ParseManifest failing exactly then, with the first error's code.
#include <cstdlib>

#include "libs/scene/manifest.h"
#include "libs/scene/scene_limits.h"
#include "services/light/core/lint/manifest_check.h"
#include "tests/fuzz/fuzz_workspace.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace workerpair;
  const std::string_view text = fuzz::AsText(data, size);
  const scene::ManifestCheck check = scene::CheckManifest(text, SceneLimits{});
  if (check.findings.size() > scene::kMaxManifestFindings) std::abort();
  bool any_error = false;
  for (const scene::ManifestFinding& f : check.findings) {
    // Messages quote the caller's data only through bounded previews.
    if (f.message.size() > 4096 || f.line < 1 || f.column < 1) std::abort();
    if (static_cast<std::size_t>(f.line) > size + 1 || static_cast<std::size_t>(f.column) > size + 1) {
      std::abort();
    }
    any_error = any_error || f.error;
  }
  if (check.manifest.has_value() == any_error) std::abort();
  const absl::StatusOr<scene::Manifest> parsed = scene::ParseManifest(text, SceneLimits{});
  if (parsed.ok() == any_error) std::abort();
  if (!parsed.ok() && parsed.status().code() != check.first_error()->status_code) std::abort();

  const std::vector<light::Diagnostic> found = light::CheckManifestFile(
      fuzz::FuzzWorkspace(), "payload/manifest.json", text, SceneLimits{});
  for (const light::Diagnostic& d : found) {
    if (d.message.size() > 4096) std::abort();
  }
  return 0;
}
