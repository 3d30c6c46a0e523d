// GitCore: merge, conflict resolution, abort and completion of a merge.
#include <algorithm>
#include <filesystem>
#include <set>
#include <system_error>

#include "libs/common/file_io.h"
#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "services/light/core/files/staging_area.h"
#include "services/light/core/git/git_commit.h"
#include "services/light/core/git/git_core.h"
#include "services/light/core/git/git_input.h"
#include "services/light/core/git/git_util.h"
#include "services/light/core/git/git_worktree.h"

namespace workerpair::light {
namespace fs = std::filesystem;
using namespace git_internal;  // NOLINT: the internal helpers of this library

namespace {

absl::Status NotMerging(const Workspace& ws) {
  return absl::FailedPreconditionError(
      StrCat("workspace '", ws.name, "' has no merge in progress"));
}

// Moves the current branch (or the unborn one) to `target` and checks its tree out, each file
// replaced whole; the branch moves last.
absl::Status FastForward(git_repository* repo, const git_commit* current, const git_commit* target,
                         const std::string& branch, bool unborn, const Workspace& ws,
                         const CallBudget* budget) {
  WP_ASSIGN_OR_RETURN(TreePtr from, TreeOfCommit(unborn ? nullptr : current, ws));
  return SwitchWorkingTree(repo, ws, from.get(), target, StrCat("refs/heads/", branch),
                           StrCat("merge: fast-forward to ", OidHex(*git_commit_id(target))),
                           "cannot fast-forward", budget);
}

// Writes what marks a repository as merging `target` into `head` (as git_merge does): ORIG_HEAD,
// MERGE_MSG with the conflicts as comment lines, MERGE_MODE, and last MERGE_HEAD, each whole
// through the staging area. On failure the merge state is cleared again.
absl::Status WriteMergeState(git_repository* repo, const Workspace& ws, const git_commit* head,
                             const git_commit* target, std::string_view branch,
                             const std::vector<std::string>& conflicts) {
  std::string message = StrCat("Merge branch '", branch, "'\n");
  if (!conflicts.empty()) message += "\n#Conflicts:\n";
  for (const std::string& path : conflicts) message += StrCat("#\t", path, "\n");
  const fs::path git_dir = ws.root / ".git";
  const std::pair<const char*, std::string> files[] = {
      {"ORIG_HEAD", StrCat(OidHex(*git_commit_id(head)), "\n")},
      {"MERGE_MSG", message},
      {"MERGE_MODE", "no-ff"},
      {"MERGE_HEAD", StrCat(OidHex(*git_commit_id(target)), "\n")},
  };
  for (const auto& [name, content] : files) {
    if (absl::Status status = WriteFileStaged(ws, git_dir / name, content, {}, name);
        !status.ok()) {
      git_repository_state_cleanup(repo);
      return status;
    }
  }
  return absl::OkStatus();
}

// Makes `index` hold exactly the entries of `merged`, conflicts included (libgit2 1.5 has no
// public git_index_read_index); entries that did not change keep their stat data.
absl::Status ReplaceIndex(git_index* index, git_index* merged, const Workspace& ws) {
  std::vector<git_index_entry> entries;
  std::vector<std::string> paths;
  const std::size_t count = git_index_entrycount(merged);
  entries.reserve(count);
  paths.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    git_index_entry entry = *git_index_get_byindex(merged, i);
    const git_index_entry* old = git_index_get_bypath(index, entry.path, GIT_INDEX_ENTRY_STAGE(&entry));
    if (old != nullptr && old->mode == entry.mode && git_oid_equal(&old->id, &entry.id)) {
      const std::uint16_t flags = entry.flags;
      const std::uint16_t flags_extended = entry.flags_extended;
      entry = *old;
      entry.flags = flags;
      entry.flags_extended = flags_extended;
    }
    paths.emplace_back(entry.path);
    entries.push_back(entry);
  }
  for (std::size_t i = 0; i < count; ++i) entries[i].path = paths[i].c_str();
  if (int rc = git_index_clear(index); rc < 0) return GitError(rc, "update index", ws);
  for (const git_index_entry& entry : entries) {
    if (int rc = git_index_add(index, &entry); rc < 0) return GitError(rc, "update index", ws);
  }
  return absl::OkStatus();
}

// True when the blob `id` holds binary data (git writes our side of a binary conflict).
bool BinaryBlob(git_repository* repo, const git_oid& id) {
  git_blob* raw = nullptr;
  if (git_blob_lookup(&raw, repo, &id) < 0) return false;
  BlobPtr blob(raw);
  return git_blob_is_binary(blob.get()) != 0;
}

// Plans the working tree of a conflicted merge, as git_merge checks it out: the merged index's
// resolved files, and for each conflict the file with conflict markers, or the side that is left
// (modify/delete), or ours (binary, links, submodules).
absl::Status PlanConflictedMerge(git_repository* repo, const Workspace& ws,
                                 const git_tree* head_tree, git_index* merged,
                                 std::string_view branch, const CallBudget* budget,
                                 WorktreeUpdate& update) {
  git_diff_options options = GIT_DIFF_OPTIONS_INIT;
  options.flags = GIT_DIFF_INCLUDE_TYPECHANGE;
  AttachBudget(&options, budget);
  git_diff* raw = nullptr;
  if (int rc = git_diff_tree_to_index(&raw, repo, const_cast<git_tree*>(head_tree), merged,
                                      &options);
      rc < 0) {
    return GitFailure(rc, "compare the merge with HEAD", ws, budget);
  }
  DiffPtr diff(raw);
  for (std::size_t i = 0, n = git_diff_num_deltas(diff.get()); i < n; ++i) {
    const git_diff_delta* delta = git_diff_get_delta(diff.get(), i);
    if (delta->status == GIT_DELTA_DELETED) {
      update.PlanRemove(delta->old_file.path);
    } else if (delta->status == GIT_DELTA_ADDED || delta->status == GIT_DELTA_MODIFIED ||
               delta->status == GIT_DELTA_TYPECHANGE) {
      update.PlanBlob(delta->new_file.path, delta->new_file.id, delta->new_file.mode);
    }
  }
  git_index_conflict_iterator* iter_raw = nullptr;
  if (int rc = git_index_conflict_iterator_new(&iter_raw, merged); rc < 0) {
    return GitError(rc, "read merge conflicts", ws);
  }
  ConflictIterPtr iter(iter_raw);
  const git_index_entry* ancestor = nullptr;
  const git_index_entry* ours = nullptr;
  const git_index_entry* theirs = nullptr;
  const std::string their_label(branch);
  while (git_index_conflict_next(&ancestor, &ours, &theirs, iter.get()) == 0) {
    WP_RETURN_IF_ERROR(CheckBudget(budget));
    // Ours is what the working tree holds already (it is HEAD's, and the tree is clean).
    if (theirs == nullptr) continue;
    if (ours == nullptr) {
      if (theirs->mode != GIT_FILEMODE_COMMIT) {
        update.PlanBlob(theirs->path, theirs->id, theirs->mode);
      }
      continue;
    }
    if (ours->mode == GIT_FILEMODE_COMMIT || theirs->mode == GIT_FILEMODE_COMMIT) continue;
    if (ours->mode == GIT_FILEMODE_LINK || BinaryBlob(repo, ours->id) ||
        BinaryBlob(repo, theirs->id)) {
      continue;  // git keeps our side
    }
    git_merge_file_options file_options = GIT_MERGE_FILE_OPTIONS_INIT;
    file_options.our_label = "HEAD";
    file_options.their_label = their_label.c_str();
    git_merge_file_result merged_file{};
    if (int rc = git_merge_file_from_index(&merged_file, repo, ancestor, ours, theirs,
                                           &file_options);
        rc < 0) {
      return GitError(rc, StrCat("merge '", ours->path, "'"), ws);
    }
    std::string content(merged_file.ptr == nullptr ? "" : merged_file.ptr, merged_file.len);
    const std::string path = merged_file.path != nullptr ? merged_file.path : ours->path;
    const std::uint32_t mode = merged_file.mode != 0 ? merged_file.mode : ours->mode;
    git_merge_file_result_free(&merged_file);
    update.PlanContent(path, std::move(content), mode);
  }
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

  WP_ASSIGN_OR_RETURN(std::vector<std::string> dirty,
                      UncommittedTrackedFiles(repo.get(), ws, request.budget));
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
    WP_RETURN_IF_ERROR(FastForward(repo.get(), head.get(), target.get(), current, unborn, ws,
                                   request.budget));
    result.outcome = MergeOutcome::kFastForward;
    result.hash = OidHex(*git_commit_id(target.get()));
    return result;
  }

