// A full disk, on a small tmpfs: every mutating call of the files and git cores is
// RESOURCE_EXHAUSTED (or succeeds when it needs no space) and leaves nothing behind.
// Needs root for the mount; without it the test says so and checks nothing.
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "libs/common/sha256.h"
#include "services/light/core/files/upload_session.h"
#include "services/light/core/files/workspace_files.h"
#include "services/light/core/files/workspace_store.h"
#include "services/light/core/git/git_core.h"
#include "tests/light/git/git_test_util.h"

namespace fs = std::filesystem;
using namespace workerpair::light;
using workerpair::light::testing::kAuthor;

namespace {

// Every path under `dir` with the SHA-256 of its content ("dir" for directories).
std::map<std::string, std::string> Snapshot(const fs::path& dir, const fs::path& skip) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it) {
    if (it->path() == skip) continue;
    const std::string relative = it->path().lexically_relative(dir).string();
    if (it->is_directory()) {
      out[relative] = "dir";
    } else {
      std::ifstream in(it->path(), std::ios::binary);
      std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      out[relative] = workerpair::Sha256Hex(content);
    }
  }
  return out;
}

// A tmpfs of `size` mounted on a fresh directory, in a mount namespace of this process's own
// when it can make one (so nothing outlives the test), unmounted at scope exit.
struct SmallDisk {
  explicit SmallDisk(const std::string& size) {
    if (::geteuid() != 0) return;
    if (::unshare(CLONE_NEWNS) == 0) ::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
    mounted = ::mount("tmpfs", dir.path().c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted) ::umount2(dir.path().c_str(), MNT_DETACH);
  }
  // Fills the disk: a file grown until the write fails.
  void Fill() {
    std::FILE* filler = std::fopen((dir.path() / "filler").c_str(), "wb");
    REQUIRE(filler != nullptr);
    std::string block(4096, 'f');
    while (std::fwrite(block.data(), 1, block.size(), filler) == block.size() &&
           std::fflush(filler) == 0) {
    }
    std::fclose(filler);
  }
  workerpair::testing::TempDir dir;
  bool mounted = false;
};

}  // namespace

TEST_CASE("On a full disk every mutating call is RESOURCE_EXHAUSTED and leaves nothing behind",
          "[diskfull]") {
  SmallDisk disk("4m");
  if (!disk.mounted) {
    WARN("skipped: mounting a tmpfs needs root (run the tests as root to check full disks)");
    return;
  }
  auto store = WorkspaceStore::Open(disk.dir.path() / "root");
  REQUIRE(store.ok());
  REQUIRE((*store)->Create("ws", false).ok());
  const Workspace ws = *(*store)->Get("ws");
  FileLimits limits;
  WorkspaceFiles files(limits);
  GitCore git(GitOptions{});
  REQUIRE(git.Init(ws, "main").ok());
  REQUIRE(files.Write(ws, "scene.xml", std::string(2000, 's'), {}).ok());
  REQUIRE(git.Commit(ws, CommitRequest{kAuthor, "first", {}}).ok());
  REQUIRE(git.CreateBranch(ws, "other", "").ok());
  REQUIRE(files.Write(ws, "scene.xml", std::string(3000, 't'), {true, ""}).ok());
  REQUIRE((*store)->Create("plain", false).ok());
  const Workspace plain = *(*store)->Get("plain");

  disk.Fill();
  const fs::path filler = disk.dir.path() / "filler";
  const auto before = Snapshot(disk.dir.path(), filler);
  const std::string big(64 * 1024, 'x');

  auto exhausted = [](const absl::Status& status) {
    INFO(status.ToString());
    CHECK(absl::IsResourceExhausted(status));
  };
  exhausted(files.Write(ws, "new/deep/file.txt", big, {}).status());
  exhausted(files.Write(ws, "scene.xml", big, {true, ""}).status());
  exhausted(files.Edit(ws, "scene.xml", {{"t", big, true}}, "").status());
  {
    UploadSession upload(ws, files, false);
    REQUIRE(upload.StartFile("up/a.bin").ok());
    exhausted(upload.Append(big));
  }
  exhausted(git.Commit(ws, CommitRequest{kAuthor, "on a full disk", {}}).status());
  exhausted(git.Init(plain, "main").status());
  // A move needs no new space on tmpfs; if it fails, it must be for the disk.
  if (absl::Status moved = files.Move(ws, "scene.xml", "sub/scene.xml", false); moved.ok()) {
    REQUIRE(files.Move(ws, "sub/scene.xml", "scene.xml", false).ok());
    REQUIRE(files.Delete(ws, "sub", false).ok());
  } else {
    exhausted(moved);
  }
  const auto after = Snapshot(disk.dir.path(), filler);
  for (const auto& [path, hash] : after) {
    INFO("left behind or changed: " << path);
    CHECK((before.count(path) == 1 && before.at(path) == hash));
  }
  for (const auto& [path, hash] : before) {
    INFO("lost: " << path);
    CHECK(after.count(path) == 1);
  }

  // With space again everything works, and the repository is sound.
  fs::remove(filler);
  REQUIRE(git.Commit(ws, CommitRequest{kAuthor, "after", {}}).ok());
  REQUIRE(git.Init(plain, "main").ok());
}
