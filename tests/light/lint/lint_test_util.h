// Test helpers for lint: a temporary workspace to write inline files into, and finders over
// diagnostics.
#ifndef WORKERPAIR_TESTS_LIGHT_LINT_LINT_TEST_UTIL_H_
#define WORKERPAIR_TESTS_LIGHT_LINT_LINT_TEST_UTIL_H_

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/light/core/files/workspace_store.h"
#include "services/light/core/lint/diagnostics.h"
#include "tests/support/server_process.h"

namespace workerpair::light::lint_test {

// A workspace "ws" in a fresh temporary directory (canonical, as WorkspaceStore gives it).
struct TempWorkspace {
  TempWorkspace() {
    std::filesystem::create_directories(dir.path() / "ws");
    workspace = Workspace{"ws", std::filesystem::canonical(dir.path() / "ws")};
  }
  const std::filesystem::path& root() const { return workspace.root; }
  void Write(const std::string& relative, std::string_view content) const {
    const std::filesystem::path path = workspace.root / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
  }

  testing::TempDir dir;
  Workspace workspace;
};

// Diagnostics with `code`.
inline std::vector<Diagnostic> WithCode(const std::vector<Diagnostic>& all, std::string_view code) {
  std::vector<Diagnostic> found;
  for (const Diagnostic& d : all) {
    if (d.code == code) found.push_back(d);
  }
  return found;
}

// The only diagnostic with `code`; nullopt when there are none or several.
inline std::optional<Diagnostic> OnlyWithCode(const std::vector<Diagnostic>& all,
                                              std::string_view code) {
  std::vector<Diagnostic> found = WithCode(all, code);
  if (found.size() != 1) return std::nullopt;
  return found.front();
}

// "path:line:col code message" lines, for failure output.
inline std::string Dump(const std::vector<Diagnostic>& all) {
  std::string out;
  for (const Diagnostic& d : all) {
    out += d.path + ":" + std::to_string(d.line) + ":" + std::to_string(d.column) + " " + d.code +
           " [" + std::string(SeverityName(d.severity)) + "] " + d.message + "\n";
  }
  return out;
}

}  // namespace workerpair::light::lint_test

#endif  // WORKERPAIR_TESTS_LIGHT_LINT_LINT_TEST_UTIL_H_
