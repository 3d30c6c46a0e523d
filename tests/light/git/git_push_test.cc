// GitCore::Push to local bare repositories.
#include <git2.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "services/light/core/git/git_core.h"
#include "tests/light/git/git_test_util.h"

namespace fs = std::filesystem;
using namespace workerpair::light;
using workerpair::light::testing::GitFixture;
using workerpair::light::testing::LocalConfig;
using workerpair::light::testing::RefHash;

namespace {

// A bare repository at `path`.
void InitBare(const fs::path& path) {
  git_repository* repo = nullptr;
  REQUIRE(git_repository_init(&repo, path.c_str(), 1) == 0);
  git_repository_free(repo);
}

}  // namespace

TEST_CASE("Push sends the branch to a bare repository, adding the remote", "[git][push]") {
  GitFixture f;
  f.InitRepo();
  const fs::path bare = f.dir.path() / "remote.git";
  InitBare(bare);
  f.Write("a.txt", "a\n");
  const std::string first = f.CommitAll("first");

  auto pushed = f.git.Push(f.ws, {"origin", bare.string(), "", false});
  INFO(pushed.status().ToString());
  REQUIRE(pushed.ok());
  CHECK(pushed->ref == "refs/heads/main");
  CHECK(pushed->hash == first);
  CHECK(RefHash(bare, "refs/heads/main") == first);
  CHECK(LocalConfig(f.ws.root, "remote.origin.url") == bare.string());

  // A later commit goes to the same remote; a named branch goes under its own name.
  f.Write("a.txt", "b\n");
  const std::string second = f.CommitAll("second");
  REQUIRE(f.git.CreateBranch(f.ws, "feature", "HEAD~1").ok());
  REQUIRE(f.git.Push(f.ws, {"origin", bare.string(), "", false}).ok());
  CHECK(RefHash(bare, "refs/heads/main") == second);
  auto feature = f.git.Push(f.ws, {"origin", bare.string(), "feature", false});
  REQUIRE(feature.ok());
  CHECK(feature->ref == "refs/heads/feature");
  CHECK(RefHash(bare, "refs/heads/feature") == first);
}

TEST_CASE("Push to a remote with a new URL replaces the URL", "[git][push]") {
  GitFixture f;
  f.InitRepo();
  const fs::path one = f.dir.path() / "one.git";
  const fs::path two = f.dir.path() / "two.git";
  InitBare(one);
  InitBare(two);
  f.Write("a.txt", "a\n");
  const std::string head = f.CommitAll("first");
  REQUIRE(f.git.Push(f.ws, {"origin", one.string(), "", false}).ok());
  REQUIRE(f.git.Push(f.ws, {"origin", "file://" + two.string(), "", false}).ok());
  CHECK(RefHash(two, "refs/heads/main") == head);
  CHECK(LocalConfig(f.ws.root, "remote.origin.url") == "file://" + two.string());
}

TEST_CASE("A non-fast-forward push is FAILED_PRECONDITION unless forced", "[git][push]") {
  GitFixture f;
  GitFixture other;
  const fs::path bare = f.dir.path() / "remote.git";
  InitBare(bare);
  f.InitRepo();
  f.Write("a.txt", "a\n");
  const std::string mine = f.CommitAll("mine");
  REQUIRE(f.git.Push(f.ws, {"origin", bare.string(), "", false}).ok());
  // An unrelated history cannot replace it without force.
  other.InitRepo();
  other.Write("b.txt", "b\n");
  const std::string theirs = other.CommitAll("theirs");
  auto refused = other.git.Push(other.ws, {"origin", bare.string(), "", false});
  INFO(refused.status().ToString());
  CHECK(absl::IsFailedPrecondition(refused.status()));
  CHECK(RefHash(bare, "refs/heads/main") == mine);
  auto forced = other.git.Push(other.ws, {"origin", bare.string(), "", true});
  INFO(forced.status().ToString());
  REQUIRE(forced.ok());
  CHECK(RefHash(bare, "refs/heads/main") == theirs);
}

TEST_CASE("Push errors: bad remote name, no URL, missing branch, unreachable remote",
          "[git][push]") {
  GitFixture f;
  f.InitRepo();
  const fs::path bare = f.dir.path() / "remote.git";
  InitBare(bare);
  // Before the first commit the current branch does not exist yet.
  CHECK(absl::IsNotFound(f.git.Push(f.ws, {"origin", bare.string(), "", false}).status()));
  f.Write("a.txt", "a\n");
  f.CommitAll("first");
  CHECK(absl::IsInvalidArgument(f.git.Push(f.ws, {"bad name", bare.string(), "", false}).status()));
  CHECK(absl::IsInvalidArgument(f.git.Push(f.ws, {"origin", "", "", false}).status()));
  auto missing = f.git.Push(f.ws, {"origin", bare.string(), "nope", false});
  CHECK(absl::IsNotFound(missing.status()));
  CHECK(missing.status().message() == "branch 'nope' not found");
  auto unreachable = f.git.Push(f.ws, {"origin", (f.dir.path() / "nothing").string(), "", false});
  INFO(unreachable.status().ToString());
  CHECK(absl::IsUnavailable(unreachable.status()));
  CHECK(RefHash(bare, "refs/heads/main").empty());
}

TEST_CASE("Push URLs outside the allowed prefixes are PERMISSION_DENIED", "[git][push]") {
  GitOptions options;
  GitFixture probe;
  options.allowed_remote_prefixes = {(probe.dir.path() / "allowed").string() + "/"};
  GitFixture f(options);
  f.InitRepo();
  f.Write("a.txt", "a\n");
  const std::string head = f.CommitAll("first");
  const fs::path outside = f.dir.path() / "outside.git";
  const fs::path inside = probe.dir.path() / "allowed/inside.git";
  InitBare(outside);
  InitBare(inside);
  CHECK(absl::IsPermissionDenied(
      f.git.Push(f.ws, {"origin", outside.string(), "", false}).status()));
  CHECK(RefHash(outside, "refs/heads/main").empty());
  REQUIRE(f.git.Push(f.ws, {"origin", inside.string(), "", false}).ok());
  CHECK(RefHash(inside, "refs/heads/main") == head);
}
