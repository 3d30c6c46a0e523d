// The host paths a confined program may read: libraries, the loader's configuration, Python's
// and GL vendors' own configuration, CPU topology. Nothing that holds users' or the service's
// data.
#include <filesystem>
#include <string>
#include <system_error>

#include "libs/sandbox/sandbox.h"

namespace workerpair::sandbox {
namespace {

bool Exists(const std::filesystem::path& path) {
  std::error_code error;
  return std::filesystem::exists(path, error);
}

// Entries of `dir` whose name starts with `prefix`.
void AddMatching(const std::filesystem::path& dir, std::string_view prefix,
                 std::vector<std::filesystem::path>* out) {
  std::error_code error;
  for (std::filesystem::directory_iterator it(dir, error), end; !error && it != end;
       it.increment(error)) {
    if (it->path().filename().string().starts_with(prefix)) out->push_back(it->path());
  }
}

}  // namespace

std::vector<std::filesystem::path> SystemReadOnlyPaths() {
  std::vector<std::filesystem::path> paths;
  for (const char* path : {
           "/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin",
           "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/ld.so.preload",
           "/etc/alternatives", "/etc/localtime", "/etc/glvnd", "/etc/drirc", "/etc/vulkan",
           "/etc/OpenCL", "/etc/nvidia",
           "/proc/cpuinfo", "/proc/meminfo", "/proc/driver/nvidia",
           "/sys/devices", "/sys/dev", "/sys/module/nvidia",
       }) {
    if (Exists(path)) paths.emplace_back(path);
  }
  AddMatching("/etc", "python3", &paths);  // Debian's sitecustomize.py lives in /etc/python3.*
  return paths;
}

std::vector<std::filesystem::path> SystemDevicePaths() {
  std::vector<std::filesystem::path> paths;
  for (const char* path : {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
                           "/dev/dri"}) {
    if (Exists(path)) paths.emplace_back(path);
  }
  AddMatching("/dev", "nvidia", &paths);
  return paths;
}

}  // namespace workerpair::sandbox
