// GitCore: merge, conflict resolution, abort and completion of a merge.
#include <algorithm>
#include <filesystem>
#include <system_error>

#include "libs/common/file_io.h"
#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "services/light/core/files/staging_area.h"
#include "services/light/core/git/git_commit.h"
#include "services/light/core/git/git_repo.h"
#include "services/light/core/git/git_input.h"
#include "services/light/core/git/git_util.h"

namespace workerpair::light {
namespace fs = std::filesystem;
using namespace git_internal;  // NOLINT: the internal helpers of this library

namespace {

absl::Status NotMerging(const Workspace& ws) {
  return absl::FailedPreconditionError(
      StrCat("workspace '", ws.name, "' has no merge in progress"));
}

// Moves the current branch (or the unborn one) to `target` and checks its tree out.
absl::Status FastForward(git_repository* repo, const git_commit* target, const std::string& branch,
                         bool unborn, const Workspace& ws) {
  git_checkout_options options = GIT_CHECKOUT_OPTIONS_INIT;
  options.checkout_strategy = GIT_CHECKOUT_SAFE;
  CheckoutConflicts conflicts;
  conflicts.Attach(&options);
  int rc = git_checkout_tree(repo, reinterpret_cast<const git_object*>(target), &options);
  if (rc == GIT_ECONFLICT && !conflicts.paths.empty()) {
    std::sort(conflicts.paths.begin(), conflicts.paths.end());
    return absl::FailedPreconditionError(
        StrCat("cannot fast-forward: untracked files would be overwritten: ",
               NameList(conflicts.paths)));
  }
  if (rc < 0) return GitError(rc, "fast-forward checkout", ws);
  git_reference* raw = nullptr;
  const std::string log = StrCat("merge: fast-forward to ", OidHex(*git_commit_id(target)));
  if (unborn) {
    rc = git_reference_create(&raw, repo, StrCat("refs/heads/", branch).c_str(),
                              git_commit_id(target), 0, log.c_str());
  } else {
    git_reference* head_raw = nullptr;
    if (rc = git_repository_head(&head_raw, repo); rc < 0) return GitError(rc, "read HEAD", ws);
    ReferencePtr head(head_raw);
    rc = git_reference_set_target(&raw, head.get(), git_commit_id(target), log.c_str());
  }
  ReferencePtr updated(raw);
  if (rc < 0) return GitError(rc, StrCat("move branch '", branch, "'"), ws);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<MergeResult> GitCore::Merge(const Workspace& ws, const MergeRequest& request) {
  // Caller input first (an author is needed only for a merge commit, so only checked if given).
  WP_RETURN_IF_ERROR(ValidateBranchName(request.branch));
  if (!request.author.name.empty() || !request.author.email.empty()) {
    WP_RETURN_IF_ERROR(ValidateAuthor(request.author));
  }
  WP_RETURN_IF_ERROR(ValidateCommitMessage(request.message));
  WorkspaceLocks::Guard guard = LockTree(ws);
  WP_ASSIGN_OR_RETURN(RepoPtr repo, OpenRepo(ws));

  if (git_repository_state(repo.get()) != GIT_REPOSITORY_STATE_NONE) {
    return absl::FailedPreconditionError(
        "a merge is already in progress; complete it (GitCompleteMerge) or abort it");
  }
  const std::string current = CurrentBranch(repo.get());
  if (current.empty()) {
    return absl::FailedPreconditionError("HEAD is detached; check out a branch to merge into");
  }
  git_reference* ref_raw = nullptr;
  int rc = request.branch.empty() || request.branch.find('\0') != std::string::npos
               ? GIT_ENOTFOUND
               : git_branch_lookup(&ref_raw, repo.get(), request.branch.c_str(), GIT_BRANCH_LOCAL);
  ReferencePtr ref(ref_raw);
  if (rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC) {
    return absl::NotFoundError(StrCat("branch '", request.branch, "' not found"));
  }
  if (rc < 0) return GitError(rc, StrCat("look up branch '", request.branch, "'"), ws);
  git_annotated_commit* annotated_raw = nullptr;
  if (rc = git_annotated_commit_from_ref(&annotated_raw, repo.get(), ref.get()); rc < 0) {
    return GitError(rc, StrCat("read branch '", request.branch, "'"), ws);
  }
  AnnotatedPtr annotated(annotated_raw);
  git_commit* target_raw = nullptr;
  if (rc = git_commit_lookup(&target_raw, repo.get(), git_annotated_commit_id(annotated.get()));
      rc < 0) {
    return GitError(rc, StrCat("read branch '", request.branch, "'"), ws);
  }
  CommitPtr target(target_raw);

  WP_ASSIGN_OR_RETURN(std::vector<std::string> dirty, UncommittedTrackedFiles(repo.get(), ws));
  if (!dirty.empty()) {
    return absl::FailedPreconditionError(
        StrCat("cannot merge '", request.branch, "': uncommitted changes in ", NameList(dirty),
               "; commit them first"));
  }

  git_merge_analysis_t analysis;
  git_merge_preference_t preference;
  const git_annotated_commit* heads[] = {annotated.get()};
  rc = git_merge_analysis(&analysis, &preference, repo.get(), heads, 1);
  if (rc == GIT_ENOTFOUND) {
    return absl::FailedPreconditionError(
        StrCat("cannot merge '", request.branch, "': no common history with '", current, "'"));
  }
  if (rc < 0) return GitError(rc, StrCat("analyse merge of '", request.branch, "'"), ws);
  WP_ASSIGN_OR_RETURN(CommitPtr head, HeadCommit(repo.get(), ws));

  MergeResult result;
  if (analysis & GIT_MERGE_ANALYSIS_UP_TO_DATE) {
    result.outcome = MergeOutcome::kUpToDate;
    result.hash = OidHex(*git_commit_id(head.get()));
    return result;
  }
  const bool unborn = (analysis & GIT_MERGE_ANALYSIS_UNBORN) != 0;
  if (unborn || ((analysis & GIT_MERGE_ANALYSIS_FASTFORWARD) && !request.no_fast_forward)) {
    WP_RETURN_IF_ERROR(FastForward(repo.get(), target.get(), current, unborn, ws));
    result.outcome = MergeOutcome::kFastForward;
    result.hash = OidHex(*git_commit_id(target.get()));
    return result;
  }

  // A real merge: its commit needs an author, checked before anything changes.
  WP_RETURN_IF_ERROR(MakeSignature(request.author, ws).status());
  git_merge_options merge_options = GIT_MERGE_OPTIONS_INIT;
  git_checkout_options checkout_options = GIT_CHECKOUT_OPTIONS_INIT;
  checkout_options.checkout_strategy = GIT_CHECKOUT_SAFE;
  CheckoutConflicts in_the_way;
  in_the_way.Attach(&checkout_options);
  rc = git_merge(repo.get(), heads, 1, &merge_options, &checkout_options);
  if (rc == GIT_ECONFLICT && !in_the_way.paths.empty()) {
    std::sort(in_the_way.paths.begin(), in_the_way.paths.end());
    return absl::FailedPreconditionError(
        StrCat("cannot merge '", request.branch, "': untracked files would be overwritten: ",
               NameList(in_the_way.paths)));
  }
  if (rc < 0) return GitError(rc, StrCat("merge '", request.branch, "'"), ws);

  git_index* index_raw = nullptr;
  if (rc = git_repository_index(&index_raw, repo.get()); rc < 0) {
    return GitError(rc, "read index", ws);
  }
  IndexPtr index(index_raw);
  if (git_index_has_conflicts(index.get())) {
    result.outcome = MergeOutcome::kConflicted;
    result.hash = OidHex(*git_commit_id(head.get()));
    WP_ASSIGN_OR_RETURN(result.conflicts, ConflictedPaths(index.get(), ws));
    return result;
  }
  git_oid tree_id;
  if (rc = git_index_write_tree(&tree_id, index.get()); rc < 0) {
    return GitError(rc, "write merged tree", ws);
  }
  const std::string message =
      request.message.empty() ? StrCat("Merge branch '", request.branch, "'") : request.message;
  WP_ASSIGN_OR_RETURN(CommitResult commit,
                      CommitTree(repo.get(), tree_id, request.author, message,
                                 {head.get(), target.get()}, ws));
  if (rc = git_repository_state_cleanup(repo.get()); rc < 0) {
    return GitError(rc, "clear merge state", ws);
  }
  result.outcome = MergeOutcome::kMerged;
  result.hash = commit.hash;
  return result;
}

absl::StatusOr<std::vector<std::string>> GitCore::ResolveConflict(const Workspace& ws,
                                                                  std::string_view path,
                                                                  ConflictSide side) {
  WP_ASSIGN_OR_RETURN(const std::string relative, ClientPath(ws, path));
  WorkspaceLocks::Guard guard = LockTree(ws);
  WP_ASSIGN_OR_RETURN(RepoPtr repo, OpenRepo(ws));
  if (git_repository_state(repo.get()) != GIT_REPOSITORY_STATE_MERGE) return NotMerging(ws);

  git_index* index_raw = nullptr;
  if (int rc = git_repository_index(&index_raw, repo.get()); rc < 0) {
    return GitError(rc, "read index", ws);
  }
  IndexPtr index(index_raw);
  const git_index_entry* ancestor = nullptr;
  const git_index_entry* ours = nullptr;
  const git_index_entry* theirs = nullptr;
  int rc = git_index_conflict_get(&ancestor, &ours, &theirs, index.get(), relative.c_str());
  if (rc == GIT_ENOTFOUND) {
    return absl::NotFoundError(StrCat("path '", relative, "' has no merge conflict"));
  }
  if (rc < 0) return GitError(rc, StrCat("read conflict of '", relative, "'"), ws);

  const fs::path file = ws.root / relative;
  std::error_code ec;
  const fs::file_status current = fs::symlink_status(file, ec);
  if (fs::is_directory(current)) {
    return absl::FailedPreconditionError(
        StrCat("path '", relative, "' is a directory in the workspace; resolve it by hand"));
  }

  if (side == ConflictSide::kWorkingTree) {
    // Take the file as it is now (edited by hand); a missing file resolves as deleted.
    rc = fs::exists(current) ? git_index_add_bypath(index.get(), relative.c_str())
                             : git_index_remove_bypath(index.get(), relative.c_str());
    if (rc < 0) return GitError(rc, StrCat("stage '", relative, "'"), ws);
  } else {
    const git_index_entry* chosen = side == ConflictSide::kOurs ? ours : theirs;
    if (chosen == nullptr) {
      // That side deleted the file.
      if (fs::exists(current) && !fs::remove(file, ec)) {
        return ErrnoError(ec.value(), "delete", relative);
      }
      rc = git_index_remove_bypath(index.get(), relative.c_str());
      if (rc < 0) return GitError(rc, StrCat("stage deletion of '", relative, "'"), ws);
    } else {
      if (chosen->mode == GIT_FILEMODE_COMMIT) {
        return absl::FailedPreconditionError(
            StrCat("path '", relative, "' is a submodule; resolve it by hand"));
      }
      git_index_entry resolved = *chosen;
      git_blob* blob_raw = nullptr;
      if (rc = git_blob_lookup(&blob_raw, repo.get(), &resolved.id); rc < 0) {
        return GitError(rc, StrCat("read the chosen side of '", relative, "'"), ws);
      }
      BlobPtr blob(blob_raw);
      // A symlink's blob is written as a plain file holding its target (core.symlinks=false).
      const std::string_view content(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                                     static_cast<std::size_t>(git_blob_rawsize(blob.get())));
      AtomicWriteOptions write_options;
      write_options.mode = resolved.mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644;
      WP_RETURN_IF_ERROR(WriteFileStaged(ws, file, content, write_options, relative));
      // Stage the chosen blob at stage 0; the conflict entries go.
      GIT_INDEX_ENTRY_STAGE_SET(&resolved, 0);
      if (rc = git_index_conflict_remove(index.get(), relative.c_str()); rc < 0) {
        return GitError(rc, StrCat("clear conflict of '", relative, "'"), ws);
      }
      if (rc = git_index_add(index.get(), &resolved); rc < 0) {
        return GitError(rc, StrCat("stage '", relative, "'"), ws);
      }
    }
  }
  // Whatever path was taken, no conflict entry may remain for this path.
  if (rc = git_index_conflict_remove(index.get(), relative.c_str());
      rc < 0 && rc != GIT_ENOTFOUND) {
    return GitError(rc, StrCat("clear conflict of '", relative, "'"), ws);
  }
  if (rc = git_index_write(index.get()); rc < 0) return GitError(rc, "write index", ws);
  return ConflictedPaths(index.get(), ws);
}

absl::StatusOr<std::string> GitCore::AbortMerge(const Workspace& ws) {
  WorkspaceLocks::Guard guard = LockTree(ws);
  WP_ASSIGN_OR_RETURN(RepoPtr repo, OpenRepo(ws));
  if (git_repository_state(repo.get()) != GIT_REPOSITORY_STATE_MERGE) return NotMerging(ws);
  WP_ASSIGN_OR_RETURN(CommitPtr head, HeadCommit(repo.get(), ws));
  if (head == nullptr) return absl::FailedPreconditionError("cannot abort: HEAD has no commit");

  // Index and working tree back to HEAD (a merge needs a clean tree, so nothing else is lost).
  git_checkout_options options = GIT_CHECKOUT_OPTIONS_INIT;
  options.checkout_strategy = GIT_CHECKOUT_FORCE;
  if (int rc = git_reset(repo.get(), reinterpret_cast<const git_object*>(head.get()),
                         GIT_RESET_HARD, &options);
      rc < 0) {
    return GitError(rc, "reset to HEAD", ws);
  }
  if (int rc = git_repository_state_cleanup(repo.get()); rc < 0) {
    return GitError(rc, "clear merge state", ws);
  }
  return OidHex(*git_commit_id(head.get()));
}

absl::StatusOr<CommitResult> GitCore::CompleteMerge(const Workspace& ws, const GitAuthor& author,
                                                    std::string_view message) {
  WP_RETURN_IF_ERROR(ValidateAuthor(author));
  WP_RETURN_IF_ERROR(ValidateCommitMessage(message));
  WorkspaceLocks::Guard guard = LockTree(ws);
  WP_ASSIGN_OR_RETURN(RepoPtr repo, OpenRepo(ws));
  CommitRequest request;
  request.author = author;
  request.message = std::string(message);
  absl::StatusOr<CommitResult> result =
      CommitChanges(repo.get(), ws, request, /*require_merge=*/true);
  if (absl::IsResourceExhausted(result.status())) RemoveEmptyObjectDirectories(ws);
  return result;
}

}  // namespace workerpair::light
