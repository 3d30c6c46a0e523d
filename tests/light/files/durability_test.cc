// The staging area, the start-up sweep, the lock table and the "nothing left behind" promise of
// the files core.
#include <catch2/catch.hpp>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "libs/common/file_io.h"
#include "services/light/core/files/staging_area.h"
#include "services/light/core/files/upload_session.h"
#include "services/light/core/files/workspace_files.h"
#include "services/light/core/files/workspace_locks.h"
#include "services/light/core/files/workspace_store.h"
#include "tests/common/temp_root.h"

namespace fs = std::filesystem;
using namespace workerpair::light;

namespace {

// Every path under `dir`, relative, sorted ('/' after directories is not added).
std::set<std::string> Tree(const fs::path& dir) {
  std::set<std::string> paths;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    paths.insert(it->path().lexically_relative(dir).string());
  }
  return paths;
}

struct Fixture {
  Fixture() {
    store = std::move(*WorkspaceStore::Open(tmp.root));
    REQUIRE(store->Create("ws", false).ok());
    ws = *store->Get("ws");
  }
  TempRoot tmp;
  std::unique_ptr<WorkspaceStore> store;
  FileLimits limits;
  WorkspaceFiles files{limits};
  Workspace ws;
};

}  // namespace

TEST_CASE("Writes, edits and uploads stage outside the workspace and leave nothing there",
          "[staging]") {
  Fixture f;
  CHECK(f.ws.staging == f.tmp.root / ".staging");
  REQUIRE(f.files.Write(f.ws, "a/b.txt", "one", {}).ok());
  REQUIRE(f.files.Edit(f.ws, "a/b.txt", {{"one", "two", false}}, "").ok());
  {
    UploadSession upload(f.ws, f.files, false);
    REQUIRE(upload.StartFile("c/d.bin").ok());
    REQUIRE(upload.Append("xyz").ok());
    // While the upload is open its bytes are in the staging area, not in the workspace.
    CHECK(Tree(f.ws.root) == std::set<std::string>{"a", "a/b.txt"});
    CHECK(Tree(f.ws.staging).size() == 1);
    REQUIRE(upload.Commit().ok());
  }
  CHECK(Tree(f.ws.root) == std::set<std::string>{"a", "a/b.txt", "c", "c/d.bin"});
  CHECK(Tree(f.ws.staging).empty());
  // The staging area is no workspace.
  CHECK(*f.store->List() == std::vector<std::string>{"ws"});
  CHECK(absl::IsInvalidArgument(f.store->Get(".staging").status()));
}

TEST_CASE("Names with the old temporary prefix are refused", "[staging]") {
  Fixture f;
  CHECK(absl::IsInvalidArgument(f.files.Write(f.ws, ".wp-tmp-x", "a", {}).status()));
  CHECK(absl::IsInvalidArgument(f.files.Write(f.ws, "d/.wp-tmp-x/y", "a", {}).status()));
  REQUIRE(f.files.Write(f.ws, "ok.txt", "a", {}).ok());
  CHECK(absl::IsInvalidArgument(f.files.Move(f.ws, "ok.txt", ".wp-tmp-1", false)));
  UploadSession upload(f.ws, f.files, false);
  CHECK(absl::IsInvalidArgument(upload.StartFile(".wp-tmp-2")));
  CHECK(Tree(f.ws.root) == std::set<std::string>{"ok.txt"});
}

TEST_CASE("Opening the store sweeps what a crash left: staging, old temporaries, git locks",
          "[staging]") {
  TempRoot tmp;
  fs::create_directories(tmp.root / ".staging/deep");
  std::ofstream(tmp.root / ".staging/ABC123") << "half";
  std::ofstream(tmp.root / ".staging/deep/x") << "half";
  fs::create_directories(tmp.root / "ws/sub");
  fs::create_directories(tmp.root / "ws/.git/refs/heads");
  std::ofstream(tmp.root / "ws/keep.txt") << "keep";
  std::ofstream(tmp.root / "ws/.wp-tmp-Ab12Cd") << "orphan";
  std::ofstream(tmp.root / "ws/sub/.wp-tmp-Zz99Yy") << "orphan";
  std::ofstream(tmp.root / "ws/.git/index.lock") << "stale";
  std::ofstream(tmp.root / "ws/.git/refs/heads/main.lock") << "stale";
  std::ofstream(tmp.root / "ws/.git/HEAD") << "ref: refs/heads/main\n";
  auto store = WorkspaceStore::Open(tmp.root);
  REQUIRE(store.ok());
  CHECK(Tree(tmp.root / ".staging").empty());
  CHECK(Tree(tmp.root / "ws") == std::set<std::string>{".git", ".git/HEAD", ".git/refs",
                                                        ".git/refs/heads", "keep.txt", "sub"});
}

