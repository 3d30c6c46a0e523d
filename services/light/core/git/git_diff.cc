// GitCore::Diff: unified patch text and per-file line counts.
#include <string>
#include <vector>

#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "services/light/core/git/git_core.h"
#include "services/light/core/git/git_util.h"

namespace workerpair::light {
using namespace git_internal;  // NOLINT: the internal helpers of this library

namespace {

ChangeKind DeltaKind(git_delta_t status) {
  switch (status) {
    case GIT_DELTA_ADDED:
    case GIT_DELTA_UNTRACKED:
    case GIT_DELTA_COPIED:
      return ChangeKind::kAdded;
    case GIT_DELTA_DELETED:
      return ChangeKind::kDeleted;
    case GIT_DELTA_RENAMED:
      return ChangeKind::kRenamed;
    case GIT_DELTA_TYPECHANGE:
      return ChangeKind::kTypeChanged;
    default:
      return ChangeKind::kModified;
  }
}

}  // namespace

absl::StatusOr<DiffResult> GitCore::Diff(const Workspace& ws, const DiffRequest& request) {
  if (request.from.empty() && !request.to.empty()) {
    return absl::InvalidArgumentError("a diff 'to' a commit needs a 'from' commit");
  }
  std::vector<std::string> specs;
  for (const std::string& path : request.paths) {
    WP_ASSIGN_OR_RETURN(std::string relative, ClientPath(ws, path));
    // Literal paths, not globs.
    std::string escaped;
    for (char c : relative) {
      if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') escaped.push_back('\\');
      escaped.push_back(c);
    }
    specs.push_back(std::move(escaped));
  }
  WorkspaceLocks::Guard guard = LockTree(ws);
  WP_ASSIGN_OR_RETURN(RepoPtr repo, OpenRepo(ws));

  git_diff_options options = GIT_DIFF_OPTIONS_INIT;
  std::vector<char*> spec_pointers;
  for (std::string& spec : specs) spec_pointers.push_back(spec.data());
  options.pathspec = {spec_pointers.data(), spec_pointers.size()};
  AttachBudget(&options, request.budget);
  if (request.context_lines >= 0) {
    options.context_lines = static_cast<uint32_t>(request.context_lines);
  }

  git_diff* raw = nullptr;
  int rc = 0;
  if (request.to.empty()) {
    // Working tree (with the index, untracked files included) against `from` or HEAD.
    options.flags = GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS |
                    GIT_DIFF_SHOW_UNTRACKED_CONTENT;
    CommitPtr base;
    if (request.from.empty()) {
      WP_ASSIGN_OR_RETURN(base, HeadCommit(repo.get(), ws));
    } else {
      WP_ASSIGN_OR_RETURN(base, ResolveCommit(repo.get(), request.from, ws));
    }
    WP_ASSIGN_OR_RETURN(TreePtr tree, TreeOfCommit(base.get(), ws));
    rc = git_diff_tree_to_workdir_with_index(&raw, repo.get(), tree.get(), &options);
  } else {
    WP_ASSIGN_OR_RETURN(CommitPtr from, ResolveCommit(repo.get(), request.from, ws));
    WP_ASSIGN_OR_RETURN(CommitPtr to, ResolveCommit(repo.get(), request.to, ws));
    WP_ASSIGN_OR_RETURN(TreePtr from_tree, TreeOfCommit(from.get(), ws));
    WP_ASSIGN_OR_RETURN(TreePtr to_tree, TreeOfCommit(to.get(), ws));
    rc = git_diff_tree_to_tree(&raw, repo.get(), from_tree.get(), to_tree.get(), &options);
  }
  if (rc < 0) return GitFailure(rc, "diff", ws, request.budget);
  DiffPtr diff(raw);

  DiffResult result;
  for (std::size_t i = 0, n = git_diff_num_deltas(diff.get()); i < n; ++i) {
    WP_RETURN_IF_ERROR(CheckBudget(request.budget));
    git_patch* patch_raw = nullptr;
    if (rc = git_patch_from_diff(&patch_raw, diff.get(), i); rc < 0) {
      return GitFailure(rc, "build patch", ws, request.budget);
    }
    PatchPtr patch(patch_raw);
    const git_diff_delta* delta = git_diff_get_delta(diff.get(), i);
    FileDiff file;
    file.path = delta->new_file.path != nullptr ? delta->new_file.path : delta->old_file.path;
    file.old_path = delta->old_file.path != nullptr ? delta->old_file.path : file.path;
    file.kind = DeltaKind(delta->status);
    file.binary = (delta->flags & GIT_DIFF_FLAG_BINARY) != 0;
    if (patch != nullptr) {
      std::size_t added = 0;
      std::size_t removed = 0;
      git_patch_line_stats(nullptr, &added, &removed, patch.get());
      file.added_lines = static_cast<std::uint32_t>(added);
      file.removed_lines = static_cast<std::uint32_t>(removed);
      // Patch text up to the cap.
      if (!result.truncated) {
        Buf text;
        if (rc = git_patch_to_buf(&text.buf, patch.get()); rc < 0) {
          return GitError(rc, "format patch", ws);
        }
        const std::uint64_t room = options_.max_patch_bytes - result.patch.size();
        if (text.buf.size > room) {
          result.patch.append(text.buf.ptr, room);
          result.truncated = true;
        } else {
          result.patch.append(text.buf.ptr, text.buf.size);
        }
      }
    }
    result.added_lines += file.added_lines;
    result.removed_lines += file.removed_lines;
    result.files.push_back(std::move(file));
  }
  return result;
}

}  // namespace workerpair::light
