// GitCore: init, status, commit, log, branches, checkout and push. Diff lives in git_diff.cc,
// merging in git_merge.cc.
#include "services/light/core/git/git_core.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>

#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "services/light/core/git/git_commit.h"
#include "services/light/core/git/git_input.h"
#include "services/light/core/git/git_util.h"
#include "services/light/core/git/git_worktree.h"

namespace workerpair::light {
namespace fs = std::filesystem;
using namespace git_internal;  // NOLINT: the internal helpers of this library

namespace {

// A status entry's change from its diff delta (status compares with two diffs: HEAD against
// the index, the index against the working tree).
ChangeKind StatusChange(git_delta_t status) {
  switch (status) {
    case GIT_DELTA_ADDED: return ChangeKind::kAdded;
    case GIT_DELTA_MODIFIED: return ChangeKind::kModified;
    case GIT_DELTA_DELETED: return ChangeKind::kDeleted;
    case GIT_DELTA_RENAMED: return ChangeKind::kRenamed;
    case GIT_DELTA_TYPECHANGE: return ChangeKind::kTypeChanged;
    case GIT_DELTA_UNTRACKED: return ChangeKind::kUntracked;
    default: return ChangeKind::kNone;
  }
}

// Revwalk hide callback: 1 (hide the commit and its parents) once the call's budget ran out.
int HideWhenOutOfBudget(const git_oid*, void* payload) {
  return static_cast<const CallBudget*>(payload)->Exhausted() ? 1 : 0;
}

// The local branch `name`, NOT_FOUND when missing.
absl::StatusOr<ReferencePtr> LookupBranch(git_repository* repo, std::string_view name,
                                          const Workspace& ws) {
  WP_RETURN_IF_ERROR(ValidateBranchName(name));
  git_reference* raw = nullptr;
  int rc = git_branch_lookup(&raw, repo, std::string(name).c_str(), GIT_BRANCH_LOCAL);
  if (rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC) {
    return absl::NotFoundError(StrCat("branch '", name, "' not found"));
  }
  if (rc < 0) return GitError(rc, StrCat("look up branch '", name, "'"), ws);
  return ReferencePtr(raw);
}

// What a push's callbacks share: the remote's per-ref rejections, and the call's budget.
struct PushState {
  std::vector<std::string> rejected;
  const CallBudget* budget = nullptr;
};

// Collects the remote's per-ref rejections during a push.
int OnPushUpdate(const char* refname, const char* status, void* payload) {
  if (status != nullptr) {
    static_cast<PushState*>(payload)->rejected.push_back(StrCat(refname, ": ", status));
  }
  return 0;
}

// Progress callbacks: a non-zero return makes libgit2 abandon the push (GIT_EUSER).
int StopWhenOutOfBudget(void* payload) {
  const CallBudget* budget = static_cast<PushState*>(payload)->budget;
  return budget != nullptr && budget->Exhausted() ? -1 : 0;
}
int OnPushTransfer(unsigned int, unsigned int, std::size_t, void* payload) {
  return StopWhenOutOfBudget(payload);
}
int OnPackProgress(int, std::uint32_t, std::uint32_t, void* payload) {
  return StopWhenOutOfBudget(payload);
}
int OnSideband(const char*, int, void* payload) { return StopWhenOutOfBudget(payload); }

}  // namespace

GitCore::GitCore(GitOptions options) : options_(std::move(options)) { InitLibgit2Once(); }

absl::StatusOr<bool> GitCore::Init(const Workspace& ws, std::string_view initial_branch) {
  const std::string branch(initial_branch.empty() ? options_.default_branch : initial_branch);
  WP_RETURN_IF_ERROR(ValidateBranchName(branch));
  WorkspaceLocks::Guard guard = LockTree(ws);

  std::error_code ec;
  if (fs::exists(fs::symlink_status(ws.root / ".git", ec))) {
    // Already a repository: opening checks it and enforces core.symlinks=false.
    WP_ASSIGN_OR_RETURN(RepoPtr repo, OpenRepo(ws));
    return false;
  }
  git_repository_init_options options = GIT_REPOSITORY_INIT_OPTIONS_INIT;
  options.flags = GIT_REPOSITORY_INIT_NO_REINIT;
  options.initial_head = branch.c_str();
  git_repository* raw = nullptr;
  absl::Status status;
  if (int rc = git_repository_init_ext(&raw, ws.root.c_str(), &options); rc < 0) {
    status = GitError(rc, "initialise repository", ws);
  } else {
    RepoPtr repo(raw);
    status = DisableSymlinks(repo.get(), ws);
  }
  if (!status.ok()) {
    // A half-made repository (a full disk) would be taken for a real one by the next call.
    fs::remove_all(ws.root / ".git", ec);
    return status;
  }
  return true;
}

absl::StatusOr<GitStatus> GitCore::Status(const Workspace& ws, const CallBudget* budget) {
  WorkspaceLocks::Guard guard = LockTree(ws);
  WP_ASSIGN_OR_RETURN(RepoPtr repo, OpenRepo(ws));

  GitStatus status;
  status.branch = CurrentBranch(repo.get());
  WP_ASSIGN_OR_RETURN(CommitPtr head, HeadCommit(repo.get(), ws));
  status.unborn = head == nullptr;
  if (head != nullptr) status.head = OidHex(*git_commit_id(head.get()));
  status.merging = git_repository_state(repo.get()) == GIT_REPOSITORY_STATE_MERGE;

  git_index* index_raw = nullptr;
  if (int rc = git_repository_index(&index_raw, repo.get()); rc < 0) {
    return GitError(rc, "read index", ws);
  }
  IndexPtr index(index_raw);
  WP_ASSIGN_OR_RETURN(status.conflicts, ConflictedPaths(index.get(), ws));

  // Two diffs, as git_status_list_new makes them, but with the call's budget attached: HEAD
  // against the index (staged), the index against the working tree (unstaged, untracked).
  WP_ASSIGN_OR_RETURN(TreePtr head_tree, TreeOfCommit(head.get(), ws));
  git_diff_options staged_options = GIT_DIFF_OPTIONS_INIT;
  staged_options.flags = GIT_DIFF_IGNORE_SUBMODULES | GIT_DIFF_INCLUDE_TYPECHANGE;
  AttachBudget(&staged_options, budget);
  git_diff* staged_raw = nullptr;
  if (int rc = git_diff_tree_to_index(&staged_raw, repo.get(), head_tree.get(), index.get(),
                                      &staged_options);
      rc < 0) {
    return GitFailure(rc, "read status", ws, budget);
  }
  DiffPtr staged(staged_raw);
  git_diff_options unstaged_options = staged_options;
  unstaged_options.flags |= GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS;
  git_diff* unstaged_raw = nullptr;
  if (int rc = git_diff_index_to_workdir(&unstaged_raw, repo.get(), index.get(),
                                         &unstaged_options);
      rc < 0) {
    return GitFailure(rc, "read status", ws, budget);
  }
  DiffPtr unstaged(unstaged_raw);
  WP_RETURN_IF_ERROR(CheckBudget(budget));

  std::map<std::string, FileChange> changes;  // sorted by path, byte-wise
  const std::set<std::string> conflicted(status.conflicts.begin(), status.conflicts.end());
  for (const bool in_index : {true, false}) {
    const git_diff* diff = in_index ? staged.get() : unstaged.get();
    for (std::size_t i = 0, n = git_diff_num_deltas(diff); i < n; ++i) {
      const git_diff_delta* delta = git_diff_get_delta(diff, i);
      // Conflicts are reported apart; ignored files are not changes.
      const ChangeKind kind = StatusChange(delta->status);
      if (kind == ChangeKind::kNone || conflicted.contains(delta->new_file.path)) continue;
      FileChange& change = changes[delta->new_file.path];
      change.path = delta->new_file.path;
      (in_index ? change.staged : change.unstaged) = kind;
    }
  }
  for (auto& [path, change] : changes) status.changes.push_back(std::move(change));
  status.dirty = !status.changes.empty() || !status.conflicts.empty();
  return status;
}

absl::StatusOr<CommitResult> GitCore::Commit(const Workspace& ws, const CommitRequest& request) {
  // Before the repository is opened: a refused author or message writes nothing.
  WP_RETURN_IF_ERROR(ValidateAuthor(request.author));
  WP_RETURN_IF_ERROR(ValidateCommitMessage(request.message));
  WorkspaceLocks::Guard guard = LockTree(ws);
  WP_ASSIGN_OR_RETURN(RepoPtr repo, OpenRepo(ws));
  absl::StatusOr<CommitResult> result =
      CommitChanges(repo.get(), ws, request, /*require_merge=*/false);
  if (absl::IsResourceExhausted(result.status())) RemoveEmptyObjectDirectories(ws);
  return result;
}

absl::StatusOr<std::vector<LogEntry>> GitCore::Log(const Workspace& ws,
                                                   const LogRequest& request) {
  WorkspaceLocks::Guard guard = LockTree(ws);
  WP_ASSIGN_OR_RETURN(RepoPtr repo, OpenRepo(ws));

  CommitPtr start;
  if (request.from.empty()) {
    WP_ASSIGN_OR_RETURN(start, HeadCommit(repo.get(), ws));
    if (start == nullptr) return std::vector<LogEntry>{};
  } else {
    WP_ASSIGN_OR_RETURN(start, ResolveCommit(repo.get(), request.from, ws));
  }
  const std::uint32_t limit =
      std::min(request.limit == 0 ? 50u : request.limit, options_.max_log_entries);

  git_revwalk* walk_raw = nullptr;
  if (int rc = git_revwalk_new(&walk_raw, repo.get()); rc < 0) return GitError(rc, "log", ws);
  RevwalkPtr walk(walk_raw);
  git_revwalk_sorting(walk.get(), GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
  // A topological walk reads the whole history on its first step; the hide callback, asked for
  // every commit it reaches, hides the rest once the budget ran out, so that walk ends soon.
  if (request.budget != nullptr) {
    git_revwalk_add_hide_cb(walk.get(), &HideWhenOutOfBudget,
                            const_cast<CallBudget*>(request.budget));
  }
  if (int rc = git_revwalk_push(walk.get(), git_commit_id(start.get())); rc < 0) {
    return GitError(rc, "log", ws);
  }
  std::vector<LogEntry> entries;
  git_oid id;
  while (entries.size() < limit && git_revwalk_next(&id, walk.get()) == 0) {
    WP_RETURN_IF_ERROR(CheckBudget(request.budget));
    git_commit* commit_raw = nullptr;
    if (int rc = git_commit_lookup(&commit_raw, repo.get(), &id); rc < 0) {
      return GitError(rc, "read commit", ws);
    }
    CommitPtr commit(commit_raw);
    LogEntry entry;
    entry.hash = OidHex(id);
    for (unsigned i = 0; i < git_commit_parentcount(commit.get()); ++i) {
      entry.parents.push_back(OidHex(*git_commit_parent_id(commit.get(), i)));
    }
    const git_signature* author = git_commit_author(commit.get());
    entry.author_name = author->name;
    entry.author_email = author->email;
    entry.time_unix_seconds = author->when.time;
    entry.time_offset_minutes = author->when.offset;
    const char* message = git_commit_message(commit.get());
    const char* summary = git_commit_summary(commit.get());
    entry.message = message != nullptr ? message : "";
    entry.summary = summary != nullptr ? summary : "";
    entries.push_back(std::move(entry));
  }
  WP_RETURN_IF_ERROR(CheckBudget(request.budget));
  return entries;
}

absl::StatusOr<std::string> GitCore::CreateBranch(const Workspace& ws, std::string_view name,
                                                  std::string_view start) {
  WP_RETURN_IF_ERROR(ValidateBranchName(name));
  WorkspaceLocks::Guard guard = LockTree(ws);
  WP_ASSIGN_OR_RETURN(RepoPtr repo, OpenRepo(ws));

  CommitPtr target;
  if (start.empty()) {
    WP_ASSIGN_OR_RETURN(target, HeadCommit(repo.get(), ws));
    if (target == nullptr) {
      return absl::FailedPreconditionError(
          StrCat("cannot create branch '", name, "': there is no commit yet"));
    }
  } else {
    WP_ASSIGN_OR_RETURN(target, ResolveCommit(repo.get(), start, ws));
  }
  git_reference* raw = nullptr;
  int rc = git_branch_create(&raw, repo.get(), std::string(name).c_str(), target.get(), 0);
  if (rc == GIT_EEXISTS) {
    return absl::AlreadyExistsError(StrCat("branch '", name, "' already exists"));
  }
  if (rc < 0) return GitError(rc, StrCat("create branch '", name, "'"), ws);
  ReferencePtr branch(raw);
  return OidHex(*git_commit_id(target.get()));
}

absl::StatusOr<std::string> GitCore::Checkout(const Workspace& ws, std::string_view branch,
                                              const CallBudget* budget) {
  WorkspaceLocks::Guard guard = LockTree(ws);
  WP_ASSIGN_OR_RETURN(RepoPtr repo, OpenRepo(ws));

  if (git_repository_state(repo.get()) != GIT_REPOSITORY_STATE_NONE) {
    return absl::FailedPreconditionError(
        StrCat("cannot check out '", branch,
               "': a merge is in progress; complete it (GitCompleteMerge) or abort it"));
  }
  WP_ASSIGN_OR_RETURN(ReferencePtr ref, LookupBranch(repo.get(), branch, ws));
  git_object* target_raw = nullptr;
  if (int rc = git_reference_peel(&target_raw, ref.get(), GIT_OBJECT_COMMIT); rc < 0) {
    return GitError(rc, StrCat("read branch '", branch, "'"), ws);
  }
  ObjectPtr target(target_raw);
  const std::string hash = OidHex(*git_object_id(target.get()));

  // Refuse to carry uncommitted changes across branches.
  WP_ASSIGN_OR_RETURN(std::vector<std::string> dirty,
                      UncommittedTrackedFiles(repo.get(), ws, budget));
  if (!dirty.empty()) {
    return absl::FailedPreconditionError(
        StrCat("cannot check out '", branch, "': uncommitted changes in ", NameList(dirty),
               "; commit them first"));
  }
  // Working tree and index to the branch's tree, each file replaced whole; then HEAD.
  WP_ASSIGN_OR_RETURN(CommitPtr head, HeadCommit(repo.get(), ws));
  WP_ASSIGN_OR_RETURN(TreePtr from, TreeOfCommit(head.get(), ws));
  const std::string current = CurrentBranch(repo.get());
  WP_RETURN_IF_ERROR(SwitchWorkingTree(
      repo.get(), ws, from.get(), reinterpret_cast<const git_commit*>(target.get()),
      git_reference_name(ref.get()),
      StrCat("checkout: moving from ", current.empty() ? hash : current, " to ", branch),
      StrCat("cannot check out '", branch, "'"), budget));
  return hash;
}

absl::StatusOr<PushResult> GitCore::Push(const Workspace& ws, const PushRequest& request) {
  WP_RETURN_IF_ERROR(ValidateRemoteName(request.remote));
  if (!request.branch.empty()) WP_RETURN_IF_ERROR(ValidateBranchName(request.branch));
  // Normalised, symlinks resolved, then checked: libgit2 gets the URL the check approved.
  WP_ASSIGN_OR_RETURN(const std::string url,
                      CheckPushTarget(request.url, options_.allowed_remote_prefixes));
  WorkspaceLocks::Guard guard = LockTree(ws);
  WP_ASSIGN_OR_RETURN(RepoPtr repo, OpenRepo(ws));

  std::string branch = request.branch;
  if (branch.empty()) {
    branch = CurrentBranch(repo.get());
    if (branch.empty()) {
      return absl::FailedPreconditionError("HEAD is detached; name the branch to push");
    }
  }
  WP_ASSIGN_OR_RETURN(ReferencePtr ref, LookupBranch(repo.get(), branch, ws));
  const std::string hash = OidHex(*git_reference_target(ref.get()));

  // The remote: added when missing, its URL replaced when it differs.
  git_remote* remote_raw = nullptr;
  int rc = git_remote_lookup(&remote_raw, repo.get(), request.remote.c_str());
  RemotePtr remote(remote_raw);
  if (rc == GIT_ENOTFOUND) {
    rc = git_remote_create(&remote_raw, repo.get(), request.remote.c_str(), url.c_str());
    if (rc < 0) return GitError(rc, StrCat("add remote '", request.remote, "'"), ws);
    remote.reset(remote_raw);
  } else if (rc < 0) {
    return GitError(rc, StrCat("look up remote '", request.remote, "'"), ws);
  } else if (const char* current_url = git_remote_url(remote.get());
             current_url == nullptr || url != current_url) {
    if (rc = git_remote_set_url(repo.get(), request.remote.c_str(), url.c_str()); rc < 0) {
      return GitError(rc, StrCat("set the URL of remote '", request.remote, "'"), ws);
    }
    if (rc = git_remote_lookup(&remote_raw, repo.get(), request.remote.c_str()); rc < 0) {
      return GitError(rc, StrCat("look up remote '", request.remote, "'"), ws);
    }
    remote.reset(remote_raw);
  }

  const std::string ref_name = StrCat("refs/heads/", branch);
  std::string refspec = StrCat(request.force ? "+" : "", ref_name, ":", ref_name);
  char* specs[] = {refspec.data()};
  git_strarray refspecs = {specs, 1};
  PushState state{.budget = request.budget};
  git_push_options options = GIT_PUSH_OPTIONS_INIT;
  options.callbacks.push_update_reference = &OnPushUpdate;
  options.callbacks.push_transfer_progress = &OnPushTransfer;
  options.callbacks.pack_progress = &OnPackProgress;
  options.callbacks.sideband_progress = &OnSideband;
  options.callbacks.payload = &state;
  if (request.budget != nullptr) WP_RETURN_IF_ERROR(request.budget->Check());
  rc = git_remote_push(remote.get(), &refspecs, &options);
  // Stopped by the budget: its status, not libgit2's "user cancelled".
  if (rc < 0 && request.budget != nullptr && request.budget->Exhausted()) {
    return request.budget->Check();
  }
  if (rc == GIT_ENONFASTFORWARD) {
    return GitError(
        rc, StrCat("push '", branch, "' to '", request.remote, "' (not a fast-forward)"), ws);
  }
  if (rc < 0) {
    absl::Status status = GitError(rc, StrCat("push '", branch, "' to '", request.remote, "'"), ws);
    // Anything but a rejection means the remote could not be reached or is no repository.
    if (status.code() == absl::StatusCode::kInternal ||
        status.code() == absl::StatusCode::kNotFound) {
      return absl::UnavailableError(status.message());
    }
    return status;
  }
  if (!state.rejected.empty()) {
    return absl::FailedPreconditionError(
        StrCat("remote '", request.remote, "' rejected ", NameList(state.rejected)));
  }
  return PushResult{ref_name, hash};
}

}  // namespace workerpair::light
