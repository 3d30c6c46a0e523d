#include "services/light/core/git/git_util.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <system_error>

#include <unistd.h>

#include "libs/common/path_confinement.h"
#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "services/light/core/git/git_input.h"
#include "services/light/core/git/git_worktree.h"

namespace workerpair::light::git_internal {
namespace fs = std::filesystem;
namespace {

// Replaces every occurrence of `from` in `text` with `to`.
void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  for (std::size_t pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
}

absl::Status NotARepository(const Workspace& ws) {
  return absl::FailedPreconditionError(
      StrCat("workspace '", ws.name, "' is not a git repository; call GitInit"));
}

// True when two directory paths name the same place (trailing '/' and symlinks aside).
bool SameDirectory(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  return fs::equivalent(a, b, ec) && !ec;
}

}  // namespace

void InitLibgit2Once() {
  static std::once_flag once;
  std::call_once(once, [] {
    git_libgit2_init();
    // Workspaces are owned by the service's uid, but a volume may come with another owner.
    git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
    // Only each repository's own config counts: the host's ~/.gitconfig or /etc/gitconfig must
    // not change what a workspace does (symlinks, filters, default branch).
    for (int level : {GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL,
                      GIT_CONFIG_LEVEL_PROGRAMDATA}) {
      git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, "");
    }
  });
}

