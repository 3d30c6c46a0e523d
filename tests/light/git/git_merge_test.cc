// GitCore: merge (up to date, fast-forward, merge commit, conflicts), conflict resolution,
// abort and completion.
#include <catch2/catch.hpp>
#include <filesystem>

#include "services/light/core/git/git_core.h"
#include "tests/light/git/git_test_util.h"

namespace fs = std::filesystem;
using namespace workerpair::light;
using workerpair::light::testing::GitFixture;
using workerpair::light::testing::kAuthor;

namespace {

// main: a.txt "base"; feature: a.txt "theirs", plus added.txt; main then: a.txt "ours".
struct ConflictFixture : GitFixture {
  ConflictFixture() {
    InitRepo();
    Write("a.txt", "line 1\nbase\nline 3\n");
    Write("keep.txt", "keep\n");
    base = CommitAll("base");
    REQUIRE(git.CreateBranch(ws, "feature", "").ok());
    REQUIRE(git.Checkout(ws, "feature").ok());
    Write("a.txt", "line 1\ntheirs\nline 3\n");
    Write("added.txt", "from feature\n");
    theirs = CommitAll("feature edits a");
    REQUIRE(git.Checkout(ws, "main").ok());
    Write("a.txt", "line 1\nours\nline 3\n");
    ours = CommitAll("main edits a");
  }
  MergeResult MergeFeature() {
    auto merged = git.Merge(ws, {"feature", kAuthor, "", false});
    INFO(merged.status().ToString());
    REQUIRE(merged.ok());
    return *merged;
  }
  std::string base, theirs, ours;
};

}  // namespace

TEST_CASE("Merge fast-forwards, then reports up to date", "[git][merge]") {
  GitFixture f;
  f.InitRepo();
  f.Write("a.txt", "a\n");
  f.CommitAll("base");
  REQUIRE(f.git.CreateBranch(f.ws, "feature", "").ok());
  REQUIRE(f.git.Checkout(f.ws, "feature").ok());
  f.Write("b.txt", "b\n");
  const std::string tip = f.CommitAll("feature");
  REQUIRE(f.git.Checkout(f.ws, "main").ok());
  CHECK_FALSE(f.Exists("b.txt"));

  // No author needed for a fast-forward.
  auto merged = f.git.Merge(f.ws, {"feature", {}, "", false});
  REQUIRE(merged.ok());
  CHECK(merged->outcome == MergeOutcome::kFastForward);
  CHECK(merged->hash == tip);
  CHECK(f.Read("b.txt") == "b\n");
  auto status = f.git.Status(f.ws);
  CHECK(status->head == tip);
  CHECK(status->branch == "main");
  CHECK_FALSE(status->dirty);

  auto again = f.git.Merge(f.ws, {"feature", {}, "", false});
  REQUIRE(again.ok());
  CHECK(again->outcome == MergeOutcome::kUpToDate);
  CHECK(again->hash == tip);
}

TEST_CASE("Merge of diverged branches without conflicts makes a merge commit", "[git][merge]") {
  GitFixture f;
  f.InitRepo();
  f.Write("a.txt", "a\n");
  f.CommitAll("base");
  REQUIRE(f.git.CreateBranch(f.ws, "feature", "").ok());
  REQUIRE(f.git.Checkout(f.ws, "feature").ok());
  f.Write("b.txt", "b\n");
  const std::string feature = f.CommitAll("feature adds b");
  REQUIRE(f.git.Checkout(f.ws, "main").ok());
  f.Write("c.txt", "c\n");
  const std::string main = f.CommitAll("main adds c");

  // A merge commit needs an author.
  CHECK(absl::IsInvalidArgument(f.git.Merge(f.ws, {"feature", {}, "", false}).status()));
  auto merged = f.git.Merge(f.ws, {"feature", kAuthor, "", false});
  REQUIRE(merged.ok());
  CHECK(merged->outcome == MergeOutcome::kMerged);
  CHECK(merged->conflicts.empty());
  CHECK(f.Read("b.txt") == "b\n");
  CHECK(f.Read("c.txt") == "c\n");
  auto log = f.git.Log(f.ws, {"", 1});
  REQUIRE(log->size() == 1);
  CHECK((*log)[0].hash == merged->hash);
  CHECK((*log)[0].parents == std::vector<std::string>{main, feature});
  CHECK((*log)[0].summary == "Merge branch 'feature'");
  auto status = f.git.Status(f.ws);
  CHECK_FALSE(status->merging);
  CHECK_FALSE(status->dirty);
}

TEST_CASE("Merge with no_fast_forward makes a merge commit where a fast-forward would do",
          "[git][merge]") {
  GitFixture f;
  f.InitRepo();
  f.Write("a.txt", "a\n");
  const std::string base = f.CommitAll("base");
  REQUIRE(f.git.CreateBranch(f.ws, "feature", "").ok());
  REQUIRE(f.git.Checkout(f.ws, "feature").ok());
  f.Write("b.txt", "b\n");
  const std::string feature = f.CommitAll("feature");
  REQUIRE(f.git.Checkout(f.ws, "main").ok());
  auto merged = f.git.Merge(f.ws, {"feature", kAuthor, "merge it", true});
  REQUIRE(merged.ok());
  CHECK(merged->outcome == MergeOutcome::kMerged);
  auto log = f.git.Log(f.ws, {"", 1});
  CHECK((*log)[0].parents == std::vector<std::string>{base, feature});
  CHECK((*log)[0].summary == "merge it");
}

