// GitCore: git inside a workspace (libgit2), the plain C++ core behind the LightGit API.
//
//   light::GitCore git(light::GitOptions{});
//   const light::GitAuthor ann{"Ann", "ann@example.org"};
//   WP_RETURN_IF_ERROR(git.Init(ws, "main").status());
//   WP_ASSIGN_OR_RETURN(light::CommitResult c, git.Commit(ws, {ann, "first", {}}));
//   WP_ASSIGN_OR_RETURN(light::MergeResult m, git.Merge(ws, {"feature", ann, "", false}));
//   if (m.outcome == light::MergeOutcome::kConflicted) {
//     for (const std::string& path : m.conflicts) {
//       WP_RETURN_IF_ERROR(git.ResolveConflict(ws, path, light::ConflictSide::kTheirs).status());
//     }
//     WP_RETURN_IF_ERROR(git.CompleteMerge(ws, ann, "").status());
//   }
//
// Every call takes a resolved Workspace (its root is the repository's working directory).
// What changes the working tree (checkout, merge, abort, conflict resolution) replaces each file
// whole through the staging area (git_worktree.h), never in place, so a crash or a lock-free
// reader (ReadFile, Grep, Bundle) sees the old or the new content of every file.
// Every call holds the workspace's tree lock exclusively (workspace_locks.h): calls on one
// workspace are serialised with each other and with file mutations, so a commit sees each file
// before or after a write, never during one; calls on different workspaces run in parallel.
// Paths from callers are workspace-relative and go through ConfinePath; `.git` is refused.
//
// Safety: the repository is opened without searching parent directories, must have a real
// `.git` directory in the workspace root and its working directory must be that root. Every
// open forces `core.symlinks=false` in the repository config, so a checkout or merge writes a
// committed symlink as a plain file holding the target text and can never plant a link that
// leads out of the workspace. Global and system git config files are not read.
//
// Errors common to every call except Init:
//   FAILED_PRECONDITION  "workspace 'x' is not a git repository; call GitInit"
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_GIT_GIT_CORE_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_GIT_GIT_CORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/common/call_budget.h"
#include "services/light/core/files/workspace_locks.h"
#include "services/light/core/files/workspace_store.h"

