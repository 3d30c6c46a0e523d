// Caller input that could corrupt history or escape: push targets outside the allowed
// prefixes (.., symlinks, encoded dots), authors and messages with control characters,
// malformed branch names. Each is refused before the repository changes.
#include <git2.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "services/light/core/git/git_input.h"
#include "services/light/core/git/git_core.h"
#include "tests/light/git/git_test_util.h"

namespace fs = std::filesystem;
using namespace workerpair::light;
using workerpair::light::testing::GitFixture;
using workerpair::light::testing::kAuthor;
using workerpair::light::testing::RefHash;

namespace {

void InitBare(const fs::path& path) {
  git_repository* repo = nullptr;
  REQUIRE(git_repository_init(&repo, path.c_str(), 1) == 0);
  git_repository_free(repo);
}

// Files under .git/objects (loose objects and packs): what a refused commit must not add to.
std::size_t ObjectFiles(const fs::path& root) {
  std::size_t count = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root / ".git/objects")) {
    if (entry.is_regular_file()) ++count;
  }
  return count;
}

absl::StatusCode Code(const absl::Status& status) { return status.code(); }

}  // namespace

TEST_CASE("Push targets are normalised, symlinks resolved, before the prefix check",
          "[git][push][input]") {
  workerpair::testing::TempDir dir;
  const fs::path allowed = dir.path() / "A";
  fs::create_directories(allowed);
  fs::create_directories(dir.path() / "outside");
  const std::vector<std::string> prefixes = {allowed.string() + "/"};

  CHECK(CheckPushTarget((allowed / "x.git").string(), prefixes).ok());
  CHECK(CheckPushTarget("file://" + (allowed / "x.git").string(), prefixes).ok());
  CHECK(Code(CheckPushTarget(allowed.string() + "/../outside/bare.git", prefixes).status()) ==
        absl::StatusCode::kPermissionDenied);
  CHECK(Code(CheckPushTarget("file://" + allowed.string() + "/../outside/b.git", prefixes)
                 .status()) == absl::StatusCode::kPermissionDenied);
  CHECK(Code(CheckPushTarget(dir.path().string() + "/AB/x.git", {allowed.string()}).status()) ==
        absl::StatusCode::kPermissionDenied);
  // A symlink inside the prefix that leads out of it.
  fs::create_directory_symlink(dir.path() / "outside", allowed / "link");
  CHECK(Code(CheckPushTarget((allowed / "link/bare.git").string(), prefixes).status()) ==
        absl::StatusCode::kPermissionDenied);
  // Denials quote the caller's URL, not the resolved path.
  const absl::Status denied = CheckPushTarget(allowed.string() + "/link/b.git", prefixes).status();
  CHECK(std::string(denied.message()).find("/outside") == std::string::npos);

  const std::vector<std::string> url_prefixes = {"https://git.example.org/agents/"};
  CHECK(CheckPushTarget("https://git.example.org/agents/a.git", url_prefixes).ok());
  CHECK(Code(CheckPushTarget("https://git.example.org/agents/../admin.git", url_prefixes)
                 .status()) == absl::StatusCode::kPermissionDenied);
  CHECK(Code(CheckPushTarget("https://git.example.org/agents/%2e%2e/admin.git", url_prefixes)
                 .status()) == absl::StatusCode::kInvalidArgument);
  CHECK(Code(CheckPushTarget("https://git.example.org.evil/agents/a.git", url_prefixes)
                 .status()) == absl::StatusCode::kPermissionDenied);
  CHECK(Code(CheckPushTarget("https://git.example.org/agents/a\n.git", url_prefixes).status()) ==
        absl::StatusCode::kInvalidArgument);
  CHECK(Code(CheckPushTarget("", url_prefixes).status()) == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("GitPush to A/../outside is PERMISSION_DENIED and nothing is pushed",
          "[git][push][input]") {
  workerpair::testing::TempDir remotes;
  GitOptions options;
  options.allowed_remote_prefixes = {(remotes.path() / "A").string() + "/"};
  GitFixture f(options);  // first: it initialises libgit2
  fs::create_directories(remotes.path() / "A");
  InitBare(remotes.path() / "A/ok.git");
  InitBare(remotes.path() / "outside.git");
  f.InitRepo();
  f.Write("a.txt", "a\n");
  const std::string head = f.CommitAll("first");

  const std::string escape = (remotes.path() / "A").string() + "/../outside.git";
  CHECK(f.git.Push(f.ws, {"origin", escape, "", false}).status().code() ==
        absl::StatusCode::kPermissionDenied);
  CHECK(RefHash(remotes.path() / "outside.git", "refs/heads/main").empty());
  auto pushed = f.git.Push(f.ws, {"origin", (remotes.path() / "A/ok.git").string(), "", false});
  INFO(pushed.status().ToString());
  REQUIRE(pushed.ok());
  CHECK(RefHash(remotes.path() / "A/ok.git", "refs/heads/main") == head);
}

TEST_CASE("Authors, messages and branch names with control characters are refused",
          "[git][input]") {
  CHECK(ValidateAuthor(kAuthor).ok());
  CHECK(Code(ValidateAuthor({"Ann\nEvil: x", "ann@example.org"})) ==
        absl::StatusCode::kInvalidArgument);
  CHECK(Code(ValidateAuthor({"Ann", "ann@example.org\r"})) == absl::StatusCode::kInvalidArgument);
  CHECK(Code(ValidateAuthor({"Ann <x@y>", "ann@example.org"})) ==
        absl::StatusCode::kInvalidArgument);
  CHECK(Code(ValidateAuthor({std::string(300, 'a'), "a@b"})) ==
        absl::StatusCode::kInvalidArgument);
  CHECK(Code(ValidateAuthor({"\xff\xfe", "a@b"})) == absl::StatusCode::kInvalidArgument);
  CHECK(Code(ValidateAuthor({"", "a@b"})) == absl::StatusCode::kInvalidArgument);

  CHECK(ValidateCommitMessage("subject\n\n\tbody\n").ok());
  CHECK(Code(ValidateCommitMessage(std::string("a\0b", 3))) ==
        absl::StatusCode::kInvalidArgument);
  CHECK(Code(ValidateCommitMessage("a\x1b[31mred")) == absl::StatusCode::kInvalidArgument);
  CHECK(Code(ValidateCommitMessage(std::string(70000, 'm'))) ==
        absl::StatusCode::kInvalidArgument);

  CHECK(ValidateBranchName("feature/x-1").ok());
  for (const std::string bad : std::vector<std::string>{
           "-rf", "a..b", "a\nb", "x@{1}", "a b", "a~1", "a:b", "/a", "a/", "a.lock", "HEAD",
           std::string(300, 'b'), std::string("a\0b", 3)}) {
    INFO(bad);
    CHECK(Code(ValidateBranchName(bad)) == absl::StatusCode::kInvalidArgument);
  }
  CHECK(Code(ValidateRemoteName("origin\n")) == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("A commit with a newline in the author is INVALID_ARGUMENT and writes no object",
          "[git][input]") {
  GitFixture f;
  f.InitRepo();
  f.Write("a.txt", "a\n");
  const std::string first = f.CommitAll("first");
  f.Write("a.txt", "b\n");
  const std::size_t before = ObjectFiles(f.ws.root);

  for (const CommitRequest& bad :
       {CommitRequest{{"Ann\nEvil", "ann@example.org"}, "second", {}},
        CommitRequest{{"Ann", "ann@example.org\n"}, "second", {}},
        CommitRequest{kAuthor, std::string("second\0hidden", 13), {}}}) {
    CHECK(f.git.Commit(f.ws, bad).status().code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK(f.git.Merge(f.ws, {"main", {"Ann\n", "a@b"}, "", false}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(f.git.CompleteMerge(f.ws, {"Ann\n", "a@b"}, "").status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(f.git.CreateBranch(f.ws, "-rf", "").status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(ObjectFiles(f.ws.root) == before);
  // The repository is untouched and still works.
  auto status = f.git.Status(f.ws);
  REQUIRE(status.ok());
  CHECK(status->head == first);
  CHECK(f.CommitAll("second") != first);
}

TEST_CASE("A push whose budget ran out stops with the budget's status", "[git][push][input]") {
  GitFixture f;
  f.InitRepo();
  const fs::path bare = f.dir.path() / "remote.git";
  InitBare(bare);
  f.Write("a.txt", "a\n");
  const std::string head = f.CommitAll("first");
  const workerpair::CallBudget cancelled;
  cancelled.Cancel();
  PushRequest push{"origin", bare.string(), "", false, &cancelled};
  CHECK(f.git.Push(f.ws, push).status().code() == absl::StatusCode::kCancelled);
  CHECK(RefHash(bare, "refs/heads/main").empty());
  const workerpair::CallBudget plenty(absl::Now() + absl::Seconds(60), [] { return false; });
  push.budget = &plenty;
  auto pushed = f.git.Push(f.ws, push);
  INFO(pushed.status().ToString());
  REQUIRE(pushed.ok());
  CHECK(RefHash(bare, "refs/heads/main") == head);
}
