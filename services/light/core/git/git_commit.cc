#include "services/light/core/git/git_commit.h"

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "services/light/core/git/git_util.h"

namespace workerpair::light::git_internal {
namespace fs = std::filesystem;
namespace {

// A literal path as a libgit2 pathspec (which would otherwise read *?[ as a glob).
std::string EscapePathspec(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// True when `path` is tracked in `index`, as a file or as a directory holding tracked files.
bool Tracked(git_index* index, const std::string& path) {
  std::size_t position = 0;
  if (git_index_find_prefix(&position, index, path.c_str()) != 0) return false;
  const git_index_entry* entry = git_index_get_byindex(index, position);
  if (entry == nullptr) return false;
  std::string_view found = entry->path;
  return found == path || (found.size() > path.size() && found.starts_with(path) &&
                           found[path.size()] == '/');
}

// git's prepared merge message (MERGE_MSG) without its comment lines; empty when none.
std::string PreparedMergeMessage(git_repository* repo) {
  Buf raw;
  if (git_repository_message(&raw.buf, repo) < 0) return "";
  Buf clean;
  if (git_message_prettify(&clean.buf, raw.str().c_str(), 1, '#') < 0) return raw.str();
  return clean.str();
}

// git_index_add_all / update_all callback: 0 stages the path, < 0 stops once out of budget.
int StageUnlessOutOfBudget(const char*, const char*, void* payload) {
  const auto* budget = static_cast<const CallBudget*>(payload);
  return budget != nullptr && budget->Exhausted() ? -1 : 0;
}

int CollectMergeHead(const git_oid* oid, void* payload) {
  static_cast<std::vector<git_oid>*>(payload)->push_back(*oid);
  return 0;
}

}  // namespace

absl::StatusOr<CommitResult> CommitChanges(git_repository* repo, const Workspace& ws,
                                           const CommitRequest& request, bool require_merge) {
  const int state = git_repository_state(repo);
  const bool merging = state == GIT_REPOSITORY_STATE_MERGE;
  if (state != GIT_REPOSITORY_STATE_NONE && !merging) {
    return absl::FailedPreconditionError(StrCat(
        "workspace '", ws.name, "' is in the middle of another git operation (state ", state, ")"));
  }
  if (require_merge && !merging) {
    return absl::FailedPreconditionError(
        StrCat("workspace '", ws.name, "' has no merge in progress"));
  }
  if (merging && !request.paths.empty()) {
    return absl::FailedPreconditionError(
        "a merge is in progress: its commit takes every change, so name no paths");
  }
  git_index* index_raw = nullptr;
  if (int rc = git_repository_index(&index_raw, repo); rc < 0) {
    return GitError(rc, "read index", ws);
  }
  IndexPtr index(index_raw);
  WP_ASSIGN_OR_RETURN(std::vector<std::string> conflicts, ConflictedPaths(index.get(), ws));
  if (!conflicts.empty()) {
    return absl::FailedPreconditionError(
        StrCat("cannot commit: unresolved merge conflicts in ", NameList(conflicts),
               "; resolve them (GitResolveConflict) or abort the merge"));
  }
  std::string message = request.message;
  if (message.empty() && merging) message = PreparedMergeMessage(repo);
  if (message.empty()) return absl::InvalidArgumentError("a commit message is required");
  WP_RETURN_IF_ERROR(MakeSignature(request.author, ws).status());

  // Stage: new and modified files (add_all), deleted ones (update_all).
  std::vector<std::string> specs;
  for (const std::string& path : request.paths) {
    WP_ASSIGN_OR_RETURN(std::string relative, ClientPath(ws, path));
    std::error_code ec;
    const bool on_disk = fs::exists(fs::symlink_status(ws.root / relative, ec));
    if (!on_disk && !Tracked(index.get(), relative)) {
      return absl::NotFoundError(
          StrCat("path '", path, "' is neither in the workspace nor tracked"));
    }
    specs.push_back(EscapePathspec(relative));
  }
  std::vector<char*> spec_pointers;
  for (std::string& spec : specs) spec_pointers.push_back(spec.data());
  git_strarray pathspec = {spec_pointers.data(), spec_pointers.size()};
  const git_strarray* selection = specs.empty() ? nullptr : &pathspec;
  // The index is only written once everything is staged: a call out of budget commits nothing.
  void* budget = const_cast<CallBudget*>(request.budget);
  if (int rc = git_index_add_all(index.get(), selection, GIT_INDEX_ADD_DEFAULT,
                                 &StageUnlessOutOfBudget, budget);
      rc < 0) {
    return GitFailure(rc, "stage changes", ws, request.budget);
  }
  if (int rc = git_index_update_all(index.get(), selection, &StageUnlessOutOfBudget, budget);
      rc < 0) {
    return GitFailure(rc, "stage deletions", ws, request.budget);
  }
  WP_RETURN_IF_ERROR(CheckBudget(request.budget));
  if (int rc = git_index_write(index.get()); rc < 0) return GitError(rc, "write index", ws);
  git_oid tree_id;
  if (int rc = git_index_write_tree(&tree_id, index.get()); rc < 0) {
    return GitError(rc, "write tree", ws);
  }

  // Nothing to commit: the tree is HEAD's (a merge commit may keep HEAD's tree: "ours").
  WP_ASSIGN_OR_RETURN(CommitPtr head, HeadCommit(repo, ws));
  if (!merging) {
    const bool unchanged = head != nullptr ? git_oid_equal(&tree_id, git_commit_tree_id(head.get()))
                                           : git_index_entrycount(index.get()) == 0;
    if (unchanged) {
      return absl::FailedPreconditionError(
          request.paths.empty() ? StrCat("nothing to commit in workspace '", ws.name, "'")
                                : StrCat("nothing to commit in ", NameList(request.paths)));
    }
  }

  // Parents: HEAD, then the merged commits.
  std::vector<git_oid> merge_heads;
  if (merging) {
    if (int rc = git_repository_mergehead_foreach(repo, &CollectMergeHead, &merge_heads); rc < 0) {
      return GitError(rc, "read MERGE_HEAD", ws);
    }
  }
  std::vector<CommitPtr> owned;
  std::vector<const git_commit*> parents;
  if (head != nullptr) parents.push_back(head.get());
  for (const git_oid& id : merge_heads) {
    git_commit* raw = nullptr;
    if (int rc = git_commit_lookup(&raw, repo, &id); rc < 0) {
      return GitError(rc, "read merged commit", ws);
    }
    owned.emplace_back(raw);
    parents.push_back(raw);
  }
  WP_ASSIGN_OR_RETURN(CommitResult result,
                      CommitTree(repo, tree_id, request.author, message, parents, ws));
  if (merging) {
    if (int rc = git_repository_state_cleanup(repo); rc < 0) {
      return GitError(rc, "clear merge state", ws);
    }
  }
  return result;
}

}  // namespace workerpair::light::git_internal
