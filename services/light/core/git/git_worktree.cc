#include "services/light/core/git/git_worktree.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <set>
#include <system_error>

#include "libs/common/file_io.h"
#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "services/light/core/git/git_util.h"

namespace workerpair::light::git_internal {
namespace fs = std::filesystem;
namespace {

bool IsBlobMode(std::uint32_t mode) {
  return mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE;
}

// True when `baseline` tracks a file (not a directory) at `path`.
bool TracksFile(const git_tree* baseline, const std::string& path) {
  if (baseline == nullptr) return false;
  git_tree_entry* raw = nullptr;
  if (git_tree_entry_bypath(&raw, baseline, path.c_str()) != 0) return false;
  const bool file = git_tree_entry_type(raw) == GIT_OBJECT_BLOB;
  git_tree_entry_free(raw);
  return file;
}

}  // namespace

absl::Status WorktreeUpdate::CheckBudget() const {
  return budget_ == nullptr ? absl::OkStatus() : budget_->Check();
}

void WorktreeUpdate::PlanBlob(std::string path, const git_oid& id, std::uint32_t mode) {
  Write write;
  write.path = std::move(path);
  write.mode = mode;
  write.from_blob = true;
  write.id = id;
  writes_.push_back(std::move(write));
}

void WorktreeUpdate::PlanContent(std::string path, std::string content, std::uint32_t mode) {
  Write write;
  write.path = std::move(path);
  write.mode = mode;
  write.content = std::move(content);
  writes_.push_back(std::move(write));
}

void WorktreeUpdate::PlanRemove(std::string path) { removals_.push_back(std::move(path)); }

absl::Status WorktreeUpdate::PlanTreeChange(const git_tree* baseline, const git_tree* target) {
  git_diff_options options = GIT_DIFF_OPTIONS_INIT;
  // A file that becomes a link (or back) is one replacement, not a removal then a write.
  options.flags = GIT_DIFF_INCLUDE_TYPECHANGE;
  AttachBudget(&options, budget_);
  git_diff* raw = nullptr;
  if (int rc = git_diff_tree_to_tree(&raw, repo_, const_cast<git_tree*>(baseline),
                                     const_cast<git_tree*>(target), &options);
      rc < 0) {
    return GitFailure(rc, "compare trees", ws_, budget_);
  }
  DiffPtr diff(raw);
  for (std::size_t i = 0, n = git_diff_num_deltas(diff.get()); i < n; ++i) {
    const git_diff_delta* delta = git_diff_get_delta(diff.get(), i);
    switch (delta->status) {
      case GIT_DELTA_DELETED:
        PlanRemove(delta->old_file.path);
        break;
      case GIT_DELTA_ADDED:
      case GIT_DELTA_MODIFIED:
      case GIT_DELTA_TYPECHANGE: {
        PlanBlob(delta->new_file.path, delta->new_file.id, delta->new_file.mode);
        if (delta->status == GIT_DELTA_MODIFIED &&
            git_oid_equal(&delta->old_file.id, &delta->new_file.id) &&
            IsBlobMode(delta->old_file.mode) && IsBlobMode(delta->new_file.mode)) {
          writes_.back().mode_only = true;
        }
        break;
      }
      default:
        break;
    }
  }
  return absl::OkStatus();
}

absl::Status WorktreeUpdate::CheckNothingInTheWay(const git_tree* baseline, std::string_view what) {
  const std::set<std::string> removing(removals_.begin(), removals_.end());
  // A directory may stand where a file goes only when the plan empties it.
  auto only_removals_under = [&](const std::string& dir) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(ws_.root / dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) continue;
      if (!removing.contains(it->path().lexically_relative(ws_.root).string())) return false;
    }
    return !ec;
  };
  std::vector<std::string> blocked;
  for (const Write& write : writes_) {
    if (write.mode_only || TracksFile(baseline, write.path)) continue;
    const fs::path full = ws_.root / write.path;
    struct stat st;
    if (::lstat(full.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) {
        if (write.mode != GIT_FILEMODE_COMMIT && !only_removals_under(write.path)) {
          blocked.push_back(write.path);
        }
        continue;
      }
      int ignored = 0;
      if (git_ignore_path_is_ignored(&ignored, repo_, write.path.c_str()) < 0 || !ignored) {
        blocked.push_back(write.path);
      }
    } else if (errno == ENOTDIR) {
      // A file stands where a directory of this path goes: fine only when the plan removes it.
      for (fs::path parent = fs::path(write.path).parent_path(); !parent.empty();
           parent = parent.parent_path()) {
        if (::lstat((ws_.root / parent).c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
          if (!removing.contains(parent.string())) blocked.push_back(parent.string());
          break;
        }
      }
    }
  }
  if (blocked.empty()) return absl::OkStatus();
  std::sort(blocked.begin(), blocked.end());
  blocked.erase(std::unique(blocked.begin(), blocked.end()), blocked.end());
  return absl::FailedPreconditionError(
      StrCat(what, ": untracked files would be overwritten: ", NameList(blocked)));
}

