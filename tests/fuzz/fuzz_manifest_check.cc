// Fuzzes the manifest linter: any bytes as payload/manifest.json. Must never crash, hang or
// return a message longer than the bound on diagnostics.
#include <cstdlib>

#include "libs/common/scene_limits.h"
#include "services/light/core/lint/manifest_check.h"
#include "tests/fuzz/fuzz_workspace.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace workerpair;
  const std::vector<light::Diagnostic> found = light::CheckManifestFile(
      fuzz::FuzzWorkspace(), "payload/manifest.json", fuzz::AsText(data, size), SceneLimits{});
  for (const light::Diagnostic& d : found) {
    // Messages quote the caller's data only through bounded previews.
    if (d.message.size() > 4096) std::abort();
  }
  return 0;
}
