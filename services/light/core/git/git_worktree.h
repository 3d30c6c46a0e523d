// WorktreeUpdate: how git operations change a workspace's working tree (checkout, fast-forward,
// merge, abort), file by file atomically, through the staging area the file writers use.
//
//   WorktreeUpdate update(repo, ws, budget);
//   WP_RETURN_IF_ERROR(update.PlanTreeChange(head_tree, target_tree));
//   WP_RETURN_IF_ERROR(update.CheckNothingInTheWay(head_tree, "check out 'feature'"));
//   WP_RETURN_IF_ERROR(update.Stage());    // new contents written and fsynced in .staging
//   WP_RETURN_IF_ERROR(update.Apply());    // removals, then one rename per file, dirs fsynced
//   ... index to the target, update.RefreshIndexStats(index), write the index, move HEAD ...
//
// Checkout, fast-forward and a clean merge use SwitchWorkingTree below, which adds a journal
// so that a crash between the first rename and HEAD's move is finished by the next git call;
// a conflicted merge and AbortMerge use WorktreeUpdate directly (a cut merge is aborted).
//
// Why not libgit2's checkout: it removes the old file and then writes the new one in place, so
// a crash (or a reader) in between meets a missing or half-written file. Here every new content
// is complete and fsynced in `<root>/.staging` before anything in the tree changes; each file
// then replaces the old one with one rename (same filesystem: atomic), so a reader or a crash
// sees the old or the new content of every file, never a cut one, and no temporary file is ever
// inside the workspace. Durability as the file writers: one fsync per file, one per directory
// touched (shared by the files landing in it).
//
// The call's budget is polled while planning and between staged files: a call that runs out
// before Apply() leaves the working tree untouched (the staged files are removed). Apply()
// itself is only renames and unlinks and is not interrupted.
//
// Internal to services/light/core/git.
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_GIT_GIT_WORKTREE_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_GIT_GIT_WORKTREE_H_

#include <git2.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "libs/common/call_budget.h"
#include "services/light/core/files/staging_area.h"
#include "services/light/core/files/workspace_store.h"

namespace workerpair::light::git_internal {

class WorktreeUpdate {
 public:
  // `budget` may be null (never runs out).
  WorktreeUpdate(git_repository* repo, const Workspace& ws, const CallBudget* budget)
      : repo_(repo), ws_(ws), budget_(budget) {}
  WorktreeUpdate(const WorktreeUpdate&) = delete;
  WorktreeUpdate& operator=(const WorktreeUpdate&) = delete;

  // Plans the changes that take tracked files from `baseline` (null: the empty tree) to
  // `target`: writes of added and modified files, removals of deleted ones, mode changes.
  absl::Status PlanTreeChange(const git_tree* baseline, const git_tree* target);

  // Plans writing blob `id` (filtered for the working tree as git would) at `path`.
  void PlanBlob(std::string path, const git_oid& id, std::uint32_t mode);
  // Plans writing `content` as is at `path`.
  void PlanContent(std::string path, std::string content, std::uint32_t mode);
  // Plans removing the file at `path` (nothing when it is already gone).
  void PlanRemove(std::string path);

  // FAILED_PRECONDITION "<what>: untracked files would be overwritten: ..." when a file to write
  // would replace something `baseline` does not track (ignored files excepted, as git does),
  // or a directory holding anything the plan does not remove.
  absl::Status CheckNothingInTheWay(const git_tree* baseline, std::string_view what);

  // Writes every planned content to the staging area and fsyncs it; the working tree does not
  // change. CANCELLED / DEADLINE_EXCEEDED when the budget runs out (nothing is left staged),
  // RESOURCE_EXHAUSTED on a full disk.
  absl::Status Stage();

  // Removes, renames the staged files into place, changes modes, fsyncs the directories.
  // Stage() first.
  absl::Status Apply();

  // After `index` names the new blobs: records the written files' stat data in it, so the next
  // status need not hash them again.
  void RefreshIndexStats(git_index* index) const;


 private:
  struct Write {
    std::string path;
    std::uint32_t mode = GIT_FILEMODE_BLOB;
    bool from_blob = false;
    git_oid id{};
    std::string content;
    bool mode_only = false;  // same content, only the executable bit changes
  };

  absl::Status CheckBudget() const;

  git_repository* repo_;
  const Workspace& ws_;
  const CallBudget* budget_;
  std::vector<Write> writes_;
  std::vector<std::string> removals_;
  // Parallel to writes_: the staged content (none for mode-only changes and submodules).
  std::vector<std::optional<StagedFile>> staged_;
};

// The working tree, index and HEAD go from tree `from` (null: empty) to commit `commit` on
// branch ref `branch_ref` ("refs/heads/main"), as a checkout, a fast-forward or a clean merge
// does: planned, checked for untracked files in the way (FAILED_PRECONDITION starting with
// `what`), staged; then a journal (.git/WP_SWITCH) records the switch, the files are applied,
// the index becomes the commit's tree with fresh stat data, `branch_ref` names `commit`
// (reflog `log_message`), HEAD names `branch_ref`, and the journal goes. A crash after the
// journal is written is finished by the next git call (FinishInterruptedSwitch), so the tree is
// never left half-switched under the old HEAD; a crash or an exhausted budget before it leaves
// the old tree.
absl::Status SwitchWorkingTree(git_repository* repo, const Workspace& ws, const git_tree* from,
                               const git_commit* commit, const std::string& branch_ref,
                               std::string_view log_message, std::string_view what,
                               const CallBudget* budget);

// When .git/WP_SWITCH says a switch was cut short, finishes it (every planned file rewritten
// whole, index, refs) and removes the journal. OpenRepo calls it, under the tree lock.
absl::Status FinishInterruptedSwitch(git_repository* repo, const Workspace& ws);

}  // namespace workerpair::light::git_internal

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_GIT_GIT_WORKTREE_H_