absl::Status GitError(int code, std::string_view action, const Workspace& ws) {
  const git_error* last = git_error_last();
  std::string detail =
      last != nullptr && last->message != nullptr ? last->message : "unknown error";
  // Never reveal the server's directory layout: show paths relative to the workspace.
  const std::string root = ws.root.string();
  ReplaceAll(detail, root + "/", "");
  ReplaceAll(detail, root, ".");
  std::string message = StrCat(action, ": ", detail);
  // A full disk or quota is RESOURCE_EXHAUSTED for every call, as it is for the file calls.
  // libgit2 reports it as a generic OS error whose message carries strerror's text.
  if (last != nullptr && (last->klass == GIT_ERROR_OS || last->klass == GIT_ERROR_ODB ||
                          last->klass == GIT_ERROR_INDEX || last->klass == GIT_ERROR_FILESYSTEM ||
                          last->klass == GIT_ERROR_REFERENCE)) {
    for (int full : {ENOSPC, EDQUOT, EFBIG}) {
      if (detail.find(std::strerror(full)) != std::string::npos) {
        return absl::ResourceExhaustedError(message);
      }
    }
  }
  if (last != nullptr && last->klass == GIT_ERROR_NOMEMORY) {
    return absl::ResourceExhaustedError(message);
  }
  switch (code) {
    case GIT_ENOTFOUND:
      return absl::NotFoundError(message);
    case GIT_EEXISTS:
      return absl::AlreadyExistsError(message);
    case GIT_EINVALIDSPEC:
    case GIT_EAMBIGUOUS:
      return absl::InvalidArgumentError(message);
    case GIT_ECONFLICT:
    case GIT_EUNMERGED:
    case GIT_ENONFASTFORWARD:
    case GIT_EUNCOMMITTED:
    case GIT_EBAREREPO:
    case GIT_EUNBORNBRANCH:
    case GIT_ELOCKED:
    case GIT_EMERGECONFLICT:
    case GIT_EMODIFIED:
    case GIT_EDIRECTORY:
      return absl::FailedPreconditionError(message);
    case GIT_EAUTH:
    case GIT_ECERTIFICATE:
      return absl::UnauthenticatedError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::Status DisableSymlinks(git_repository* repo, const Workspace& ws) {
  git_config* raw = nullptr;
  if (int rc = git_repository_config(&raw, repo); rc < 0) {
    return GitError(rc, "read repository config", ws);
  }
  ConfigPtr config(raw);
  int symlinks = 1;
  if (git_config_get_bool(&symlinks, config.get(), "core.symlinks") == 0 && symlinks == 0) {
    return absl::OkStatus();
  }
  git_config* local_raw = nullptr;
  if (int rc = git_config_open_level(&local_raw, config.get(), GIT_CONFIG_LEVEL_LOCAL); rc < 0) {
    return GitError(rc, "open repository config", ws);
  }
  ConfigPtr local(local_raw);
  if (int rc = git_config_set_bool(local.get(), "core.symlinks", 0); rc < 0) {
    return GitError(rc, "set core.symlinks", ws);
  }
  return absl::OkStatus();
}

absl::StatusOr<RepoPtr> OpenRepo(const Workspace& ws) {
  // A real `.git` directory, never a gitlink file or a symlink pointing elsewhere.
  std::error_code ec;
  const fs::file_status dot_git = fs::symlink_status(ws.root / ".git", ec);
  if (ec || !fs::exists(dot_git)) return NotARepository(ws);
  if (!fs::is_directory(dot_git)) {
    return absl::FailedPreconditionError(
        StrCat("workspace '", ws.name, "' has a '.git' that is not a directory"));
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    git_repository* raw = nullptr;
    int rc = git_repository_open_ext(&raw, ws.root.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH,
                                     nullptr);
    if (rc == GIT_ENOTFOUND) return NotARepository(ws);
    if (rc < 0) return GitError(rc, "open repository", ws);
    RepoPtr repo(raw);
    // The working tree must be the workspace and the object store its own `.git`
    // (core.worktree or a commondir file could point anywhere).
    const char* workdir = git_repository_workdir(repo.get());
    if (git_repository_is_bare(repo.get()) || workdir == nullptr ||
        !SameDirectory(workdir, ws.root) ||
        !SameDirectory(git_repository_commondir(repo.get()), ws.root / ".git")) {
      return absl::FailedPreconditionError(StrCat(
          "workspace '", ws.name, "' has a repository whose working tree or object store lies "
          "outside the workspace"));
    }
    int symlinks = 1;
    git_config* config_raw = nullptr;
    if (int crc = git_repository_config_snapshot(&config_raw, repo.get()); crc < 0) {
      return GitError(crc, "read repository config", ws);
    }
    ConfigPtr config(config_raw);
    if (git_config_get_bool(&symlinks, config.get(), "core.symlinks") == 0 && symlinks == 0) {
      // A checkout or merge a crash cut short is finished before anything else looks.
      WP_RETURN_IF_ERROR(FinishInterruptedSwitch(repo.get(), ws));
      return repo;
    }
    // Set it, then reopen so no cached setting survives.
    WP_RETURN_IF_ERROR(DisableSymlinks(repo.get(), ws));
  }
  return absl::InternalError(
      StrCat("workspace '", ws.name, "': core.symlinks=false does not stick in the repository"));
}

std::string OidHex(const git_oid& oid) {
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof(hex), &oid);
  return hex;
}

absl::StatusOr<CommitPtr> ResolveCommit(git_repository* repo, std::string_view spec,
                                        const Workspace& ws) {
  if (spec.empty() || spec.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(StrCat("revision '", spec, "' is not valid"));
  }
  git_object* raw = nullptr;
  int rc = git_revparse_single(&raw, repo, std::string(spec).c_str());
  if (rc == GIT_ENOTFOUND) {
    return absl::NotFoundError(StrCat("revision '", spec, "' not found"));
  }
  if (rc == GIT_EINVALIDSPEC || rc == GIT_EAMBIGUOUS) {
    return GitError(rc, StrCat("revision '", spec, "' is not valid"), ws);
  }
  if (rc < 0) return GitError(rc, StrCat("resolve revision '", spec, "'"), ws);
  ObjectPtr object(raw);
  git_object* peeled = nullptr;
  if (git_object_peel(&peeled, object.get(), GIT_OBJECT_COMMIT) < 0) {
    return absl::FailedPreconditionError(StrCat("revision '", spec, "' does not name a commit"));
  }
  return CommitPtr(reinterpret_cast<git_commit*>(peeled));
}

absl::StatusOr<CommitPtr> HeadCommit(git_repository* repo, const Workspace& ws) {
  git_reference* raw = nullptr;
  int rc = git_repository_head(&raw, repo);
  if (rc == GIT_EUNBORNBRANCH || rc == GIT_ENOTFOUND) return CommitPtr();
  if (rc < 0) return GitError(rc, "read HEAD", ws);
  ReferencePtr head(raw);
  git_object* peeled = nullptr;
  if (rc = git_reference_peel(&peeled, head.get(), GIT_OBJECT_COMMIT); rc < 0) {
    return GitError(rc, "read HEAD commit", ws);
  }
  return CommitPtr(reinterpret_cast<git_commit*>(peeled));
}

namespace {
int StopWhenOutOfBudget(const CallBudget* budget) {
  return budget != nullptr && budget->Exhausted() ? -1 : 0;
}
int DiffProgress(const git_diff*, const char*, const char*, void* payload) {
  return StopWhenOutOfBudget(static_cast<const CallBudget*>(payload));
}
int DiffNotify(const git_diff*, const git_diff_delta*, const char*, void* payload) {
  return StopWhenOutOfBudget(static_cast<const CallBudget*>(payload));
}
}  // namespace

void AttachBudget(git_diff_options* options, const CallBudget* budget) {
  if (budget == nullptr) return;
  options->progress_cb = &DiffProgress;
  options->notify_cb = &DiffNotify;
  options->payload = const_cast<CallBudget*>(budget);
}

absl::Status CheckBudget(const CallBudget* budget) {
  return budget == nullptr ? absl::OkStatus() : budget->Check();
}

absl::Status GitFailure(int code, std::string_view action, const Workspace& ws,
                        const CallBudget* budget) {
  if (budget != nullptr && budget->Exhausted()) return budget->Check();
  return GitError(code, action, ws);
}

absl::StatusOr<TreePtr> TreeOfCommit(const git_commit* commit, const Workspace& ws) {
  if (commit == nullptr) return TreePtr();
  git_tree* raw = nullptr;
  if (int rc = git_commit_tree(&raw, commit); rc < 0) return GitError(rc, "read tree", ws);
  return TreePtr(raw);
}

std::string CurrentBranch(git_repository* repo) {
  git_reference* raw = nullptr;
  if (git_reference_lookup(&raw, repo, "HEAD") < 0) return "";
  ReferencePtr head(raw);
  if (git_reference_type(head.get()) != GIT_REFERENCE_SYMBOLIC) return "";
  std::string_view target = git_reference_symbolic_target(head.get());
  constexpr std::string_view kHeads = "refs/heads/";
  if (target.substr(0, kHeads.size()) != kHeads) return "";
  return std::string(target.substr(kHeads.size()));
}

absl::StatusOr<std::string> ClientPath(const Workspace& ws, std::string_view path) {
  WP_ASSIGN_OR_RETURN(fs::path resolved, ConfinePath(ws.root, path));
  std::string relative = RelativeToRoot(ws.root, resolved);
  if (relative == ".") {
    return absl::InvalidArgumentError(StrCat("path '", path, "' names the workspace itself"));
  }
  if (relative == ".git" || relative.starts_with(".git/")) {
    return absl::InvalidArgumentError(StrCat("path '", path, "' is inside .git"));
  }
  return relative;
}

absl::StatusOr<std::vector<std::string>> ConflictedPaths(git_index* index, const Workspace& ws) {
  std::vector<std::string> paths;
  git_index_conflict_iterator* raw = nullptr;
  if (int rc = git_index_conflict_iterator_new(&raw, index); rc < 0) {
    return GitError(rc, "list conflicts", ws);
  }
  ConflictIterPtr iterator(raw);
  const git_index_entry* ancestor = nullptr;
  const git_index_entry* ours = nullptr;
  const git_index_entry* theirs = nullptr;
  while (git_index_conflict_next(&ancestor, &ours, &theirs, iterator.get()) == 0) {
    const git_index_entry* any = ours != nullptr ? ours : theirs != nullptr ? theirs : ancestor;
    if (any != nullptr) paths.emplace_back(any->path);
  }
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  return paths;
}

absl::StatusOr<std::vector<std::string>> UncommittedTrackedFiles(git_repository* repo,
                                                                 const Workspace& ws,
                                                                 const CallBudget* budget) {
  // HEAD against the index (staged), then the index against the working tree (unstaged).
  WP_ASSIGN_OR_RETURN(CommitPtr head, HeadCommit(repo, ws));
  WP_ASSIGN_OR_RETURN(TreePtr head_tree, TreeOfCommit(head.get(), ws));
  git_index* index_raw = nullptr;
  if (int rc = git_repository_index(&index_raw, repo); rc < 0) {
    return GitError(rc, "read index", ws);
  }
  IndexPtr index(index_raw);
  git_diff_options options = GIT_DIFF_OPTIONS_INIT;
  options.flags = GIT_DIFF_IGNORE_SUBMODULES | GIT_DIFF_INCLUDE_TYPECHANGE;
  AttachBudget(&options, budget);
  git_diff* staged_raw = nullptr;
  if (int rc = git_diff_tree_to_index(&staged_raw, repo, head_tree.get(), index.get(), &options);
      rc < 0) {
    return GitFailure(rc, "read status", ws, budget);
  }
  DiffPtr staged(staged_raw);
  git_diff* unstaged_raw = nullptr;
  if (int rc = git_diff_index_to_workdir(&unstaged_raw, repo, index.get(), &options); rc < 0) {
    return GitFailure(rc, "read status", ws, budget);
  }
  DiffPtr unstaged(unstaged_raw);
  std::vector<std::string> paths;
  for (const git_diff* diff : {staged.get(), unstaged.get()}) {
    for (std::size_t i = 0, n = git_diff_num_deltas(diff); i < n; ++i) {
      paths.emplace_back(git_diff_get_delta(diff, i)->new_file.path);
    }
  }
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  return paths;
}

void RemoveEmptyObjectDirectories(const Workspace& ws) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(ws.root / ".git" / "objects", ec)) {
    if (entry.path().filename().string().size() == 2) ::rmdir(entry.path().c_str());
  }
}