TEST_CASE("Merge errors: missing branch NOT_FOUND, dirty tree FAILED_PRECONDITION",
          "[git][merge]") {
  GitFixture f;
  f.InitRepo();
  f.Write("a.txt", "a\n");
  f.CommitAll("base");
  REQUIRE(f.git.CreateBranch(f.ws, "feature", "").ok());
  auto missing = f.git.Merge(f.ws, {"nope", kAuthor, "", false});
  CHECK(absl::IsNotFound(missing.status()));
  CHECK(missing.status().message() == "branch 'nope' not found");
  f.Write("a.txt", "dirty\n");
  auto dirty = f.git.Merge(f.ws, {"feature", kAuthor, "", false});
  CHECK(absl::IsFailedPrecondition(dirty.status()));
  CHECK(dirty.status().message().find("'a.txt'") != std::string::npos);
}

TEST_CASE("A conflicting merge reports the paths and leaves the repository merging",
          "[git][merge]") {
  ConflictFixture f;
  MergeResult merged = f.MergeFeature();
  CHECK(merged.outcome == MergeOutcome::kConflicted);
  CHECK(merged.conflicts == std::vector<std::string>{"a.txt"});
  CHECK(merged.hash == f.ours);
  // Markers in the file, the clean addition is already there.
  const std::string content = f.Read("a.txt");
  CHECK(content.find("<<<<<<< ") != std::string::npos);
  CHECK(content.find("ours") != std::string::npos);
  CHECK(content.find("theirs") != std::string::npos);
  CHECK(content.find(">>>>>>> ") != std::string::npos);
  CHECK(f.Read("added.txt") == "from feature\n");

  auto status = f.git.Status(f.ws);
  REQUIRE(status.ok());
  CHECK(status->merging);
  CHECK(status->dirty);
  CHECK(status->conflicts == std::vector<std::string>{"a.txt"});

  // Committing, checking out or merging again is refused while conflicts remain.
  auto commit = f.git.Commit(f.ws, {kAuthor, "too early", {}});
  CHECK(absl::IsFailedPrecondition(commit.status()));
  CHECK(commit.status().message().find("conflicts in 'a.txt'") != std::string::npos);
  auto complete = f.git.CompleteMerge(f.ws, kAuthor, "");
  CHECK(absl::IsFailedPrecondition(complete.status()));
  CHECK(complete.status().message().find("'a.txt'") != std::string::npos);
  CHECK(absl::IsFailedPrecondition(f.git.Checkout(f.ws, "feature").status()));
  CHECK(absl::IsFailedPrecondition(f.git.Merge(f.ws, {"feature", kAuthor, "", false}).status()));
  CHECK(f.git.Status(f.ws)->merging);
}

TEST_CASE("A conflict resolved with ours, then the merge completed", "[git][merge]") {
  ConflictFixture f;
  REQUIRE(f.MergeFeature().outcome == MergeOutcome::kConflicted);
  auto remaining = f.git.ResolveConflict(f.ws, "a.txt", ConflictSide::kOurs);
  REQUIRE(remaining.ok());
  CHECK(remaining->empty());
  CHECK(f.Read("a.txt") == "line 1\nours\nline 3\n");
  auto status = f.git.Status(f.ws);
  CHECK(status->merging);
  CHECK(status->conflicts.empty());

  auto complete = f.git.CompleteMerge(f.ws, kAuthor, "");
  INFO(complete.status().ToString());
  REQUIRE(complete.ok());
  CHECK(complete->merge);
  auto log = f.git.Log(f.ws, {"", 1});
  CHECK((*log)[0].hash == complete->hash);
  CHECK((*log)[0].parents == std::vector<std::string>{f.ours, f.theirs});
  CHECK((*log)[0].summary == "Merge branch 'feature'");
  CHECK((*log)[0].message.find("#") == std::string::npos);
  status = f.git.Status(f.ws);
  CHECK_FALSE(status->merging);
  CHECK_FALSE(status->dirty);
  CHECK(f.Read("added.txt") == "from feature\n");
  // The merged content is what is committed.
  auto diff = f.git.Diff(f.ws, {f.ours, complete->hash, {}, -1});
  REQUIRE(diff.ok());
  REQUIRE(diff->files.size() == 1);
  CHECK(diff->files[0].path == "added.txt");
}