absl::Status WorktreeUpdate::Stage() {
  staged_.clear();
  staged_.resize(writes_.size());
  // Files are written a batch at a time and only then fsynced: the first fsync's journal commit
  // carries the whole batch's data, so the later ones find little left to do (one fsync per
  // file all the same). A batch bounds the descriptors held open.
  constexpr std::size_t kBatch = 128;
  std::vector<std::size_t> unsynced;
  auto sync_batch = [&]() -> absl::Status {
    for (std::size_t i : unsynced) WP_RETURN_IF_ERROR(staged_[i]->SyncAndClose(writes_[i].path));
    unsynced.clear();
    return absl::OkStatus();
  };
  for (std::size_t i = 0; i < writes_.size(); ++i) {
    const Write& write = writes_[i];
    WP_RETURN_IF_ERROR(CheckBudget());
    if (write.mode_only || write.mode == GIT_FILEMODE_COMMIT) continue;
    Buf filtered;
    BlobPtr blob;
    std::string_view content = write.content;
    if (write.from_blob) {
      git_blob* raw = nullptr;
      if (int rc = git_blob_lookup(&raw, repo_, &write.id); rc < 0) {
        return GitError(rc, StrCat("read '", write.path, "'"), ws_);
      }
      blob.reset(raw);
      if (write.mode == GIT_FILEMODE_LINK) {
        // core.symlinks=false: a link is a plain file holding its target.
        content = std::string_view(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                                   static_cast<std::size_t>(git_blob_rawsize(blob.get())));
      } else {
        // As git checks it out: .gitattributes' working-tree filters (eol, ident) applied.
        git_blob_filter_options options = GIT_BLOB_FILTER_OPTIONS_INIT;
        if (int rc = git_blob_filter(&filtered.buf, blob.get(), write.path.c_str(), &options);
            rc < 0) {
          return GitError(rc, StrCat("filter '", write.path, "'"), ws_);
        }
        content = std::string_view(filtered.buf.ptr == nullptr ? "" : filtered.buf.ptr,
                                   filtered.buf.size);
      }
    }
    WP_ASSIGN_OR_RETURN(StagedFile file, StagedFile::Create(ws_, write.path));
    if (write.mode == GIT_FILEMODE_BLOB_EXECUTABLE && ::fchmod(file.fd(), 0755) != 0) {
      return ErrnoError(errno, "setting mode of", write.path);
    }
    WP_RETURN_IF_ERROR(file.Append(content, write.path));
    staged_[i] = std::move(file);
    unsynced.push_back(i);
    if (unsynced.size() == kBatch) WP_RETURN_IF_ERROR(sync_batch());
  }
  WP_RETURN_IF_ERROR(sync_batch());
  return CheckBudget();
}

