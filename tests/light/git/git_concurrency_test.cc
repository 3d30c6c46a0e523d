// Commits interleaved with writes, edits, moves, deletes and uploads never fail, never contain a
// temporary file and never a torn one.
#include <git2.h>

#include <catch2/catch.hpp>
#include <atomic>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "services/light/core/files/upload_session.h"
#include "services/light/core/files/workspace_files.h"
#include "services/light/core/files/workspace_store.h"
#include "services/light/core/git/git_core.h"
#include "tests/light/git/git_test_util.h"

namespace fs = std::filesystem;
using namespace workerpair::light;
using workerpair::light::testing::kAuthor;

namespace {

// Recognisable content: "<name>#<version>#" then filler up to a length that the header fixes,
// so a torn or mixed file is detectable.
std::string Content(const std::string& name, int version) {
  std::string header = name + "#" + std::to_string(version) + "#";
  const std::size_t length = 1000 + static_cast<std::size_t>(version % 7) * 3000;
  std::string out = header;
  while (out.size() < length) out.push_back(static_cast<char>('a' + (out.size() + version) % 26));
  return out;
}

bool Whole(const std::string& content) {
  const std::size_t first = content.find('#');
  const std::size_t second = content.find('#', first + 1);
  if (first == std::string::npos || second == std::string::npos) return false;
  const int version = std::stoi(content.substr(first + 1, second - first - 1));
  return content == Content(content.substr(0, first), version);
}

// Calls `visit(path, blob content)` for every blob of every commit reachable from HEAD.
void ForEveryCommittedFile(const fs::path& root,
                           const std::function<void(const std::string&, const std::string&)>& visit,
                           int* commits) {
  git_repository* repo = nullptr;
  REQUIRE(git_repository_open(&repo, root.c_str()) == 0);
  git_revwalk* walk = nullptr;
  REQUIRE(git_revwalk_new(&walk, repo) == 0);
  REQUIRE(git_revwalk_push_head(walk) == 0);
  git_oid id;
  while (git_revwalk_next(&id, walk) == 0) {
    ++*commits;
    git_commit* commit = nullptr;
    REQUIRE(git_commit_lookup(&commit, repo, &id) == 0);
    git_tree* tree = nullptr;
    REQUIRE(git_commit_tree(&tree, commit) == 0);
    struct Context {
      git_repository* repo;
      const std::function<void(const std::string&, const std::string&)>* visit;
    } context{repo, &visit};
    git_tree_walk(
        tree, GIT_TREEWALK_PRE,
        [](const char* dir, const git_tree_entry* entry, void* payload) -> int {
          auto* ctx = static_cast<Context*>(payload);
          if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB) return 0;
          git_blob* blob = nullptr;
          if (git_blob_lookup(&blob, ctx->repo, git_tree_entry_id(entry)) != 0) return -1;
          const std::string content(static_cast<const char*>(git_blob_rawcontent(blob)),
                                    static_cast<std::size_t>(git_blob_rawsize(blob)));
          git_blob_free(blob);
          (*ctx->visit)(std::string(dir) + git_tree_entry_name(entry), content);
          return 0;
        },
        &context);
    git_tree_free(tree);
    git_commit_free(commit);
  }
  git_revwalk_free(walk);
  git_repository_free(repo);
}

}  // namespace

TEST_CASE("Commits interleaved with writes, edits, moves and uploads never fail", "[git][locks]") {
  workerpair::testing::TempDir dir;
  auto store = WorkspaceStore::Open(dir.path() / "root");
  REQUIRE(store.ok());
  REQUIRE((*store)->Create("ws", false).ok());
  const Workspace ws = *(*store)->Get("ws");
  FileLimits limits;
  WorkspaceFiles files(limits);
  GitCore git(GitOptions{});
  REQUIRE(git.Init(ws, "main").ok());
  REQUIRE(files.Write(ws, "seed.txt", Content("seed.txt", 0), {}).ok());
  REQUIRE(git.Commit(ws, CommitRequest{kAuthor, "seed", {}}).ok());

  std::atomic<bool> stop{false};
  std::atomic<int> mutations{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 3; ++t) {
    writers.emplace_back([&, t] {
      std::mt19937 random(static_cast<unsigned>(t));
      for (int version = 1; !stop; ++version) {
        const std::string name = "t" + std::to_string(t) + "/f" + std::to_string(random() % 5);
        switch (random() % 5) {
          case 0:
          case 1:
            CHECK(files.Write(ws, name, Content(name, version), {true, ""}).ok());
            break;
          case 2: {
            // Move a file away and back: a commit must see it at one of the two places.
            const std::string moved = name + ".moved";
            if (files.Write(ws, moved, Content(moved, version), {true, ""}).ok()) {
              CHECK(files.Move(ws, moved, name, true).ok());
            }
            break;
          }
          case 3: {
            UploadSession upload(ws, files, true);
            const std::string a = name + ".up";
            CHECK(upload.StartFile(a).ok());
            CHECK(upload.Append(Content(a, version)).ok());
            CHECK(upload.Commit().ok());
            break;
          }
          case 4: {
            absl::StatusOr<std::uint64_t> removed = files.Delete(ws, name, false);
            CHECK((removed.ok() || absl::IsNotFound(removed.status())));
            break;
          }
        }
        ++mutations;
      }
    });
  }
  int commits_made = 0;
  for (int i = 0; i < 150; ++i) {
    auto commit = git.Commit(ws, CommitRequest{kAuthor, "round " + std::to_string(i), {}});
    if (!commit.ok()) {
      // The only acceptable refusal: nothing changed since the previous commit.
      INFO(commit.status().ToString());
      REQUIRE(absl::IsFailedPrecondition(commit.status()));
      REQUIRE(commit.status().message().find("nothing to commit") != std::string_view::npos);
    } else {
      ++commits_made;
    }
  }
  stop = true;
  for (auto& writer : writers) writer.join();
  CHECK(commits_made > 10);
  CHECK(mutations > 100);

  int commits_walked = 0;
  int blobs = 0;
  ForEveryCommittedFile(
      ws.root,
      [&](const std::string& path, const std::string& content) {
        ++blobs;
        INFO(path);
        CHECK(path.find(".wp-tmp-") == std::string::npos);
        CHECK(Whole(content));
        // Named after its path, or after the path it was moved from.
        const std::string named = content.substr(0, content.find('#'));
        CHECK((named == path || named == path + ".moved"));
      },
      &commits_walked);
  CHECK(commits_walked == commits_made + 1);
  CHECK(blobs > 0);
  CHECK((*store)->locks().workspace_entries() == 0);
}