namespace workerpair::light {

struct GitOptions {
  // Branch a new repository starts on when Init is given none.
  std::string default_branch = "main";
  // Largest patch text one Diff returns; longer patches are cut and marked truncated.
  std::uint64_t max_patch_bytes = 8u << 20;
  // Most entries one Log returns (a request's limit is capped to this); 0 in a request means 50.
  std::uint32_t max_log_entries = 1000;
  // When non-empty, a push URL must start with one of these prefixes (PERMISSION_DENIED
  // otherwise). Empty allows any URL libgit2 can reach (local paths, file://, ...).
  std::vector<std::string> allowed_remote_prefixes;
  // Largest packfile ExportHistory produces and ImportHistory accepts (moving a workspace to
  // another worker-light carries it in one message).
  std::uint64_t max_history_bytes = 48u << 20;
};

// Who wrote a commit; used as both author and committer.
struct GitAuthor {
  std::string name;
  std::string email;
};

// What happened to a file, in the index (staged) or in the working tree (unstaged).
enum class ChangeKind { kNone, kAdded, kModified, kDeleted, kRenamed, kTypeChanged, kUntracked };

// One changed file in Status: its staged change (index vs HEAD) and unstaged change (working
// tree vs index; kUntracked for a file git does not track).
struct FileChange {
  std::string path;
  ChangeKind staged = ChangeKind::kNone;
  ChangeKind unstaged = ChangeKind::kNone;
};

struct GitStatus {
  // Current branch name ("main"); empty when HEAD is detached.
  std::string branch;
  // Hash of the HEAD commit; empty when the branch has no commit yet.
  std::string head;
  // True when the current branch has no commit yet.
  bool unborn = false;
  // True when any file differs from HEAD (staged, unstaged, untracked or conflicted).
  bool dirty = false;
  // True while a merge waits for conflict resolution and CompleteMerge / AbortMerge.
  bool merging = false;
  // Changed files (not the conflicted ones), sorted by path.
  std::vector<FileChange> changes;
  // Paths with unresolved merge conflicts, sorted.
  std::vector<std::string> conflicts;
};

struct DiffRequest {
  // Both empty: the working tree (untracked files included) against HEAD (the empty tree
  // before the first commit). `from` only: the working tree against that commit.
  // Both set: commit `from` against commit `to`. Any revision git understands ("main",
  // a hash, "HEAD~1").
  std::string from;
  std::string to;
  // When non-empty, only these workspace-relative files or directories.
  std::vector<std::string> paths;
  // Lines of context around each change (git's default 3 when negative).
  int context_lines = -1;
  // Polled per file compared and per patch; when it runs out the diff stops with its
  // CANCELLED / DEADLINE_EXCEEDED. Null for none.
  const CallBudget* budget = nullptr;
};

struct FileDiff {
  // Path after the change ("new" side); for a deletion, the deleted path.
  std::string path;
  // Path before the change (differs from `path` only for renames).
  std::string old_path;
  ChangeKind kind = ChangeKind::kModified;
  std::uint32_t added_lines = 0;
  std::uint32_t removed_lines = 0;
  bool binary = false;
};

struct DiffResult {
  // Unified patch text (git diff format), cut at GitOptions::max_patch_bytes.
  std::string patch;
  bool truncated = false;
  // One entry per changed file, in git's order (by path), with line counts.
  std::vector<FileDiff> files;
  std::uint64_t added_lines = 0;
  std::uint64_t removed_lines = 0;
};

struct CommitRequest {
  GitAuthor author;
  // Commit message. While merging it may be empty: git's prepared merge message is used.
  std::string message;
  // Empty: commit every change in the workspace (new, modified, deleted; .gitignore'd files
  // skipped). Otherwise only these files or directories (anything already staged goes too).
  std::vector<std::string> paths;
  // Polled per file staged; when it runs out nothing is committed. Null for none.
  const CallBudget* budget = nullptr;
};

struct CommitResult {
  // Hash of the new commit (40 hex characters).
  std::string hash;
  // Branch the commit went on ("" when HEAD is detached).
  std::string branch;
  // True for a merge commit (two parents).
  bool merge = false;
};

struct LogRequest {
  // Revision to start from; empty for HEAD.
  std::string from;
  // Most entries; 0 means 50; capped to GitOptions::max_log_entries.
  std::uint32_t limit = 0;
  // Polled per commit walked. Null for none.
  const CallBudget* budget = nullptr;
};

struct LogEntry {
  std::string hash;
  std::vector<std::string> parents;
  std::string author_name;
  std::string author_email;
  // Author time, seconds since the Unix epoch, and its UTC offset in minutes.
  std::int64_t time_unix_seconds = 0;
  int time_offset_minutes = 0;
  // Whole message, and its first line.
  std::string message;
  std::string summary;
};

enum class MergeOutcome { kUpToDate, kFastForward, kMerged, kConflicted };

struct MergeRequest {
  // Local branch to merge into the current one.
  std::string branch;
  // Author of the merge commit (needed unless the merge is up to date or fast-forward).
  GitAuthor author;
  // Merge commit message; empty for "Merge branch '<branch>'".
  std::string message;
  // Make a merge commit even when a fast-forward is possible.
  bool no_fast_forward = false;
  // Polled while the merge is prepared and its files are staged; when it runs out before the
  // working tree changes, nothing changed. Null for none.
  const CallBudget* budget = nullptr;
};

struct MergeResult {
  MergeOutcome outcome = MergeOutcome::kUpToDate;
  // The new HEAD commit (the merge commit, or the fast-forward target); for kConflicted and
  // kUpToDate, the unchanged HEAD.
  std::string hash;
  // For kConflicted: the conflicted paths, sorted. The repository stays in merging state,
  // with conflict markers in those files, until ResolveConflict + CompleteMerge or AbortMerge.
  std::vector<std::string> conflicts;
};

// How to resolve a conflicted path: our side (the current branch), their side (the merged
// branch), or the file as it now is in the working tree (edited by hand). When the chosen
// side deleted the file, resolving deletes it.
enum class ConflictSide { kOurs, kTheirs, kWorkingTree };

struct PushRequest {
  // Remote name ("origin"); added to the repository config when missing.
  std::string remote;
  // Remote URL; when the remote exists with another URL, its URL is replaced.
  std::string url;
  // Local branch to push to the same name on the remote; empty for the current branch.
  std::string branch;
  // Overwrite the remote branch even when the push is not a fast-forward.
  bool force = false;
  // Polled while the pack is built and sent; when it runs out the push stops with its
  // CANCELLED / DEADLINE_EXCEEDED. Null for none.
  const CallBudget* budget = nullptr;
};

struct PushResult {
  // The remote ref updated ("refs/heads/main") and the commit it now names.
  std::string ref;
  std::string hash;
};

// A repository's history as it travels when a workspace moves to another worker-light.
struct GitHistory {
  // Packfile of every object reachable from a branch; empty when there is no commit.
  std::string pack;
  // Every branch ("refs/heads/main") and the commit it names, sorted by name.
  std::vector<std::pair<std::string, std::string>> branches;
  // HEAD: a branch ("refs/heads/main", possibly unborn) or, when detached, a commit hash.
  std::string head;
};

class GitCore {
 public:
  // Initialises libgit2 once per process (owner validation off, global/system config ignored).
  explicit GitCore(GitOptions options);
  GitCore(const GitCore&) = delete;
  GitCore& operator=(const GitCore&) = delete;

