// Test helper: a private scratch directory under the system temp dir, removed on destruction,
// optionally filled with a copy of an example scene (examples/scenes/<name>/).
//
//   std::unique_ptr<ScratchDir> scratch = ScratchDir::WithExample("ramp_goal");
//   scratch->Write("extra.xml", "<mujoco/>");
//   LoadScene(scratch->path(), manifest, limits);
#ifndef WORKERPAIR_TESTS_HEAVY_SCENE_SCRATCH_DIR_H_
#define WORKERPAIR_TESTS_HEAVY_SCENE_SCRATCH_DIR_H_

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace workerpair::testing {

inline std::filesystem::path ExampleScenesDir() {
  return std::filesystem::path(WORKERPAIR_SOURCE_DIR) / "examples" / "scenes";
}

inline std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class ScratchDir {
 public:
  ScratchDir() {
    static std::atomic<int> counter{0};
    const std::filesystem::path base = std::filesystem::canonical(std::filesystem::temp_directory_path());
    path_ = base / ("wp-heavy-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  // A scratch directory holding a copy of examples/scenes/<name>/.
  static std::unique_ptr<ScratchDir> WithExample(std::string_view name) {
    auto dir = std::make_unique<ScratchDir>();
    std::filesystem::copy(ExampleScenesDir() / name, dir->path_,
                          std::filesystem::copy_options::recursive);
    return dir;
  }

  const std::filesystem::path& path() const { return path_; }

  void Write(std::string_view relative, std::string_view content) const {
    const std::filesystem::path file = path_ / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary);
    out << content;
  }
  std::string Read(std::string_view relative) const { return ReadText(path_ / relative); }

 private:
  std::filesystem::path path_;
};

}  // namespace workerpair::testing

#endif  // WORKERPAIR_TESTS_HEAVY_SCENE_SCRATCH_DIR_H_
