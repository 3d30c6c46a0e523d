// Internal helpers shared by the GitCore source files: owning handles for libgit2 objects,
// libgit2 error conversion, safe repository opening, revision and path resolution.
//
//   WP_ASSIGN_OR_RETURN(RepoPtr repo, OpenRepo(ws));
//   WP_ASSIGN_OR_RETURN(CommitPtr head, HeadCommit(repo.get(), ws));  // null when unborn
//
// Not part of the public API; only services/light/core/git includes it.
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_GIT_GIT_UTIL_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_GIT_GIT_UTIL_H_

#include <git2.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/common/call_budget.h"
#include "services/light/core/files/workspace_store.h"
#include "services/light/core/git/git_core.h"

namespace workerpair::light::git_internal {

// unique_ptr deleter calling a libgit2 free function.
template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    if (p != nullptr) Free(p);
  }
};

using RepoPtr = std::unique_ptr<git_repository, Deleter<git_repository_free>>;
using ObjectPtr = std::unique_ptr<git_object, Deleter<git_object_free>>;
using CommitPtr = std::unique_ptr<git_commit, Deleter<git_commit_free>>;
using TreePtr = std::unique_ptr<git_tree, Deleter<git_tree_free>>;
using BlobPtr = std::unique_ptr<git_blob, Deleter<git_blob_free>>;
using IndexPtr = std::unique_ptr<git_index, Deleter<git_index_free>>;
using ReferencePtr = std::unique_ptr<git_reference, Deleter<git_reference_free>>;
using StatusListPtr = std::unique_ptr<git_status_list, Deleter<git_status_list_free>>;
using DiffPtr = std::unique_ptr<git_diff, Deleter<git_diff_free>>;
using PatchPtr = std::unique_ptr<git_patch, Deleter<git_patch_free>>;
using RevwalkPtr = std::unique_ptr<git_revwalk, Deleter<git_revwalk_free>>;
using SignaturePtr = std::unique_ptr<git_signature, Deleter<git_signature_free>>;
using AnnotatedPtr = std::unique_ptr<git_annotated_commit, Deleter<git_annotated_commit_free>>;
using RemotePtr = std::unique_ptr<git_remote, Deleter<git_remote_free>>;
using ConfigPtr = std::unique_ptr<git_config, Deleter<git_config_free>>;
using ConflictIterPtr =
    std::unique_ptr<git_index_conflict_iterator, Deleter<git_index_conflict_iterator_free>>;

// A git_buf freed at scope exit.
struct Buf {
  Buf() = default;
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  ~Buf() { git_buf_dispose(&buf); }
  std::string str() const {
    return buf.ptr == nullptr ? std::string() : std::string(buf.ptr, buf.size);
  }
  git_buf buf = GIT_BUF_INIT;
};

// Initialises libgit2 once per process: owner validation off, global/XDG/system config ignored.
void InitLibgit2Once();

// The status for libgit2 return code `code` (< 0) while doing `action`, with libgit2's last
// error message; the workspace's absolute root is scrubbed from it.
absl::Status GitError(int code, std::string_view action, const Workspace& ws);

// A call's budget inside libgit2: the diff's progress and notify callbacks return -1 once
// `budget` (may be null: nothing attached) ran out, which makes libgit2 stop at the next file.
void AttachBudget(git_diff_options* options, const CallBudget* budget);

// OK while `budget` (may be null) lasts, else its CANCELLED / DEADLINE_EXCEEDED.
absl::Status CheckBudget(const CallBudget* budget);

// The status of libgit2 failure `code`: the budget's own when the budget stopped it (so a
// client sees DEADLINE_EXCEEDED or CANCELLED, not "user cancelled"), GitError otherwise.
absl::Status GitFailure(int code, std::string_view action, const Workspace& ws,
                        const CallBudget* budget);

// Opens the workspace's repository (see the safety notes in git_core.h).
absl::StatusOr<RepoPtr> OpenRepo(const Workspace& ws);

// Forces core.symlinks=false in the repository's own config file.
absl::Status DisableSymlinks(git_repository* repo, const Workspace& ws);

std::string OidHex(const git_oid& oid);

// The commit that revision `spec` names. NOT_FOUND when it does not exist, INVALID_ARGUMENT
// when malformed or ambiguous, FAILED_PRECONDITION when it names something that is no commit.
absl::StatusOr<CommitPtr> ResolveCommit(git_repository* repo, std::string_view spec,
                                        const Workspace& ws);

// The HEAD commit, or null when the current branch has no commit yet.
absl::StatusOr<CommitPtr> HeadCommit(git_repository* repo, const Workspace& ws);

// The tree of `commit`, or null for a null commit (the empty tree).
absl::StatusOr<TreePtr> TreeOfCommit(const git_commit* commit, const Workspace& ws);

// Current branch name; empty when HEAD is detached.
std::string CurrentBranch(git_repository* repo);

// A caller's workspace-relative path, confined and normalised ('/'-separated, relative).
// INVALID_ARGUMENT for a path inside `.git` or the workspace root itself.
absl::StatusOr<std::string> ClientPath(const Workspace& ws, std::string_view path);

// The paths with unresolved conflicts in `index`, sorted.
absl::StatusOr<std::vector<std::string>> ConflictedPaths(git_index* index, const Workspace& ws);

// Tracked files that differ from HEAD (staged or not), sorted; untracked files excluded.
// The budget (may be null) is polled per file.
absl::StatusOr<std::vector<std::string>> UncommittedTrackedFiles(git_repository* repo,
                                                                 const Workspace& ws,
                                                                 const CallBudget* budget);

// After a call failed for a full disk: removes the empty loose-object directories
// (.git/objects/xx) libgit2 made before it ran out of space, so a refused call leaves nothing
// behind. Objects already written stay (unreferenced, invisible, pruned by any gc).
void RemoveEmptyObjectDirectories(const Workspace& ws);

// "'a', 'b', 'c' and 4 more": at most 10 names, for error messages.
std::string NameList(const std::vector<std::string>& names);

// A "now" signature for `author`. INVALID_ARGUMENT when name or email is empty or malformed.
absl::StatusOr<SignaturePtr> MakeSignature(const GitAuthor& author, const Workspace& ws);

// Commits tree `tree_id` on HEAD with `parents` (HEAD first) as `author`; returns the commit.
// `update_ref` ("HEAD"; null: none) is moved to the new commit.
absl::StatusOr<CommitResult> CommitTree(git_repository* repo, const git_oid& tree_id,
                                        const GitAuthor& author, const std::string& message,
                                        const std::vector<const git_commit*>& parents,
                                        const Workspace& ws, const char* update_ref = "HEAD");

// Checkout options that gather the paths of conflicting files (untracked files in the way).
struct CheckoutConflicts {
  std::vector<std::string> paths;
  static int Notify(git_checkout_notify_t, const char* path, const git_diff_file*,
                    const git_diff_file*, const git_diff_file*, void* payload);
  void Attach(git_checkout_options* options);
};

}  // namespace workerpair::light::git_internal

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_GIT_GIT_UTIL_H_
