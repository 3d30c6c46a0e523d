// Shared set-up for the sandbox tests: a scratch directory the child may use, a canary
// directory it may not, and a command template with the system paths.
#ifndef WORKERPAIR_TESTS_SANDBOX_SANDBOX_TEST_UTIL_H_
#define WORKERPAIR_TESTS_SANDBOX_SANDBOX_TEST_UTIL_H_

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "libs/sandbox/sandbox.h"

namespace workerpair::sandbox::testing {

inline constexpr const char* kCanaryText = "CANARY-5f1c9e-do-not-leak";

// A directory under /tmp removed at the end of the test, world-readable (so that an
// unprivileged uid could read it without Landlock).
class TempDir {
 public:
  explicit TempDir(const char* tag) {
    std::string pattern = std::string("/tmp/wp-sandbox-") + tag + "-XXXXXX";
    path_ = ::mkdtemp(pattern.data());
    ::chmod(path_.c_str(), 0777);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), 0644);
}

// A confined /bin/sh -c `script` in `work`, which it may read and write.
inline SandboxedCommand Shell(const std::filesystem::path& work, const std::string& script) {
  SandboxedCommand command;
  command.argv = {"/bin/sh", "-c", script};
  command.working_dir = work;
  command.env = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8"};
  command.policy.read_only = SystemReadOnlyPaths();
  command.policy.devices = SystemDevicePaths();
  command.policy.read_write = {work};
  command.timeout = absl::Seconds(60);
  return command;
}

// The same, running python3 -c `code`.
inline SandboxedCommand Python(const std::filesystem::path& work, const std::string& code) {
  SandboxedCommand command = Shell(work, "");
  command.argv = {"/usr/bin/python3", "-I", "-c", code};
  return command;
}

}  // namespace workerpair::sandbox::testing

#endif  // WORKERPAIR_TESTS_SANDBOX_SANDBOX_TEST_UTIL_H_
