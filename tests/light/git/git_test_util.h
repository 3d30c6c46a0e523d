// Test helpers for the git core: a temporary workspace, file access, and direct libgit2 reads
// used to check what GitCore did (refs of a bare repository, planting a symlink commit).
#ifndef WORKERPAIR_TESTS_LIGHT_GIT_GIT_TEST_UTIL_H_
#define WORKERPAIR_TESTS_LIGHT_GIT_GIT_TEST_UTIL_H_

#include <git2.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "services/light/core/git/git_core.h"
#include "tests/support/server_process.h"

namespace workerpair::light::testing {

inline const GitAuthor kAuthor{"Ann Agent", "ann@example.org"};

struct GitFixture {
  explicit GitFixture(GitOptions options = {}) : git(std::move(options)) {
    std::filesystem::create_directories(dir.path() / "ws");
    std::filesystem::create_directories(dir.path() / ".staging");
    ws = Workspace{"ws", std::filesystem::canonical(dir.path() / "ws"),
                   std::filesystem::canonical(dir.path() / ".staging"), nullptr};
  }

  void Write(const std::string& path, const std::string& content) {
    const std::filesystem::path file = ws.root / path;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary | std::ios::trunc) << content;
  }
  std::string Read(const std::string& path) const {
    std::ifstream in(ws.root / path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
  }
  bool Exists(const std::string& path) const {
    return std::filesystem::exists(std::filesystem::symlink_status(ws.root / path));
  }
  void InitRepo() { REQUIRE(git.Init(ws, "").ok()); }
  // Writes files and commits everything; returns the hash.
  std::string CommitAll(const std::string& message) {
    auto result = git.Commit(ws, CommitRequest{kAuthor, message, {}});
    INFO(result.status().ToString());
    REQUIRE(result.ok());
    return result->hash;
  }

  workerpair::testing::TempDir dir;
  GitCore git;
  Workspace ws;
};

// Hash of `ref` in the repository at `path` (bare or not); empty when missing.
inline std::string RefHash(const std::filesystem::path& path, const std::string& ref) {
  git_repository* repo = nullptr;
  if (git_repository_open(&repo, path.c_str()) < 0) return "";
  git_oid id;
  std::string hash;
  if (git_reference_name_to_id(&id, repo, ref.c_str()) == 0) {
    char hex[GIT_OID_HEXSZ + 1];
    git_oid_tostr(hex, sizeof(hex), &id);
    hash = hex;
  }
  git_repository_free(repo);
  return hash;
}

// A value from the repository's own config file (.git/config); empty when unset.
inline std::string LocalConfig(const std::filesystem::path& root, const std::string& key) {
  git_config* config = nullptr;
  if (git_config_open_ondisk(&config, (root / ".git/config").c_str()) < 0) return "";
  git_buf buf = GIT_BUF_INIT;
  std::string value;
  if (git_config_get_string_buf(&buf, config, key.c_str()) == 0) value.assign(buf.ptr, buf.size);
  git_buf_dispose(&buf);
  git_config_free(config);
  return value;
}

}  // namespace workerpair::light::testing

#endif  // WORKERPAIR_TESTS_LIGHT_GIT_GIT_TEST_UTIL_H_