TEST_CASE("A conflict resolved with theirs, then committed with Commit", "[git][merge]") {
  ConflictFixture f;
  REQUIRE(f.MergeFeature().outcome == MergeOutcome::kConflicted);
  auto remaining = f.git.ResolveConflict(f.ws, "a.txt", ConflictSide::kTheirs);
  REQUIRE(remaining.ok());
  CHECK(remaining->empty());
  CHECK(f.Read("a.txt") == "line 1\ntheirs\nline 3\n");
  // A merge commit takes everything: naming paths is refused.
  CHECK(absl::IsFailedPrecondition(f.git.Commit(f.ws, {kAuthor, "m", {"a.txt"}}).status()));
  auto commit = f.git.Commit(f.ws, {kAuthor, "merged feature, theirs wins", {}});
  REQUIRE(commit.ok());
  CHECK(commit->merge);
  auto log = f.git.Log(f.ws, {"", 1});
  CHECK((*log)[0].parents == std::vector<std::string>{f.ours, f.theirs});
  CHECK_FALSE(f.git.Status(f.ws)->dirty);
  // main now has feature's content.
  auto diff = f.git.Diff(f.ws, {"feature", "main", {}, -1});
  REQUIRE(diff.ok());
  CHECK(diff->files.empty());
}

TEST_CASE("A conflict resolved with the hand-edited working-tree file", "[git][merge]") {
  ConflictFixture f;
  REQUIRE(f.MergeFeature().outcome == MergeOutcome::kConflicted);
  f.Write("a.txt", "line 1\nboth\nline 3\n");
  auto remaining = f.git.ResolveConflict(f.ws, "a.txt", ConflictSide::kWorkingTree);
  REQUIRE(remaining.ok());
  CHECK(remaining->empty());
  auto complete = f.git.CompleteMerge(f.ws, kAuthor, "hand merge");
  REQUIRE(complete.ok());
  CHECK(f.Read("a.txt") == "line 1\nboth\nline 3\n");
  CHECK_FALSE(f.git.Status(f.ws)->dirty);
}

TEST_CASE("Resolving with the side that deleted the file deletes it", "[git][merge]") {
  GitFixture f;
  f.InitRepo();
  f.Write("a.txt", "base\n");
  const std::string base = f.CommitAll("base");
  REQUIRE(f.git.CreateBranch(f.ws, "feature", "").ok());
  REQUIRE(f.git.Checkout(f.ws, "feature").ok());
  fs::remove(f.ws.root / "a.txt");
  f.CommitAll("feature deletes a");
  REQUIRE(f.git.Checkout(f.ws, "main").ok());
  f.Write("a.txt", "changed on main\n");
  f.CommitAll("main edits a");
  auto merged = f.git.Merge(f.ws, {"feature", kAuthor, "", false});
  REQUIRE(merged.ok());
  REQUIRE(merged->outcome == MergeOutcome::kConflicted);
  CHECK(merged->conflicts == std::vector<std::string>{"a.txt"});
  auto remaining = f.git.ResolveConflict(f.ws, "a.txt", ConflictSide::kTheirs);
  REQUIRE(remaining.ok());
  CHECK(remaining->empty());
  CHECK_FALSE(f.Exists("a.txt"));
  REQUIRE(f.git.CompleteMerge(f.ws, kAuthor, "").ok());
  CHECK_FALSE(f.git.Status(f.ws)->dirty);
}

TEST_CASE("AbortMerge restores HEAD and clears the merge", "[git][merge]") {
  ConflictFixture f;
  REQUIRE(f.MergeFeature().outcome == MergeOutcome::kConflicted);
  auto aborted = f.git.AbortMerge(f.ws);
  REQUIRE(aborted.ok());
  CHECK(*aborted == f.ours);
  CHECK(f.Read("a.txt") == "line 1\nours\nline 3\n");
  CHECK_FALSE(f.Exists("added.txt"));
  auto status = f.git.Status(f.ws);
  CHECK_FALSE(status->merging);
  CHECK_FALSE(status->dirty);
  CHECK(status->conflicts.empty());
  CHECK(status->head == f.ours);
  // And the same merge can be tried again.
  CHECK(f.MergeFeature().outcome == MergeOutcome::kConflicted);
}

TEST_CASE("Merge-state calls outside a merge, and unknown conflicts, are refused",
          "[git][merge]") {
  ConflictFixture f;
  auto resolve = f.git.ResolveConflict(f.ws, "a.txt", ConflictSide::kOurs);
  CHECK(absl::IsFailedPrecondition(resolve.status()));
  CHECK(resolve.status().message() == "workspace 'ws' has no merge in progress");
  CHECK(absl::IsFailedPrecondition(f.git.AbortMerge(f.ws).status()));
  CHECK(absl::IsFailedPrecondition(f.git.CompleteMerge(f.ws, kAuthor, "").status()));

  REQUIRE(f.MergeFeature().outcome == MergeOutcome::kConflicted);
  auto not_conflicted = f.git.ResolveConflict(f.ws, "keep.txt", ConflictSide::kOurs);
  CHECK(absl::IsNotFound(not_conflicted.status()));
  CHECK(not_conflicted.status().message() == "path 'keep.txt' has no merge conflict");
  CHECK(absl::IsPermissionDenied(
      f.git.ResolveConflict(f.ws, "../a.txt", ConflictSide::kOurs).status()));
}
