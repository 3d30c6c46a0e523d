// GitCore::ExportHistory and GitCore::ImportHistory: a repository's objects, branches and HEAD,
// for moving a workspace to another worker-light.
#include <algorithm>
#include <filesystem>
#include <system_error>

#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "services/light/core/git/git_core.h"
#include "services/light/core/git/git_util.h"

namespace workerpair::light {
namespace fs = std::filesystem;
using namespace git_internal;  // NOLINT: the internal helpers of this library

namespace {

using PackbuilderPtr = std::unique_ptr<git_packbuilder, Deleter<git_packbuilder_free>>;
using ReferenceIteratorPtr =
    std::unique_ptr<git_reference_iterator, Deleter<git_reference_iterator_free>>;

constexpr std::string_view kHeads = "refs/heads/";

absl::Status TooLarge(std::uint64_t size, std::uint64_t limit) {
  return absl::ResourceExhaustedError(
      StrCat("the history is ", size, " bytes packed, over the limit of ", limit,
             " bytes one move carries"));
}

// INVALID_ARGUMENT unless `name` is "refs/heads/<valid branch name>".
absl::Status ValidateBranchRef(std::string_view name) {
  int valid = 0;
  if (!name.starts_with(kHeads) || name.find('\0') != std::string_view::npos ||
      git_reference_name_is_valid(&valid, std::string(name).c_str()) < 0 || !valid ||
      name.size() == kHeads.size()) {
    return absl::InvalidArgumentError(StrCat("'", name, "' is not a branch (refs/heads/...)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<git_oid> ParseCommitHash(std::string_view hash, std::string_view what) {
  git_oid id;
  if (hash.size() != GIT_OID_HEXSZ || git_oid_fromstrn(&id, hash.data(), hash.size()) < 0) {
    return absl::InvalidArgumentError(StrCat(what, " '", hash, "' is not a commit hash"));
  }
  return id;
}

// Everything ImportHistory does once `.git` exists; the caller removes `.git` on failure.
absl::StatusOr<std::string> Populate(git_repository* repo, const GitHistory& history,
                                     const Workspace& ws) {
  if (!history.pack.empty()) {
    git_odb* odb_raw = nullptr;
    if (int rc = git_repository_odb(&odb_raw, repo); rc < 0) return GitError(rc, "open odb", ws);
    std::unique_ptr<git_odb, Deleter<git_odb_free>> odb(odb_raw);
    git_odb_writepack* writepack = nullptr;
    if (int rc = git_odb_write_pack(&writepack, odb.get(), nullptr, nullptr); rc < 0) {
      return GitError(rc, "write pack", ws);
    }
    git_indexer_progress progress{};
    int rc = writepack->append(writepack, history.pack.data(), history.pack.size(), &progress);
    if (rc >= 0) rc = writepack->commit(writepack, &progress);
    absl::Status status = rc < 0 ? GitError(rc, "index the history's pack", ws) : absl::OkStatus();
    writepack->free(writepack);
    if (!status.ok()) {
      if (absl::IsResourceExhausted(status)) return status;
      return absl::InvalidArgumentError(status.message());
    }
  }
  for (const auto& [name, hash] : history.branches) {
    WP_RETURN_IF_ERROR(ValidateBranchRef(name));
    WP_ASSIGN_OR_RETURN(git_oid id, ParseCommitHash(hash, StrCat("branch '", name, "'")));
    git_commit* commit = nullptr;
    if (git_commit_lookup(&commit, repo, &id) < 0) {
      return absl::InvalidArgumentError(
          StrCat("branch '", name, "' names commit ", hash, ", which the pack does not hold"));
    }
    CommitPtr owned(commit);
    git_reference* ref = nullptr;
    if (int rc = git_reference_create(&ref, repo, name.c_str(), &id, 0, "moved here"); rc < 0) {
      return GitError(rc, StrCat("create branch '", name, "'"), ws);
    }
    ReferencePtr owned_ref(ref);
  }
  // HEAD: a branch (possibly unborn), or a detached commit.
  if (history.head.starts_with(kHeads)) {
    WP_RETURN_IF_ERROR(ValidateBranchRef(history.head));
    git_reference* head = nullptr;
    if (int rc = git_reference_symbolic_create(&head, repo, "HEAD", history.head.c_str(), 1,
                                               "moved here");
        rc < 0) {
      return GitError(rc, "set HEAD", ws);
    }
    ReferencePtr owned_head(head);
  } else {
    WP_ASSIGN_OR_RETURN(git_oid id, ParseCommitHash(history.head, "HEAD"));
    if (int rc = git_repository_set_head_detached(repo, &id); rc < 0) {
      return absl::InvalidArgumentError(GitError(rc, "set HEAD", ws).message());
    }
  }
  // The index is HEAD's tree; the working tree's files arrive separately.
  WP_ASSIGN_OR_RETURN(CommitPtr head_commit, HeadCommit(repo, ws));
  if (head_commit == nullptr) return std::string();
  git_tree* tree_raw = nullptr;
  if (int rc = git_commit_tree(&tree_raw, head_commit.get()); rc < 0) {
    return GitError(rc, "read HEAD's tree", ws);
  }
  TreePtr tree(tree_raw);
  git_index* index_raw = nullptr;
  if (int rc = git_repository_index(&index_raw, repo); rc < 0) return GitError(rc, "index", ws);
  IndexPtr index(index_raw);
  if (int rc = git_index_read_tree(index.get(), tree.get()); rc < 0) {
    return GitError(rc, "read HEAD's tree into the index", ws);
  }
  if (int rc = git_index_write(index.get()); rc < 0) return GitError(rc, "write index", ws);
  return OidHex(*git_commit_id(head_commit.get()));
}

}  // namespace

absl::StatusOr<GitHistory> GitCore::ExportHistory(const Workspace& ws) {
  WorkspaceLocks::Guard guard = LockTree(ws);
  WP_ASSIGN_OR_RETURN(RepoPtr repo, OpenRepo(ws));
  if (git_repository_state(repo.get()) != GIT_REPOSITORY_STATE_NONE) {
    return absl::FailedPreconditionError(StrCat(
        "workspace '", ws.name, "' is in the middle of a merge; complete or abort it first"));
  }
  GitHistory history;
  // HEAD as it is written: symbolic (the usual case, unborn included) or detached.
  git_reference* head_raw = nullptr;
  if (int rc = git_reference_lookup(&head_raw, repo.get(), "HEAD"); rc < 0) {
    return GitError(rc, "read HEAD", ws);
  }
  ReferencePtr head(head_raw);
  if (git_reference_type(head.get()) == GIT_REFERENCE_SYMBOLIC) {
    history.head = git_reference_symbolic_target(head.get());
  } else {
    history.head = OidHex(*git_reference_target(head.get()));
  }

  git_packbuilder* builder_raw = nullptr;
  if (int rc = git_packbuilder_new(&builder_raw, repo.get()); rc < 0) {
    return GitError(rc, "start a pack", ws);
  }
  PackbuilderPtr builder(builder_raw);
  git_revwalk* walk_raw = nullptr;
  if (int rc = git_revwalk_new(&walk_raw, repo.get()); rc < 0) return GitError(rc, "walk", ws);
  RevwalkPtr walk(walk_raw);

  git_reference_iterator* iterator_raw = nullptr;
  if (int rc = git_reference_iterator_glob_new(&iterator_raw, repo.get(), "refs/heads/*");
      rc < 0) {
    return GitError(rc, "list branches", ws);
  }
  ReferenceIteratorPtr iterator(iterator_raw);
  git_reference* ref_raw = nullptr;
  while (git_reference_next(&ref_raw, iterator.get()) == 0) {
    ReferencePtr ref(ref_raw);
    const git_oid* target = git_reference_target(ref.get());
    if (target == nullptr) continue;
    history.branches.emplace_back(git_reference_name(ref.get()), OidHex(*target));
    if (int rc = git_revwalk_push(walk.get(), target); rc < 0) return GitError(rc, "walk", ws);
  }
  std::sort(history.branches.begin(), history.branches.end());
  if (!history.head.starts_with(kHeads)) {
    git_oid id;
    if (git_oid_fromstr(&id, history.head.c_str()) == 0) git_revwalk_push(walk.get(), &id);
  }
  if (history.branches.empty() && history.head.starts_with(kHeads)) return history;  // unborn
  if (int rc = git_packbuilder_insert_walk(builder.get(), walk.get()); rc < 0) {
    return GitError(rc, "collect the history", ws);
  }
  Buf pack;
  if (int rc = git_packbuilder_write_buf(&pack.buf, builder.get()); rc < 0) {
    return GitError(rc, "pack the history", ws);
  }
  if (pack.buf.size > options_.max_history_bytes) {
    return TooLarge(pack.buf.size, options_.max_history_bytes);
  }
  history.pack = pack.str();
  return history;
}

absl::StatusOr<std::string> GitCore::ImportHistory(const Workspace& ws, const GitHistory& history) {
  if (history.pack.size() > options_.max_history_bytes) {
    return TooLarge(history.pack.size(), options_.max_history_bytes);
  }
  if (history.head.empty()) return absl::InvalidArgumentError("the history names no HEAD");
  WorkspaceLocks::Guard guard = LockTree(ws);
  std::error_code ec;
  if (fs::exists(fs::symlink_status(ws.root / ".git", ec))) {
    return absl::FailedPreconditionError(
        StrCat("workspace '", ws.name, "' already is a git repository; import into a new one"));
  }
  git_repository_init_options options = GIT_REPOSITORY_INIT_OPTIONS_INIT;
  options.flags = GIT_REPOSITORY_INIT_NO_REINIT;
  git_repository* raw = nullptr;
  absl::StatusOr<std::string> result;
  if (int rc = git_repository_init_ext(&raw, ws.root.c_str(), &options); rc < 0) {
    result = GitError(rc, "initialise repository", ws);
  } else {
    RepoPtr repo(raw);
    absl::Status symlinks = DisableSymlinks(repo.get(), ws);
    result = symlinks.ok() ? Populate(repo.get(), history, ws) : symlinks;
  }
  if (!result.ok()) fs::remove_all(ws.root / ".git", ec);
  return result;
}

}  // namespace workerpair::light