std::string NameList(const std::vector<std::string>& names) {
  constexpr std::size_t kShown = 10;
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < kShown; ++i) {
    if (i > 0) out += ", ";
    out += StrCat("'", names[i], "'");
  }
  if (names.size() > kShown) out += StrCat(" and ", names.size() - kShown, " more");
  return out;
}

absl::StatusOr<SignaturePtr> MakeSignature(const GitAuthor& author, const Workspace& ws) {
  // Every signature passes the input rules (git_input.h), whichever call builds it.
  WP_RETURN_IF_ERROR(ValidateAuthor(author));
  git_signature* raw = nullptr;
  if (int rc = git_signature_now(&raw, author.name.c_str(), author.email.c_str()); rc < 0) {
    absl::Status status = GitError(rc, "invalid author", ws);
    return absl::InvalidArgumentError(status.message());
  }
  return SignaturePtr(raw);
}

absl::StatusOr<CommitResult> CommitTree(git_repository* repo, const git_oid& tree_id,
                                        const GitAuthor& author, const std::string& message,
                                        const std::vector<const git_commit*>& parents,
                                        const Workspace& ws, const char* update_ref) {
  WP_ASSIGN_OR_RETURN(SignaturePtr signature, MakeSignature(author, ws));
  git_tree* tree_raw = nullptr;
  if (int rc = git_tree_lookup(&tree_raw, repo, &tree_id); rc < 0) {
    return GitError(rc, "read the tree to commit", ws);
  }
  TreePtr tree(tree_raw);
  std::string text = message;
  if (!text.empty() && text.back() != '\n') text.push_back('\n');
  git_oid commit_id;
  std::vector<const git_commit*> parent_list = parents;
  int rc = git_commit_create(&commit_id, repo, update_ref, signature.get(), signature.get(),
                             nullptr, text.c_str(), tree.get(), parent_list.size(),
                             parent_list.data());
  if (rc < 0) return GitError(rc, "create commit", ws);
  return CommitResult{OidHex(commit_id), CurrentBranch(repo), parents.size() > 1};
}

int CheckoutConflicts::Notify(git_checkout_notify_t why, const char* path, const git_diff_file*,
                              const git_diff_file*, const git_diff_file*, void* payload) {
  if (why == GIT_CHECKOUT_NOTIFY_CONFLICT && path != nullptr) {
    static_cast<CheckoutConflicts*>(payload)->paths.emplace_back(path);
  }
  return 0;
}

void CheckoutConflicts::Attach(git_checkout_options* options) {
  options->notify_flags = GIT_CHECKOUT_NOTIFY_CONFLICT;
  options->notify_cb = &CheckoutConflicts::Notify;
  options->notify_payload = this;
}

}  // namespace workerpair::light::git_internal
