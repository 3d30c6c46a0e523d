// A scratch workspace directory for fuzz targets whose checks resolve references against one
// (created once per process, removed at exit), and the input as a string_view.
#ifndef WORKERPAIR_TESTS_FUZZ_FUZZ_WORKSPACE_H_
#define WORKERPAIR_TESTS_FUZZ_FUZZ_WORKSPACE_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace workerpair::fuzz {

// A workspace holding a few files references may name (a mesh, a scene, a directory).
inline const std::filesystem::path& FuzzWorkspace() {
  static const std::filesystem::path root = [] {
    std::string pattern = (std::filesystem::temp_directory_path() / "wp-fuzz-XXXXXX").string();
    const char* made = ::mkdtemp(pattern.data());
    if (made == nullptr) std::abort();
    const std::filesystem::path dir = std::filesystem::canonical(made);
    std::filesystem::create_directories(dir / "meshes");
    std::filesystem::create_directories(dir / "scenes");
    std::ofstream(dir / "meshes/ramp.stl") << "solid r\nendsolid r\n";
    std::ofstream(dir / "scene.xml") << "<mujoco/>\n";
    static struct Cleanup {
      std::filesystem::path path;
      ~Cleanup() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
      }
    } cleanup{dir};
    return dir;
  }();
  return root;
}

inline std::string_view AsText(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace workerpair::fuzz

#endif  // WORKERPAIR_TESTS_FUZZ_FUZZ_WORKSPACE_H_