  // A real merge: its commit needs an author, checked before anything changes.
  WP_RETURN_IF_ERROR(MakeSignature(request.author, ws).status());
  // The merge is computed in memory, then written to the working tree file by file, whole
  // (git_worktree.h), instead of git_merge's checkout that rewrites files in place.
  git_merge_options merge_options = GIT_MERGE_OPTIONS_INIT;
  git_index* merged_raw = nullptr;
  if (rc = git_merge_commits(&merged_raw, repo.get(), head.get(), target.get(), &merge_options);
      rc < 0) {
    return GitFailure(rc, StrCat("merge '", request.branch, "'"), ws, request.budget);
  }
  IndexPtr merged(merged_raw);
  WP_RETURN_IF_ERROR(CheckBudget(request.budget));
  WP_ASSIGN_OR_RETURN(TreePtr head_tree, TreeOfCommit(head.get(), ws));
  const std::string what = StrCat("cannot merge '", request.branch, "'");

  if (!git_index_has_conflicts(merged.get())) {
    git_oid tree_id;
    if (rc = git_index_write_tree_to(&tree_id, merged.get(), repo.get()); rc < 0) {
      return GitError(rc, "write merged tree", ws);
    }
    // The merge commit is made first, unreferenced; the switch then moves the branch to it.
    const std::string message =
        request.message.empty() ? StrCat("Merge branch '", request.branch, "'") : request.message;
    WP_ASSIGN_OR_RETURN(CommitResult commit,
                        CommitTree(repo.get(), tree_id, request.author, message,
                                   {head.get(), target.get()}, ws, /*update_ref=*/nullptr));
    git_oid commit_id;
    git_commit* commit_raw = nullptr;
    if (git_oid_fromstr(&commit_id, commit.hash.c_str()) < 0 ||
        (rc = git_commit_lookup(&commit_raw, repo.get(), &commit_id)) < 0) {
      return GitError(rc, "read the merge commit", ws);
    }
    CommitPtr merge_commit(commit_raw);
    WP_RETURN_IF_ERROR(SwitchWorkingTree(
        repo.get(), ws, head_tree.get(), merge_commit.get(), StrCat("refs/heads/", current),
        StrCat("merge ", request.branch, ": Merge made by the 'ort' strategy."), what,
        request.budget));
    result.outcome = MergeOutcome::kMerged;
    result.hash = commit.hash;
    return result;
  }