  // Makes the workspace a git repository on `initial_branch` (GitOptions::default_branch when
  // empty). Returns true when created, false when it already was one (nothing changes then).
  // INVALID_ARGUMENT for a bad branch name; FAILED_PRECONDITION when `.git` exists but is not a
  // directory.
  absl::StatusOr<bool> Init(const Workspace& ws, std::string_view initial_branch);

  // Branch, HEAD, dirty/merging flags, changed and conflicted files.
  // `budget` (null for none) is polled per file compared.
  absl::StatusOr<GitStatus> Status(const Workspace& ws, const CallBudget* budget = nullptr);

  // Unified patch and per-file line counts; see DiffRequest. NOT_FOUND for a revision that
  // does not exist; INVALID_ARGUMENT for `to` without `from` or a malformed revision.
  absl::StatusOr<DiffResult> Diff(const Workspace& ws, const DiffRequest& request);

  // Stages the changes (all, or `paths`) and commits them on the current branch.
  // INVALID_ARGUMENT: empty author name/email or message (outside a merge), bad path.
  // NOT_FOUND: a named path that is neither in the workspace nor tracked.
  // FAILED_PRECONDITION: nothing to commit; unresolved conflicts (naming them); named paths
  // while merging (a merge commit takes everything).
  absl::StatusOr<CommitResult> Commit(const Workspace& ws, const CommitRequest& request);

  // Commits reachable from `from`, newest first. Empty before the first commit.
  // NOT_FOUND for a revision that does not exist.
  absl::StatusOr<std::vector<LogEntry>> Log(const Workspace& ws, const LogRequest& request);

  // Creates branch `name` at `start` (HEAD when empty) without switching to it; returns the
  // commit hash it points at. INVALID_ARGUMENT: bad name. ALREADY_EXISTS: the branch exists.
  // NOT_FOUND: `start` does not exist. FAILED_PRECONDITION: no commit yet.
  absl::StatusOr<std::string> CreateBranch(const Workspace& ws, std::string_view name,
                                           std::string_view start);