TEST_CASE("A refused upload leaves nothing behind, directories included", "[staging]") {
  Fixture f;
  REQUIRE(f.files.Write(f.ws, "exists.txt", "old", {}).ok());
  const std::set<std::string> before = Tree(f.ws.root);
  {
    UploadSession upload(f.ws, f.files, false);
    REQUIRE(upload.StartFile("new/deep/one.bin").ok());
    REQUIRE(upload.Append("1").ok());
    REQUIRE(upload.StartFile("exists.txt").ok());
    REQUIRE(upload.Append("2").ok());
    CHECK(absl::IsAlreadyExists(upload.Commit().status()));
  }
  {
    // Over the byte cap half-way: refused, nothing published.
    FileLimits small;
    small.max_upload_bytes = 4;
    WorkspaceFiles capped(small);
    UploadSession upload(f.ws, capped, false);
    REQUIRE(upload.StartFile("other/x.bin").ok());
    CHECK(absl::IsResourceExhausted(upload.Append("12345")));
  }
  {
    // Abandoned (a broken stream): the session's end removes what it staged.
    UploadSession upload(f.ws, f.files, false);
    REQUIRE(upload.StartFile("gone/y.bin").ok());
    REQUIRE(upload.Append("y").ok());
  }
  CHECK(Tree(f.ws.root) == before);
  CHECK(Tree(f.ws.staging).empty());
}

TEST_CASE("A write refused for a file in the way creates no directory", "[staging]") {
  Fixture f;
  REQUIRE(f.files.Write(f.ws, "file", "x", {}).ok());
  CHECK(absl::IsFailedPrecondition(f.files.Write(f.ws, "file/inside/y", "y", {}).status()));
  CHECK_FALSE(f.files.Move(f.ws, "file", "file/z", false).ok());
  CHECK(Tree(f.ws.root) == std::set<std::string>{"file"});
  CHECK(Tree(f.ws.staging).empty());
}

TEST_CASE("The lock table holds entries only while calls are in progress", "[locks]") {
  Fixture f;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const std::string path = "d" + std::to_string(t) + "/f" + std::to_string(i % 7);
        REQUIRE(f.files.Write(f.ws, path, std::to_string(i), {true, ""}).ok());
        REQUIRE(f.files.Move(f.ws, path, path + ".moved", true).ok());
        REQUIRE(f.files.Delete(f.ws, path + ".moved", false).ok());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(f.store->locks().workspace_entries() == 0);
  CHECK(f.store->locks().path_entries() == 0);
}

TEST_CASE("An exclusive tree lock waits for shared holders and keeps new ones out", "[locks]") {
  WorkspaceLocks locks;
  std::atomic<int> inside{0};
  std::atomic<bool> overlap{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if ((i + t) % 5 == 0) {
          WorkspaceLocks::Guard guard = locks.Exclusive("ws");
          if (inside.fetch_add(100) != 0) overlap = true;
          std::this_thread::yield();
          inside.fetch_sub(100);
        } else {
          WorkspaceLocks::Guard guard = locks.Shared("ws", {"b", "a", "b"});
          if (inside.fetch_add(1) >= 100) overlap = true;
          std::this_thread::yield();
          inside.fetch_sub(1);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK_FALSE(overlap);
  CHECK(locks.workspace_entries() == 0);
  CHECK(locks.path_entries() == 0);
}

TEST_CASE("Deleting a workspace leaves no lock entry and no staged file", "[locks]") {
  Fixture f;
  REQUIRE(f.files.Write(f.ws, "x", "1", {}).ok());
  REQUIRE(f.store->Delete("ws").ok());
  CHECK(f.store->locks().workspace_entries() == 0);
  CHECK(Tree(f.tmp.root) == std::set<std::string>{".staging"});
}

TEST_CASE("A stream of shared holders does not starve an exclusive one", "[locks]") {
  WorkspaceLocks locks;
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (int t = 0; t < 6; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        WorkspaceLocks::Guard guard = locks.Shared("ws", {});
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // Every exclusive taker gets in while the shared stream goes on (without the turnstile this
  // waits for ever: the deadline ends the stream and fails the test).
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 20; ++i) WorkspaceLocks::Guard guard = locks.Exclusive("ws");
    done = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(done);
  stop = true;
  writer.join();
  for (auto& reader : readers) reader.join();
  CHECK(locks.workspace_entries() == 0);
}
