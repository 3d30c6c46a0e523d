// Fuzzes the XML / MJCF linter (expat tree + MJCF checks): any bytes as scenes/scene.xml.
#include <cstdlib>

#include "libs/scene/scene_limits.h"
#include "services/light/core/lint/mjcf_check.h"
#include "tests/fuzz/fuzz_workspace.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace workerpair;
  const std::vector<light::Diagnostic> found = light::CheckXmlFile(
      fuzz::FuzzWorkspace(), "scenes/scene.xml", fuzz::AsText(data, size), SceneLimits{});
  for (const light::Diagnostic& d : found) {
    if (d.message.size() > 4096) std::abort();
  }
  return 0;
}