  // Switches the working tree and HEAD to local branch `branch`; returns its commit hash.
  // NOT_FOUND: no such branch. FAILED_PRECONDITION: uncommitted changes (naming the files),
  // an untracked file the checkout would overwrite, or a merge in progress.
  // Each file is replaced whole (see git_worktree.h): a crash or a reader meets the old or the
  // new content of every file. `budget` (null for none) is polled until the first file
  // changes; a checkout that runs out before leaves the old tree.
  absl::StatusOr<std::string> Checkout(const Workspace& ws, std::string_view branch,
                                       const CallBudget* budget = nullptr);

  // Merges local branch `request.branch` into the current branch: up to date, fast-forward,
  // a merge commit, or conflicts (reported in the result, not as an error; the repository is
  // left merging). NOT_FOUND: no such branch. FAILED_PRECONDITION: uncommitted changes (naming
  // the files), already merging, detached HEAD, no common history. INVALID_ARGUMENT: missing
  // author when a merge commit is needed.
  absl::StatusOr<MergeResult> Merge(const Workspace& ws, const MergeRequest& request);

  // Resolves one conflicted path with `side`, writing the chosen content to the working tree
  // and staging it. Returns the paths still conflicted. FAILED_PRECONDITION: not merging.
  // NOT_FOUND: `path` has no conflict. INVALID_ARGUMENT / PERMISSION_DENIED: bad path.
  // With kWorkingTree a missing file resolves the path as deleted.
  absl::StatusOr<std::vector<std::string>> ResolveConflict(const Workspace& ws,
                                                           std::string_view path,
                                                           ConflictSide side);

  // Abandons the merge: working tree and index back to HEAD, merging state cleared; returns the
  // HEAD hash. FAILED_PRECONDITION: not merging.
  absl::StatusOr<std::string> AbortMerge(const Workspace& ws,
                                         const CallBudget* budget = nullptr);

  // Commits the merge (every change, HEAD and the merged commit as parents) and leaves merging
  // state. FAILED_PRECONDITION: not merging, or conflicts left (naming them).
  absl::StatusOr<CommitResult> CompleteMerge(const Workspace& ws, const GitAuthor& author,
                                             std::string_view message,
                                             const CallBudget* budget = nullptr);

  // The whole history (see GitHistory), to move the workspace elsewhere. FAILED_PRECONDITION
  // while a merge is in progress (finish or abort it first); RESOURCE_EXHAUSTED over
  // GitOptions::max_history_bytes. Remotes and the config are not part of it.
  absl::StatusOr<GitHistory> ExportHistory(const Workspace& ws);

  // Makes `ws`, which must not be a repository yet, one holding `history`: the objects, the
  // branches and HEAD; the index becomes HEAD's tree and the working tree is not touched (its
  // files travel separately). Returns the HEAD commit hash ("" when unborn).
  // FAILED_PRECONDITION: already a repository. INVALID_ARGUMENT: a corrupt pack, a bad branch
  // name, a branch naming a commit the pack lacks, a bad HEAD. RESOURCE_EXHAUSTED: over
  // GitOptions::max_history_bytes or a full disk. On any failure no repository is left.
  absl::StatusOr<std::string> ImportHistory(const Workspace& ws, const GitHistory& history);

  // Pushes a local branch to the remote's branch of the same name.
  // INVALID_ARGUMENT: bad remote name, empty URL. PERMISSION_DENIED: URL not allowed.
  // NOT_FOUND: no such branch. FAILED_PRECONDITION: detached HEAD with no branch named, the
  // remote rejected the update (e.g. not a fast-forward). UNAVAILABLE: the remote cannot be
  // reached or is not a repository.
  absl::StatusOr<PushResult> Push(const Workspace& ws, const PushRequest& request);

 private:
  // The workspace's tree lock, exclusive: from its store's table, or this object's own for a
  // Workspace built by hand.
  WorkspaceLocks::Guard LockTree(const Workspace& ws) {
    return (ws.locks != nullptr ? *ws.locks : own_locks_).Exclusive(ws.name);
  }

  GitOptions options_;
  WorkspaceLocks own_locks_;
};

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_GIT_GIT_CORE_H_
