#include "services/light/core/files/upload_session.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "libs/common/file_io.h"
#include "libs/common/path_confinement.h"
#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "services/light/core/files/workspace_files.h"
#include "services/light/core/files/workspace_locks.h"

namespace workerpair::light {
namespace fs = std::filesystem;

UploadSession::UploadSession(Workspace ws, WorkspaceFiles& files, bool overwrite)
    : ws_(std::move(ws)), files_(files), limits_(files.limits()), overwrite_(overwrite) {}

// The staged files remove themselves (StagedFile's destructor) unless published.
UploadSession::~UploadSession() = default;

absl::Status UploadSession::StartFile(std::string_view path) {
  WP_RETURN_IF_ERROR(FinishCurrent());
  if (staged_.size() >= limits_.max_upload_files) {
    return absl::ResourceExhaustedError(StrCat("upload has more than ",
                                                     limits_.max_upload_files, " files"));
  }
  WP_ASSIGN_OR_RETURN(fs::path destination, ConfinePath(ws_.root, path));
  WP_RETURN_IF_ERROR(RefuseGitInternals(ws_, destination, path));
  WP_RETURN_IF_ERROR(RefuseReservedName(RelativeToRoot(ws_.root, destination)));
  if (!destinations_.insert(destination).second) {
    return absl::InvalidArgumentError(StrCat("upload names '", path, "' twice"));
  }
  WP_ASSIGN_OR_RETURN(StagedFile file, StagedFile::Create(ws_, path));
  staged_.push_back({std::string(path), std::move(destination), std::move(file), 0, true});
  return absl::OkStatus();
}

absl::Status UploadSession::Append(std::string_view data) {
  if (staged_.empty() || !staged_.back().open) {
    return absl::FailedPreconditionError(
        "upload data arrived before any path: the first message must name a file");
  }
  Staged& staged = staged_.back();
  if (staged.size + data.size() > limits_.max_write_bytes) {
    return absl::ResourceExhaustedError(StrCat("uploaded file '", staged.relative,
                                                     "' is over the write cap of ",
                                                     limits_.max_write_bytes, " bytes"));
  }
  if (total_bytes_ + data.size() > limits_.max_upload_bytes) {
    return absl::ResourceExhaustedError(StrCat("upload is over its cap of ",
                                                     limits_.max_upload_bytes, " bytes"));
  }
  WP_RETURN_IF_ERROR(staged.file.Append(data, staged.relative));
  staged.size += data.size();
  total_bytes_ += data.size();
  return absl::OkStatus();
}

absl::Status UploadSession::FinishCurrent() {
  if (staged_.empty() || !staged_.back().open) return absl::OkStatus();
  staged_.back().open = false;
  return staged_.back().file.SyncAndClose(staged_.back().relative);
}

absl::StatusOr<std::vector<FileEntry>> UploadSession::Commit() {
  WP_RETURN_IF_ERROR(FinishCurrent());
  std::vector<std::string> paths;
  for (const Staged& staged : staged_) paths.push_back(staged.destination.string());
  WorkspaceLocks::Guard guard = files_.LocksOf(ws_).Shared(ws_.name, std::move(paths));
  // Check every destination before publishing any, so a conflict publishes nothing.
  std::vector<bool> existed(staged_.size(), false);
  for (std::size_t i = 0; i < staged_.size(); ++i) {
    const Staged& staged = staged_[i];
    struct stat st;
    if (::lstat(staged.destination.c_str(), &st) != 0) continue;
    existed[i] = true;
    if (S_ISDIR(st.st_mode)) {
      return absl::FailedPreconditionError(
          StrCat("'", staged.relative, "' is a directory; no file was uploaded"));
    }
    if (!overwrite_) {
      return absl::AlreadyExistsError(StrCat(
          "'", staged.relative, "' already exists; set overwrite to replace it; no file was "
          "uploaded"));
    }
  }
  // Directories first (all of them, remembered), then the renames; any failure takes back
  // the new files and the directories made for them.
  std::vector<fs::path> created;
  for (const Staged& staged : staged_) {
    absl::StatusOr<std::vector<fs::path>> made =
        CreateMissingDirectories(staged.destination.parent_path(), staged.relative);
    if (!made.ok()) {
      RemoveCreatedDirectories(created);
      return made.status();
    }
    created.insert(created.end(), made->begin(), made->end());
  }
  std::set<fs::path> directories;
  for (std::size_t i = 0; i < staged_.size(); ++i) {
    Staged& staged = staged_[i];
    if (absl::Status status = staged.file.RenameOnto(staged.destination, overwrite_,
                                                     staged.relative);
        !status.ok()) {
      for (std::size_t j = 0; j < i; ++j) {
        if (!existed[j]) ::unlink(staged_[j].destination.c_str());
      }
      RemoveCreatedDirectories(created);
      return status;
    }
    directories.insert(staged.destination.parent_path());
  }
  // One fsync per directory that received files.
  for (const fs::path& directory : directories) SyncDirectory(directory);
  std::vector<FileEntry> written;
  for (const Staged& staged : staged_) {
    struct stat st;
    ::lstat(staged.destination.c_str(), &st);
    written.push_back(EntryFromStat(RelativeToRoot(ws_.root, staged.destination), st));
  }
  return written;
}

}  // namespace workerpair::light
