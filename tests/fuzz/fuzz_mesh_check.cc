// Fuzzes the lint mesh checks: the first byte picks STL or OBJ, the rest is the file.
#include <cstdlib>

#include "services/light/core/lint/mesh_check.h"
#include "tests/fuzz/fuzz_workspace.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace workerpair;
  if (size == 0) return 0;
  const char* name = (data[0] & 1) != 0 ? "meshes/part.obj" : "meshes/part.stl";
  const std::vector<light::Diagnostic> found =
      light::CheckMeshFile(name, fuzz::AsText(data + 1, size - 1));
  if (found.size() > 20) std::abort();
  for (const light::Diagnostic& d : found) {
    if (d.message.size() > 4096) std::abort();
  }
  return 0;
}
