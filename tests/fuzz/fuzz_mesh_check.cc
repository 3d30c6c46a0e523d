// Fuzzes the lint mesh checks: the first byte picks STL or OBJ, the rest is the file. Both lint
// and topology read meshes with the scene contract's one reader (libs/scene/mesh_reader.h), so
// they must agree: lint finds an error exactly when topology's ParseMesh refuses the file.
#include <cstdlib>

#include "services/light/core/lint/mesh_check.h"
#include "services/light/core/topology/mesh_loader.h"
#include "tests/fuzz/fuzz_workspace.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace workerpair;
  if (size == 0) return 0;
  const char* name = (data[0] & 1) != 0 ? "meshes/part.obj" : "meshes/part.stl";
  const std::string_view content = fuzz::AsText(data + 1, size - 1);
  const std::vector<light::Diagnostic> found = light::CheckMeshFile(name, content);
  if (found.size() > 20) std::abort();
  for (const light::Diagnostic& d : found) {
    if (d.message.size() > 4096) std::abort();
  }
  const absl::StatusOr<light::TriangleMesh> mesh =
      light::ParseMesh(name, content, {.weld_epsilon = 0}, light::MeshLimits{});
  if (found.empty() != mesh.ok()) std::abort();
  return 0;
}
