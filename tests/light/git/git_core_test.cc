// GitCore: init, status, commit, diff, log, branches, checkout, safety and concurrency.
#include "services/light/core/git/git_core.h"

#include <git2.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <thread>

#include "tests/light/git/git_test_util.h"

namespace fs = std::filesystem;
using namespace workerpair::light;
using workerpair::light::testing::GitFixture;
using workerpair::light::testing::kAuthor;
using workerpair::light::testing::LocalConfig;

namespace {

const FileChange* FindChange(const GitStatus& status, const std::string& path) {
  for (const FileChange& change : status.changes) {
    if (change.path == path) return &change;
  }
  return nullptr;
}

const FileDiff* FindDiff(const DiffResult& diff, const std::string& path) {
  for (const FileDiff& file : diff.files) {
    if (file.path == path) return &file;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("Init makes a repository on main once, a second Init changes nothing", "[git]") {
  GitFixture f;
  auto created = f.git.Init(f.ws, "");
  REQUIRE(created.ok());
  CHECK(*created);
  CHECK(fs::is_directory(f.ws.root / ".git"));
  CHECK_FALSE(*f.git.Init(f.ws, "other"));
  auto status = f.git.Status(f.ws);
  REQUIRE(status.ok());
  CHECK(status->branch == "main");
  CHECK(status->unborn);
  CHECK(status->head.empty());
  CHECK_FALSE(status->dirty);
  CHECK_FALSE(status->merging);
}

TEST_CASE("Init takes an initial branch and rejects a bad branch name", "[git]") {
  GitFixture f;
  REQUIRE(f.git.Init(f.ws, "trunk").ok());
  CHECK(f.git.Status(f.ws)->branch == "trunk");
  GitFixture g;
  CHECK(absl::IsInvalidArgument(g.git.Init(g.ws, "bad..name").status()));
  CHECK_FALSE(g.Exists(".git"));
}

TEST_CASE("Every call on a workspace without a repository says to call GitInit", "[git]") {
  GitFixture f;
  f.Write("a.txt", "a\n");
  std::vector<absl::Status> statuses = {
      f.git.Status(f.ws).status(),
      f.git.Diff(f.ws, {}).status(),
      f.git.Commit(f.ws, {kAuthor, "m", {}}).status(),
      f.git.Log(f.ws, {}).status(),
      f.git.CreateBranch(f.ws, "b", "").status(),
      f.git.Checkout(f.ws, "main").status(),
      f.git.Merge(f.ws, {"b", kAuthor, "", false}).status(),
      f.git.ResolveConflict(f.ws, "a.txt", ConflictSide::kOurs).status(),
      f.git.AbortMerge(f.ws).status(),
      f.git.CompleteMerge(f.ws, kAuthor, "").status(),
      f.git.Push(f.ws, {"origin", "/nonexistent", "", false}).status(),
  };
  for (const absl::Status& status : statuses) {
    INFO(status.ToString());
    CHECK(absl::IsFailedPrecondition(status));
    CHECK(status.message() == "workspace 'ws' is not a git repository; call GitInit");
  }
}

TEST_CASE("A .git that is a file is refused, never followed", "[git][safety]") {
  GitFixture f;
  f.Write(".git", "gitdir: /tmp\n");
  auto status = f.git.Status(f.ws);
  CHECK(absl::IsFailedPrecondition(status.status()));
  CHECK(status.status().message().find("not a directory") != std::string::npos);
  CHECK(absl::IsFailedPrecondition(f.git.Init(f.ws, "").status()));
}

TEST_CASE("core.symlinks=false is set on init and restored when tampered with", "[git][safety]") {
  GitFixture f;
  f.InitRepo();
  CHECK(LocalConfig(f.ws.root, "core.symlinks") == "false");
  {
    git_config* config = nullptr;
    REQUIRE(git_config_open_ondisk(&config, (f.ws.root / ".git/config").c_str()) == 0);
    REQUIRE(git_config_set_bool(config, "core.symlinks", 1) == 0);
    git_config_free(config);
  }
  CHECK(LocalConfig(f.ws.root, "core.symlinks") == "true");
  REQUIRE(f.git.Status(f.ws).ok());
  CHECK(LocalConfig(f.ws.root, "core.symlinks") == "false");
}

TEST_CASE("Checking out a committed symlink writes a plain file, never a link", "[git][safety]") {
  GitFixture f;
  f.InitRepo();
  f.Write("a.txt", "a\n");
  const std::string base = f.CommitAll("base");
  // Plant a commit on branch "evil" whose tree holds link -> ../../outside, as a hostile
  // pushed history would.
  {
    git_repository* repo = nullptr;
    REQUIRE(git_repository_open(&repo, f.ws.root.c_str()) == 0);
    git_oid blob_id, tree_id, commit_id, base_id;
    const std::string target = "../../outside";
    REQUIRE(git_blob_create_from_buffer(&blob_id, repo, target.data(), target.size()) == 0);
    REQUIRE(git_oid_fromstr(&base_id, base.c_str()) == 0);
    git_commit* parent = nullptr;
    REQUIRE(git_commit_lookup(&parent, repo, &base_id) == 0);
    git_tree* base_tree = nullptr;
    REQUIRE(git_commit_tree(&base_tree, parent) == 0);
    git_treebuilder* builder = nullptr;
    REQUIRE(git_treebuilder_new(&builder, repo, base_tree) == 0);
    REQUIRE(git_treebuilder_insert(nullptr, builder, "link", &blob_id, GIT_FILEMODE_LINK) == 0);
    REQUIRE(git_treebuilder_write(&tree_id, builder) == 0);
    git_tree* tree = nullptr;
    REQUIRE(git_tree_lookup(&tree, repo, &tree_id) == 0);
    git_signature* sig = nullptr;
    REQUIRE(git_signature_now(&sig, "Eve", "eve@example.org") == 0);
    const git_commit* parents[] = {parent};
    REQUIRE(git_commit_create(&commit_id, repo, "refs/heads/evil", sig, sig, nullptr, "evil\n",
                              tree, 1, parents) == 0);
    git_signature_free(sig);
    git_tree_free(tree);
    git_treebuilder_free(builder);
    git_tree_free(base_tree);
    git_commit_free(parent);
    git_repository_free(repo);
  }
  SECTION("by checkout") { REQUIRE(f.git.Checkout(f.ws, "evil").ok()); }
  SECTION("by a fast-forward merge") {
    auto merged = f.git.Merge(f.ws, {"evil", kAuthor, "", false});
    REQUIRE(merged.ok());
    CHECK(merged->outcome == MergeOutcome::kFastForward);
  }
  CHECK_FALSE(fs::is_symlink(fs::symlink_status(f.ws.root / "link")));
  CHECK(fs::is_regular_file(fs::symlink_status(f.ws.root / "link")));
  CHECK(f.Read("link") == "../../outside");
  // The plain file matches the committed link: the tree is clean.
  auto status = f.git.Status(f.ws);
  REQUIRE(status.ok());
  CHECK_FALSE(status->dirty);
}

TEST_CASE("Commit of all changes returns the hash and shows in log and status", "[git]") {
  GitFixture f;
  f.InitRepo();
  f.Write("a.txt", "one\n");
  f.Write("dir/b.txt", "two\n");
  f.Write(".gitignore", "*.log\n");
  f.Write("noise.log", "ignored\n");
  auto status = f.git.Status(f.ws);
  REQUIRE(status.ok());
  CHECK(status->dirty);
  REQUIRE(FindChange(*status, "a.txt") != nullptr);
  CHECK(FindChange(*status, "a.txt")->unstaged == ChangeKind::kUntracked);
  CHECK(FindChange(*status, "dir/b.txt") != nullptr);
  CHECK(FindChange(*status, "noise.log") == nullptr);

  auto commit = f.git.Commit(f.ws, {kAuthor, "first commit", {}});
  REQUIRE(commit.ok());
  CHECK(commit->hash.size() == 40);
  CHECK(commit->branch == "main");
  CHECK_FALSE(commit->merge);

  status = f.git.Status(f.ws);
  REQUIRE(status.ok());
  CHECK(status->head == commit->hash);
  CHECK_FALSE(status->unborn);
  CHECK(status->changes.empty());
  CHECK_FALSE(status->dirty);

  auto log = f.git.Log(f.ws, {});
  REQUIRE(log.ok());
  REQUIRE(log->size() == 1);
  CHECK((*log)[0].hash == commit->hash);
  CHECK((*log)[0].author_name == "Ann Agent");
  CHECK((*log)[0].author_email == "ann@example.org");
  CHECK((*log)[0].summary == "first commit");
  CHECK((*log)[0].message == "first commit\n");
  CHECK((*log)[0].parents.empty());
  CHECK(std::abs((*log)[0].time_unix_seconds - std::time(nullptr)) < 60);

  // Deleted and modified files are committed too.
  fs::remove(f.ws.root / "dir/b.txt");
  f.Write("a.txt", "one\nmore\n");
  status = f.git.Status(f.ws);
  REQUIRE(FindChange(*status, "dir/b.txt") != nullptr);
  CHECK(FindChange(*status, "dir/b.txt")->unstaged == ChangeKind::kDeleted);
  CHECK(FindChange(*status, "a.txt")->unstaged == ChangeKind::kModified);
  const std::string second = f.CommitAll("second");
  log = f.git.Log(f.ws, {});
  REQUIRE(log->size() == 2);
  CHECK((*log)[0].hash == second);
  CHECK((*log)[0].parents == std::vector<std::string>{commit->hash});
  CHECK(f.git.Status(f.ws)->changes.empty());
}

TEST_CASE("Commit with nothing to commit is FAILED_PRECONDITION", "[git]") {
  GitFixture f;
  f.InitRepo();
  auto empty = f.git.Commit(f.ws, {kAuthor, "nothing", {}});
  CHECK(absl::IsFailedPrecondition(empty.status()));
  CHECK(empty.status().message().find("nothing to commit") != std::string::npos);
  f.Write("a.txt", "a\n");
  f.CommitAll("first");
  auto again = f.git.Commit(f.ws, {kAuthor, "again", {}});
  CHECK(absl::IsFailedPrecondition(again.status()));
  CHECK(again.status().message().find("nothing to commit") != std::string::npos);
}

TEST_CASE("Commit checks author, message and paths", "[git]") {
  GitFixture f;
  f.InitRepo();
  f.Write("a.txt", "a\n");
  CHECK(absl::IsInvalidArgument(f.git.Commit(f.ws, {{"", ""}, "m", {}}).status()));
  CHECK(absl::IsInvalidArgument(f.git.Commit(f.ws, {kAuthor, "", {}}).status()));
  CHECK(absl::IsNotFound(f.git.Commit(f.ws, {kAuthor, "m", {"missing.txt"}}).status()));
  CHECK(absl::IsPermissionDenied(f.git.Commit(f.ws, {kAuthor, "m", {"../x"}}).status()));
  CHECK(absl::IsPermissionDenied(f.git.Commit(f.ws, {kAuthor, "m", {"/etc/passwd"}}).status()));
  CHECK(absl::IsInvalidArgument(f.git.Commit(f.ws, {kAuthor, "m", {".git/config"}}).status()));
  // None of those committed anything.
  CHECK(f.git.Status(f.ws)->unborn);
}

TEST_CASE("Commit of named paths leaves the other changes uncommitted", "[git]") {
  GitFixture f;
  f.InitRepo();
  f.Write("a.txt", "a\n");
  f.Write("b.txt", "b\n");
  f.Write("sub/c.txt", "c\n");
  f.Write("glob*.txt", "literal\n");
  f.Write("globX.txt", "not named\n");
  auto commit =
      f.git.Commit(f.ws, {kAuthor, "only a, sub and glob*", {"a.txt", "sub", "glob*.txt"}});
  REQUIRE(commit.ok());
  auto status = f.git.Status(f.ws);
  REQUIRE(status.ok());
  CHECK(FindChange(*status, "a.txt") == nullptr);
  CHECK(FindChange(*status, "sub/c.txt") == nullptr);
  CHECK(FindChange(*status, "glob*.txt") == nullptr);
  REQUIRE(FindChange(*status, "b.txt") != nullptr);
  CHECK(FindChange(*status, "b.txt")->unstaged == ChangeKind::kUntracked);
  // The '*' was literal: globX.txt was not committed.
  REQUIRE(FindChange(*status, "globX.txt") != nullptr);

  // A named deleted file is committed as a deletion; a named unchanged file is nothing.
  fs::remove(f.ws.root / "a.txt");
  REQUIRE(f.git.Commit(f.ws, {kAuthor, "delete a", {"a.txt"}}).ok());
  CHECK(FindChange(*f.git.Status(f.ws), "a.txt") == nullptr);
  auto unchanged = f.git.Commit(f.ws, {kAuthor, "nothing", {"sub/c.txt"}});
  CHECK(absl::IsFailedPrecondition(unchanged.status()));
  CHECK(unchanged.status().message().find("'sub/c.txt'") != std::string::npos);
}

TEST_CASE("Diff of the working tree against HEAD counts lines and includes new files", "[git]") {
  GitFixture f;
  f.InitRepo();
  f.Write("a.txt", "one\ntwo\nthree\n");
  f.CommitAll("base");
  f.Write("a.txt", "one\nTWO\nthree\nfour\n");
  f.Write("new.txt", "x\ny\n");
  auto diff = f.git.Diff(f.ws, {});
  REQUIRE(diff.ok());
  REQUIRE(diff->files.size() == 2);
  const FileDiff* a = FindDiff(*diff, "a.txt");
  REQUIRE(a != nullptr);
  CHECK(a->kind == ChangeKind::kModified);
  CHECK(a->added_lines == 2);
  CHECK(a->removed_lines == 1);
  const FileDiff* added = FindDiff(*diff, "new.txt");
  REQUIRE(added != nullptr);
  CHECK(added->kind == ChangeKind::kAdded);
  CHECK(added->added_lines == 2);
  CHECK(diff->added_lines == 4);
  CHECK(diff->removed_lines == 1);
  CHECK_FALSE(diff->truncated);
  CHECK(diff->patch.find("diff --git a/a.txt b/a.txt") != std::string::npos);
  CHECK(diff->patch.find("-two\n+TWO\n") != std::string::npos);
  CHECK(diff->patch.find("+four\n") != std::string::npos);
  CHECK(diff->patch.find("+++ b/new.txt") != std::string::npos);

  // Restricted to one path.
  auto only = f.git.Diff(f.ws, {"", "", {"new.txt"}, -1});
  REQUIRE(only.ok());
  REQUIRE(only->files.size() == 1);
  CHECK(only->files[0].path == "new.txt");
  CHECK(absl::IsPermissionDenied(f.git.Diff(f.ws, {"", "", {"../x"}, -1}).status()));
}

TEST_CASE("Diff between two commits and from a commit to the working tree", "[git]") {
  GitFixture f;
  f.InitRepo();
  f.Write("a.txt", "1\n2\n");
  const std::string first = f.CommitAll("first");
  f.Write("a.txt", "1\n2\n3\n");
  f.Write("b.txt", "b\n");
  const std::string second = f.CommitAll("second");
  fs::remove(f.ws.root / "b.txt");

  auto between = f.git.Diff(f.ws, {first, second, {}, -1});
  REQUIRE(between.ok());
  REQUIRE(between->files.size() == 2);
  CHECK(FindDiff(*between, "a.txt")->added_lines == 1);
  CHECK(FindDiff(*between, "b.txt")->kind == ChangeKind::kAdded);
  auto by_name = f.git.Diff(f.ws, {"HEAD~1", "main", {}, 0});
  REQUIRE(by_name.ok());
  CHECK(by_name->files.size() == 2);
  // Zero context lines: the unchanged line "2" shows only with the default context.
  CHECK(between->patch.find("\n 2\n+3\n") != std::string::npos);
  CHECK(by_name->patch.find("\n 2\n") == std::string::npos);
  CHECK(by_name->patch.find("\n+3\n") != std::string::npos);

  // From the first commit to the working tree: a.txt changed, b.txt added then deleted.
  auto to_worktree = f.git.Diff(f.ws, {first, "", {}, -1});
  REQUIRE(to_worktree.ok());
  REQUIRE(to_worktree->files.size() == 1);
  CHECK(to_worktree->files[0].path == "a.txt");
  // And HEAD to the working tree shows the deletion.
  auto head = f.git.Diff(f.ws, {});
  REQUIRE(head.ok());
  REQUIRE(head->files.size() == 1);
  CHECK(head->files[0].kind == ChangeKind::kDeleted);
  CHECK(head->files[0].removed_lines == 1);
}

TEST_CASE("Diff errors: unknown revision NOT_FOUND, 'to' without 'from' INVALID_ARGUMENT",
          "[git]") {
  GitFixture f;
  f.InitRepo();
  f.Write("a.txt", "a\n");
  // Before the first commit everything is new.
  auto unborn = f.git.Diff(f.ws, {});
  REQUIRE(unborn.ok());
  REQUIRE(unborn->files.size() == 1);
  CHECK(unborn->files[0].kind == ChangeKind::kAdded);
  f.CommitAll("first");
  auto missing = f.git.Diff(f.ws, {"no-such-branch", "", {}, -1});
  CHECK(absl::IsNotFound(missing.status()));
  CHECK(missing.status().message() == "revision 'no-such-branch' not found");
  CHECK(absl::IsNotFound(f.git.Diff(f.ws, {"HEAD", "deadbeef", {}, -1}).status()));
  CHECK(absl::IsInvalidArgument(f.git.Diff(f.ws, {"", "HEAD", {}, -1}).status()));
}

TEST_CASE("Diff patch text is cut at the limit and marked truncated", "[git]") {
  GitOptions options;
  options.max_patch_bytes = 100;
  GitFixture f(options);
  f.InitRepo();
  f.Write("big.txt", std::string(1000, 'x') + "\n");
  f.Write("small.txt", "s\n");
  auto diff = f.git.Diff(f.ws, {});
  REQUIRE(diff.ok());
  CHECK(diff->truncated);
  CHECK(diff->patch.size() == 100);
  CHECK(diff->files.size() == 2);  // file entries stay complete
}

TEST_CASE("Log honours limit and start revision, unknown revision is NOT_FOUND", "[git]") {
  GitFixture f;
  f.InitRepo();
  CHECK(f.git.Log(f.ws, {})->empty());
  std::vector<std::string> hashes;
  for (int i = 0; i < 3; ++i) {
    f.Write("a.txt", std::string(i + 1, 'a'));
    hashes.push_back(f.CommitAll("commit " + std::to_string(i)));
  }
  auto limited = f.git.Log(f.ws, {"", 2});
  REQUIRE(limited.ok());
  REQUIRE(limited->size() == 2);
  CHECK((*limited)[0].hash == hashes[2]);
  CHECK((*limited)[1].hash == hashes[1]);
  auto from = f.git.Log(f.ws, {"HEAD~1", 0});
  REQUIRE(from.ok());
  REQUIRE(from->size() == 2);
  CHECK((*from)[0].hash == hashes[1]);
  CHECK((*from)[1].summary == "commit 0");
  CHECK(absl::IsNotFound(f.git.Log(f.ws, {"nope", 0}).status()));
}

TEST_CASE("CreateBranch and Checkout switch the working tree", "[git]") {
  GitFixture f;
  f.InitRepo();
  CHECK(absl::IsFailedPrecondition(f.git.CreateBranch(f.ws, "early", "").status()));
  f.Write("a.txt", "main\n");
  const std::string base = f.CommitAll("base");
  auto created = f.git.CreateBranch(f.ws, "feature", "");
  REQUIRE(created.ok());
  CHECK(*created == base);
  CHECK(absl::IsAlreadyExists(f.git.CreateBranch(f.ws, "feature", "").status()));
  CHECK(absl::IsInvalidArgument(f.git.CreateBranch(f.ws, "bad name", "").status()));
  CHECK(absl::IsNotFound(f.git.CreateBranch(f.ws, "x", "missing-rev").status()));

  auto switched = f.git.Checkout(f.ws, "feature");
  REQUIRE(switched.ok());
  CHECK(*switched == base);
  CHECK(f.git.Status(f.ws)->branch == "feature");
  f.Write("a.txt", "feature\n");
  f.Write("only-feature.txt", "f\n");
  const std::string feature = f.CommitAll("feature work");

  REQUIRE(f.git.Checkout(f.ws, "main").ok());
  CHECK(f.Read("a.txt") == "main\n");
  CHECK_FALSE(f.Exists("only-feature.txt"));
  REQUIRE(f.git.Checkout(f.ws, "feature").ok());
  CHECK(f.Read("a.txt") == "feature\n");
  CHECK(f.git.Status(f.ws)->head == feature);
  CHECK(absl::IsNotFound(f.git.Checkout(f.ws, "no-such-branch").status()));
}

TEST_CASE("Checkout with uncommitted changes is FAILED_PRECONDITION naming the files", "[git]") {
  GitFixture f;
  f.InitRepo();
  f.Write("a.txt", "a\n");
  f.CommitAll("base");
  REQUIRE(f.git.CreateBranch(f.ws, "other", "").ok());
  f.Write("a.txt", "edited\n");
  auto refused = f.git.Checkout(f.ws, "other");
  CHECK(absl::IsFailedPrecondition(refused.status()));
  CHECK(refused.status().message().find("'a.txt'") != std::string::npos);
  CHECK(f.Read("a.txt") == "edited\n");
  CHECK(f.git.Status(f.ws)->branch == "main");
}

TEST_CASE("Checkout refuses to overwrite an untracked file, naming it", "[git]") {
  GitFixture f;
  f.InitRepo();
  f.Write("a.txt", "a\n");
  f.CommitAll("base");
  REQUIRE(f.git.CreateBranch(f.ws, "other", "").ok());
  REQUIRE(f.git.Checkout(f.ws, "other").ok());
  f.Write("b.txt", "committed on other\n");
  f.CommitAll("b on other");
  REQUIRE(f.git.Checkout(f.ws, "main").ok());
  f.Write("b.txt", "precious untracked\n");
  auto refused = f.git.Checkout(f.ws, "other");
  INFO(refused.status().ToString());
  CHECK(absl::IsFailedPrecondition(refused.status()));
  CHECK(refused.status().message().find("'b.txt'") != std::string::npos);
  CHECK(f.Read("b.txt") == "precious untracked\n");
  CHECK(f.git.Status(f.ws)->branch == "main");
}

TEST_CASE("Error messages never show the server's directory", "[git]") {
  GitFixture f;
  f.InitRepo();
  f.Write("a.txt", "a\n");
  f.CommitAll("base");
  std::vector<absl::Status> statuses = {
      f.git.Diff(f.ws, {"nope", "", {}, -1}).status(),
      f.git.Checkout(f.ws, "nope").status(),
      f.git.Commit(f.ws, {kAuthor, "m", {"zz"}}).status(),
      f.git.Push(f.ws, {"origin", (f.dir.path() / "no-repo").string(), "", false}).status(),
  };
  for (const absl::Status& status : statuses) {
    INFO(status.ToString());
    CHECK_FALSE(status.ok());
    CHECK(status.message().find(f.ws.root.string()) == std::string::npos);
  }
}

TEST_CASE("Calls on one workspace are serialised, different workspaces run in parallel",
          "[git][concurrency]") {
  GitFixture f;
  f.InitRepo();
  f.Write("base.txt", "base\n");
  f.CommitAll("base");
  constexpr int kThreads = 8;
  // Each thread writes its own file and commits just that path, racing on one index.
  std::vector<absl::Status> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      const std::string name = "file" + std::to_string(i) + ".txt";
      f.Write(name, "content " + std::to_string(i) + "\n");
      results[i] = f.git.Commit(f.ws, {kAuthor, "add " + name, {name}}).status();
      if (results[i].ok()) results[i] = f.git.Status(f.ws).status();
    });
  }
  // Meanwhile a second workspace works on its own.
  GitFixture other;
  other.InitRepo();
  other.Write("x.txt", "x\n");
  other.CommitAll("other");
  for (std::thread& t : threads) t.join();
  for (const absl::Status& status : results) {
    INFO(status.ToString());
    CHECK(status.ok());
  }
  auto log = f.git.Log(f.ws, {"", 100});
  REQUIRE(log.ok());
  CHECK(log->size() == kThreads + 1);
  CHECK(f.git.Status(f.ws)->changes.empty());
  CHECK(other.git.Log(other.ws, {})->size() == 1);
}