absl::Status WorktreeUpdate::Apply() {
  std::set<std::string> written;
  for (const Write& write : writes_) written.insert(write.path);
  std::set<fs::path> touched;  // directories whose entries changed, fsynced once each

  // Removals first, so that a file may take the place of a directory they empty.
  for (const std::string& removal : removals_) {
    if (written.contains(removal)) continue;  // replaced by its rename below
    const fs::path full = ws_.root / removal;
    struct stat st;
    if (::lstat(full.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) continue;
    if (::unlink(full.c_str()) != 0 && errno != ENOENT) {
      return ErrnoError(errno, "removing", removal);
    }
    touched.insert(full.parent_path());
    // Directories the removal emptied go too, as git does.
    for (fs::path dir = fs::path(removal).parent_path(); !dir.empty(); dir = dir.parent_path()) {
      if (::rmdir((ws_.root / dir).c_str()) != 0) break;
      touched.insert((ws_.root / dir).parent_path());
    }
  }
  for (std::size_t i = 0; i < writes_.size(); ++i) {
    const Write& write = writes_[i];
    const fs::path full = ws_.root / write.path;
    if (write.mode == GIT_FILEMODE_COMMIT) {
      // A submodule is an empty directory in the working tree.
      WP_ASSIGN_OR_RETURN(std::vector<fs::path> created,
                          CreateMissingDirectories(full, write.path));
      for (const fs::path& dir : created) touched.insert(dir.parent_path());
      continue;
    }
    if (write.mode_only) {
      if (::chmod(full.c_str(), write.mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644) != 0 &&
          errno != ENOENT) {
        return ErrnoError(errno, "setting mode of", write.path);
      }
      continue;
    }
    // An empty directory left where the file goes (its files were removed above).
    struct stat st;
    if (::lstat(full.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && ::rmdir(full.c_str()) != 0) {
      return absl::FailedPreconditionError(StrCat("'", write.path, "' is a directory"));
    }
    WP_ASSIGN_OR_RETURN(std::vector<fs::path> created,
                        CreateMissingDirectories(full.parent_path(), write.path));
    for (const fs::path& dir : created) touched.insert(dir.parent_path());
    WP_RETURN_IF_ERROR(staged_[i]->RenameOnto(full, /*replace=*/true, write.path));
    touched.insert(full.parent_path());
  }
  for (const fs::path& dir : touched) SyncDirectory(dir);
  return absl::OkStatus();
}

void WorktreeUpdate::RefreshIndexStats(git_index* index) const {
  for (const Write& write : writes_) {
    if (write.mode == GIT_FILEMODE_COMMIT) continue;
    const git_index_entry* entry = git_index_get_bypath(index, write.path.c_str(), 0);
    struct stat st;
    if (entry == nullptr || ::lstat((ws_.root / write.path).c_str(), &st) != 0) continue;
    git_index_entry updated = *entry;
    const std::string path = entry->path;
    updated.path = path.c_str();
    updated.ctime.seconds = static_cast<std::int32_t>(st.st_ctim.tv_sec);
    updated.ctime.nanoseconds = static_cast<std::uint32_t>(st.st_ctim.tv_nsec);
    updated.mtime.seconds = static_cast<std::int32_t>(st.st_mtim.tv_sec);
    updated.mtime.nanoseconds = static_cast<std::uint32_t>(st.st_mtim.tv_nsec);
    updated.dev = static_cast<std::uint32_t>(st.st_dev);
    updated.ino = static_cast<std::uint32_t>(st.st_ino);
    updated.uid = st.st_uid;
    updated.gid = st.st_gid;
    updated.file_size = static_cast<std::uint32_t>(st.st_size);
    git_index_add(index, &updated);  // best effort: without it the next status hashes the file
  }
}

namespace {

constexpr std::string_view kJournalName = "WP_SWITCH";

fs::path JournalPath(const Workspace& ws) { return ws.root / ".git" / kJournalName; }

void RemoveJournal(const Workspace& ws) {
  ::unlink(JournalPath(ws).c_str());
  SyncDirectory(ws.root / ".git");
}

// The end of a switch whose files are in place: the index becomes `tree`, `branch_ref` names
// `commit`, HEAD names `branch_ref`, the journal goes.
absl::Status FinishSwitch(git_repository* repo, const Workspace& ws,
                          const WorktreeUpdate& update, const git_tree* tree,
                          const git_oid& commit, const std::string& branch_ref,
                          const std::string& log_message) {
  git_index* raw = nullptr;
  if (int rc = git_repository_index(&raw, repo); rc < 0) return GitError(rc, "read index", ws);
  IndexPtr index(raw);
  if (int rc = git_index_read_tree(index.get(), tree); rc < 0) {
    return GitError(rc, "update index", ws);
  }
  update.RefreshIndexStats(index.get());
  if (int rc = git_index_write(index.get()); rc < 0) return GitError(rc, "write index", ws);
  git_oid current;
  if (git_reference_name_to_id(&current, repo, branch_ref.c_str()) != 0 ||
      !git_oid_equal(&current, &commit)) {
    git_reference* ref_raw = nullptr;
    if (int rc = git_reference_create(&ref_raw, repo, branch_ref.c_str(), &commit, /*force=*/1,
                                      log_message.c_str());
        rc < 0) {
      return GitError(rc, StrCat("move '", branch_ref, "'"), ws);
    }
    ReferencePtr ref(ref_raw);
  }
  git_reference* head_raw = nullptr;
  const bool head_there = git_reference_lookup(&head_raw, repo, "HEAD") == 0;
  ReferencePtr head(head_raw);
  if (!head_there || git_reference_type(head.get()) != GIT_REFERENCE_SYMBOLIC ||
      branch_ref != git_reference_symbolic_target(head.get())) {
    if (int rc = git_repository_set_head(repo, branch_ref.c_str()); rc < 0) {
      return GitError(rc, StrCat("switch HEAD to '", branch_ref, "'"), ws);
    }
  }
  RemoveJournal(ws);
  return absl::OkStatus();
}

}  // namespace

absl::Status SwitchWorkingTree(git_repository* repo, const Workspace& ws, const git_tree* from,
                               const git_commit* commit, const std::string& branch_ref,
                               std::string_view log_message, std::string_view what,
                               const CallBudget* budget) {
  WP_ASSIGN_OR_RETURN(TreePtr to, TreeOfCommit(commit, ws));
  WorktreeUpdate update(repo, ws, budget);
  WP_RETURN_IF_ERROR(update.PlanTreeChange(from, to.get()));
  WP_RETURN_IF_ERROR(update.CheckNothingInTheWay(from, what));
  WP_RETURN_IF_ERROR(update.Stage());
  // From here on the switch completes, now or (after a crash) at the next git call.
  const std::string commit_hex = OidHex(*git_commit_id(commit));
  const std::string message(log_message);
  WP_RETURN_IF_ERROR(WriteFileStaged(ws, JournalPath(ws),
                                     StrCat(commit_hex, " ", branch_ref, "\n", message, "\n"),
                                     {}, kJournalName));
  WP_RETURN_IF_ERROR(update.Apply());
  return FinishSwitch(repo, ws, update, to.get(), *git_commit_id(commit), branch_ref, message);
}

absl::Status FinishInterruptedSwitch(git_repository* repo, const Workspace& ws) {
  struct stat st;
  if (::lstat(JournalPath(ws).c_str(), &st) != 0) return absl::OkStatus();
  absl::StatusOr<std::string> journal = ReadFileCapped(JournalPath(ws), kJournalName, 4096);
  // What cannot be read back is dropped: the tree keeps whole files, only not HEAD's.
  const std::string text = journal.ok() ? *journal : "";
  const std::size_t space = text.find(' ');
  const std::size_t newline = text.find('\n');
  git_oid id;
  git_commit* commit_raw = nullptr;
  if (space == std::string::npos || newline == std::string::npos || newline < space ||
      git_oid_fromstrn(&id, text.data(), space) < 0 ||
      git_commit_lookup(&commit_raw, repo, &id) < 0) {
    RemoveJournal(ws);
    return absl::OkStatus();
  }
  CommitPtr commit(commit_raw);
  const std::string branch_ref = text.substr(space + 1, newline - space - 1);
  std::string message = text.substr(newline + 1);
  if (!message.empty() && message.back() == '\n') message.pop_back();
  if (!branch_ref.starts_with("refs/heads/")) {
    RemoveJournal(ws);
    return absl::OkStatus();
  }
  WP_ASSIGN_OR_RETURN(CommitPtr head, HeadCommit(repo, ws));
  WP_ASSIGN_OR_RETURN(TreePtr from, TreeOfCommit(head.get(), ws));
  WP_ASSIGN_OR_RETURN(TreePtr to, TreeOfCommit(commit.get(), ws));
  // Every planned file is written again (those already switched get the same bytes).
  WorktreeUpdate update(repo, ws, nullptr);
  absl::Status status = update.PlanTreeChange(from.get(), to.get());
  if (status.ok()) status = update.Stage();
  if (status.ok()) status = update.Apply();
  if (status.ok()) {
    status = FinishSwitch(repo, ws, update, to.get(), id, branch_ref, message);
  }
  // A full disk is worth another try at the next call; anything else would fail forever.
  if (!status.ok() && !absl::IsResourceExhausted(status)) {
    RemoveJournal(ws);
    return absl::OkStatus();
  }
  return status;
}

}  // namespace workerpair::light::git_internal