  // Conflicts: the repository is left merging, with conflict markers in the files.
  WP_ASSIGN_OR_RETURN(result.conflicts, ConflictedPaths(merged.get(), ws));
  WorktreeUpdate update(repo.get(), ws, request.budget);
  WP_RETURN_IF_ERROR(PlanConflictedMerge(repo.get(), ws, head_tree.get(), merged.get(),
                                         request.branch, request.budget, update));
  WP_RETURN_IF_ERROR(update.CheckNothingInTheWay(head_tree.get(), what));
  WP_RETURN_IF_ERROR(update.Stage());
  // Merge state, then the index, then the files: whenever a crash strikes, the repository is
  // merging with every file the merge touches in its index, so AbortMerge puts HEAD back whole.
  WP_RETURN_IF_ERROR(WriteMergeState(repo.get(), ws, head.get(), target.get(), request.branch,
                                     result.conflicts));
  git_index* index_raw = nullptr;
  if (rc = git_repository_index(&index_raw, repo.get()); rc < 0) {
    return GitError(rc, "read index", ws);
  }
  IndexPtr index(index_raw);
  WP_RETURN_IF_ERROR(ReplaceIndex(index.get(), merged.get(), ws));
  if (rc = git_index_write(index.get()); rc < 0) return GitError(rc, "write index", ws);
  WP_RETURN_IF_ERROR(update.Apply());
  update.RefreshIndexStats(index.get());
  if (rc = git_index_write(index.get()); rc < 0) return GitError(rc, "write index", ws);
  result.outcome = MergeOutcome::kConflicted;
  result.hash = OidHex(*git_commit_id(head.get()));
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

absl::StatusOr<std::string> GitCore::AbortMerge(const Workspace& ws, const CallBudget* budget) {
  WorkspaceLocks::Guard guard = LockTree(ws);
  WP_ASSIGN_OR_RETURN(RepoPtr repo, OpenRepo(ws));
  if (git_repository_state(repo.get()) != GIT_REPOSITORY_STATE_MERGE) return NotMerging(ws);
  WP_ASSIGN_OR_RETURN(CommitPtr head, HeadCommit(repo.get(), ws));
  if (head == nullptr) return absl::FailedPreconditionError("cannot abort: HEAD has no commit");
  WP_ASSIGN_OR_RETURN(TreePtr head_tree, TreeOfCommit(head.get(), ws));

  // Index and working tree back to HEAD (a merge needs a clean tree, so nothing else is lost):
  // every path the index or the working tree changed, conflicts included, gets HEAD's file
  // back whole, or goes when HEAD has none. Untracked files stay.
  git_index* index_raw = nullptr;
  if (int rc = git_repository_index(&index_raw, repo.get()); rc < 0) {
    return GitError(rc, "read index", ws);
  }
  IndexPtr index(index_raw);
  std::set<std::string> paths;
  WP_ASSIGN_OR_RETURN(std::vector<std::string> conflicts, ConflictedPaths(index.get(), ws));
  paths.insert(conflicts.begin(), conflicts.end());
  git_diff_options options = GIT_DIFF_OPTIONS_INIT;
  options.flags = GIT_DIFF_INCLUDE_TYPECHANGE | GIT_DIFF_IGNORE_SUBMODULES;
  AttachBudget(&options, budget);
  git_diff* staged_raw = nullptr;
  if (int rc = git_diff_tree_to_index(&staged_raw, repo.get(), head_tree.get(), index.get(),
                                      &options);
      rc < 0) {
    return GitFailure(rc, "read status", ws, budget);
  }
  DiffPtr staged(staged_raw);
  git_diff* unstaged_raw = nullptr;
  if (int rc = git_diff_index_to_workdir(&unstaged_raw, repo.get(), index.get(), &options);
      rc < 0) {
    return GitFailure(rc, "read status", ws, budget);
  }
  DiffPtr unstaged(unstaged_raw);
  for (const git_diff* diff : {staged.get(), unstaged.get()}) {
    for (std::size_t i = 0, n = git_diff_num_deltas(diff); i < n; ++i) {
      const git_diff_delta* delta = git_diff_get_delta(diff, i);
      paths.insert(delta->old_file.path);
      paths.insert(delta->new_file.path);
    }
  }
  WorktreeUpdate update(repo.get(), ws, budget);
  for (const std::string& path : paths) {
    git_tree_entry* entry_raw = nullptr;
    if (git_tree_entry_bypath(&entry_raw, head_tree.get(), path.c_str()) == 0) {
      if (git_tree_entry_type(entry_raw) == GIT_OBJECT_BLOB) {
        update.PlanBlob(path, *git_tree_entry_id(entry_raw), git_tree_entry_filemode(entry_raw));
      }
      git_tree_entry_free(entry_raw);
    } else {
      update.PlanRemove(path);
    }
  }
  WP_RETURN_IF_ERROR(update.Stage());
  WP_RETURN_IF_ERROR(update.Apply());
  if (int rc = git_index_read_tree(index.get(), head_tree.get()); rc < 0) {
    return GitError(rc, "reset the index to HEAD", ws);
  }
  update.RefreshIndexStats(index.get());
  if (int rc = git_index_write(index.get()); rc < 0) return GitError(rc, "write index", ws);
  if (int rc = git_repository_state_cleanup(repo.get()); rc < 0) {
    return GitError(rc, "clear merge state", ws);
  }
  return OidHex(*git_commit_id(head.get()));
}

absl::StatusOr<CommitResult> GitCore::CompleteMerge(const Workspace& ws, const GitAuthor& author,
                                                    std::string_view message,
                                                    const CallBudget* budget) {
  WP_RETURN_IF_ERROR(ValidateAuthor(author));
  WP_RETURN_IF_ERROR(ValidateCommitMessage(message));
  WorkspaceLocks::Guard guard = LockTree(ws);
  WP_ASSIGN_OR_RETURN(RepoPtr repo, OpenRepo(ws));
  CommitRequest request;
  request.author = author;
  request.message = std::string(message);
  request.budget = budget;
  absl::StatusOr<CommitResult> result =
      CommitChanges(repo.get(), ws, request, /*require_merge=*/true);
  if (absl::IsResourceExhausted(result.status())) RemoveEmptyObjectDirectories(ws);
  return result;
}

}  // namespace workerpair::light
