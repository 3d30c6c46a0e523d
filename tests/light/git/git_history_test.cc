// ExportHistory / ImportHistory: a workspace's history moves whole, and a bad one leaves nothing.
#include <catch2/catch.hpp>
#include <filesystem>

#include "services/light/core/git/git_core.h"
#include "tests/light/git/git_test_util.h"

namespace fs = std::filesystem;
using namespace workerpair::light;
using workerpair::light::testing::GitFixture;
using workerpair::light::testing::kAuthor;

namespace {

std::vector<std::string> Hashes(GitCore& git, const Workspace& ws, const std::string& from) {
  auto log = git.Log(ws, LogRequest{from, 100});
  REQUIRE(log.ok());
  std::vector<std::string> hashes;
  for (const LogEntry& entry : *log) hashes.push_back(entry.hash);
  return hashes;
}

}  // namespace

TEST_CASE("A history exported and imported keeps every commit, branch and HEAD", "[history]") {
  GitFixture source;
  source.InitRepo();
  source.Write("a.txt", "one\n");
  source.CommitAll("first");
  REQUIRE(source.git.CreateBranch(source.ws, "feature", "").ok());
  REQUIRE(source.git.Checkout(source.ws, "feature").ok());
  source.Write("b.txt", "two\n");
  const std::string feature_head = source.CommitAll("on feature");
  REQUIRE(source.git.Checkout(source.ws, "main").ok());
  source.Write("a.txt", "one more\n");
  const std::string main_head = source.CommitAll("second");

  auto history = source.git.ExportHistory(source.ws);
  REQUIRE(history.ok());
  CHECK(history->head == "refs/heads/main");
  CHECK(history->branches ==
        std::vector<std::pair<std::string, std::string>>{{"refs/heads/feature", feature_head},
                                                         {"refs/heads/main", main_head}});

  GitFixture target;
  auto imported = target.git.ImportHistory(target.ws, *history);
  INFO(imported.status().ToString());
  REQUIRE(imported.ok());
  CHECK(*imported == main_head);
  CHECK(Hashes(target.git, target.ws, "main") == Hashes(source.git, source.ws, "main"));
  CHECK(Hashes(target.git, target.ws, "feature") == Hashes(source.git, source.ws, "feature"));
  // Files arrive separately; once they are there the workspace is clean.
  target.Write("a.txt", "one more\n");
  auto status = target.git.Status(target.ws);
  REQUIRE(status.ok());
  CHECK(status->branch == "main");
  CHECK(status->head == main_head);
  CHECK_FALSE(status->dirty);
  // And it carries on: a new commit on top.
  target.Write("c.txt", "three\n");
  CHECK(target.git.Commit(target.ws, CommitRequest{kAuthor, "after the move", {}}).ok());
  // A second import into a repository is refused.
  CHECK(absl::IsFailedPrecondition(target.git.ImportHistory(target.ws, *history).status()));
}

TEST_CASE("An unborn repository moves as its branch name", "[history]") {
  GitFixture source;
  REQUIRE(source.git.Init(source.ws, "trunk").ok());
  auto history = source.git.ExportHistory(source.ws);
  REQUIRE(history.ok());
  CHECK(history->pack.empty());
  CHECK(history->head == "refs/heads/trunk");
  GitFixture target;
  auto imported = target.git.ImportHistory(target.ws, *history);
  REQUIRE(imported.ok());
  CHECK(imported->empty());
  auto status = target.git.Status(target.ws);
  REQUIRE(status.ok());
  CHECK(status->branch == "trunk");
  CHECK(status->unborn);
}

TEST_CASE("A corrupt or inconsistent history is INVALID_ARGUMENT and leaves no repository",
          "[history]") {
  GitFixture source;
  source.InitRepo();
  source.Write("a.txt", "one\n");
  const std::string head = source.CommitAll("first");
  auto history = source.git.ExportHistory(source.ws);
  REQUIRE(history.ok());

  GitFixture target;
  GitHistory corrupt = *history;
  corrupt.pack[corrupt.pack.size() / 2] ^= 0x5a;
  CHECK(absl::IsInvalidArgument(target.git.ImportHistory(target.ws, corrupt).status()));
  CHECK_FALSE(target.Exists(".git"));

  GitHistory missing = *history;
  missing.branches.push_back({"refs/heads/ghost", std::string(40, 'a')});
  CHECK(absl::IsInvalidArgument(target.git.ImportHistory(target.ws, missing).status()));
  CHECK_FALSE(target.Exists(".git"));

  GitHistory bad_ref = *history;
  bad_ref.branches = {{"refs/tags/../../x", head}};
  CHECK(absl::IsInvalidArgument(target.git.ImportHistory(target.ws, bad_ref).status()));
  GitHistory bad_head = *history;
  bad_head.head = "HEAD";
  CHECK(absl::IsInvalidArgument(target.git.ImportHistory(target.ws, bad_head).status()));
  CHECK_FALSE(target.Exists(".git"));

  GitOptions small;
  small.max_history_bytes = 10;
  GitFixture limited(small);
  CHECK(absl::IsResourceExhausted(limited.git.ImportHistory(limited.ws, *history).status()));
}

TEST_CASE("A merge in progress is no history to move", "[history]") {
  GitFixture f;
  f.InitRepo();
  f.Write("a.txt", "base\n");
  f.CommitAll("base");
  REQUIRE(f.git.CreateBranch(f.ws, "other", "").ok());
  f.Write("a.txt", "main\n");
  f.CommitAll("main side");
  REQUIRE(f.git.Checkout(f.ws, "other").ok());
  f.Write("a.txt", "other\n");
  f.CommitAll("other side");
  auto merged = f.git.Merge(f.ws, MergeRequest{"main", kAuthor, "", false});
  REQUIRE(merged.ok());
  REQUIRE(merged->outcome == MergeOutcome::kConflicted);
  CHECK(absl::IsFailedPrecondition(f.git.ExportHistory(f.ws).status()));
}
