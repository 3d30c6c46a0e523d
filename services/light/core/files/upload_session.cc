#include "services/light/core/files/upload_session.h"

#include "services/light/core/files/workspace_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "libs/common/str_cat.h"
#include "libs/common/file_io.h"
#include "libs/common/path_confinement.h"
#include "libs/common/status_macros.h"

namespace workerpair::light {
namespace fs = std::filesystem;

UploadSession::UploadSession(Workspace ws, const FileLimits& limits, bool overwrite)
    : ws_(std::move(ws)), limits_(limits), overwrite_(overwrite) {}

UploadSession::~UploadSession() {
  if (!committed_) Discard();
}

void UploadSession::Discard() {
  if (current_fd_ >= 0) ::close(current_fd_);
  current_fd_ = -1;
  for (const Staged& staged : staged_) ::unlink(staged.temp.c_str());
  staged_.clear();
}

absl::Status UploadSession::StartFile(std::string_view path) {
  WP_RETURN_IF_ERROR(FinishCurrent());
  if (staged_.size() >= limits_.max_upload_files) {
    return absl::ResourceExhaustedError(StrCat("upload has more than ",
                                                     limits_.max_upload_files, " files"));
  }
  WP_ASSIGN_OR_RETURN(fs::path destination, ConfinePath(ws_.root, path));
  WP_RETURN_IF_ERROR(RefuseGitInternals(ws_, destination, path));
  if (!destinations_.insert(destination).second) {
    return absl::InvalidArgumentError(StrCat("upload names '", path, "' twice"));
  }
  WP_RETURN_IF_ERROR(CreateDirectories(destination.parent_path(), path));
  std::string temp = (destination.parent_path() / StrCat(kTempFilePrefix, "XXXXXX")).string();
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "staging", path);
  ::fchmod(fd, 0644);
  current_fd_ = fd;
  staged_.push_back({std::string(path), std::move(destination), fs::path(temp), 0});
  return absl::OkStatus();
}

absl::Status UploadSession::Append(std::string_view data) {
  if (current_fd_ < 0) {
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
  while (!data.empty()) {
    const ssize_t written = ::write(current_fd_, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "writing", staged.relative);
    }
    data.remove_prefix(static_cast<std::size_t>(written));
    staged.size += static_cast<std::uint64_t>(written);
    total_bytes_ += static_cast<std::uint64_t>(written);
  }
  return absl::OkStatus();
}

absl::Status UploadSession::FinishCurrent() {
  if (current_fd_ < 0) return absl::OkStatus();
  const int fd = std::exchange(current_fd_, -1);
  const bool synced = ::fsync(fd) == 0;
  const bool closed = ::close(fd) == 0;
  if (!synced || !closed) return ErrnoError(errno, "syncing", staged_.back().relative);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<FileEntry>> UploadSession::Commit() {
  WP_RETURN_IF_ERROR(FinishCurrent());
  // Check every destination before publishing any, so a conflict publishes nothing.
  for (const Staged& staged : staged_) {
    struct stat st;
    if (::lstat(staged.destination.c_str(), &st) != 0) continue;
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
  std::vector<FileEntry> written;
  for (std::size_t i = 0; i < staged_.size(); ++i) {
    const Staged& staged = staged_[i];
    WP_RETURN_IF_ERROR(RenamePath(staged.temp, staged.destination, overwrite_, staged.relative));
    SyncDirectory(staged.destination.parent_path());
    struct stat st;
    ::lstat(staged.destination.c_str(), &st);
    written.push_back(EntryFromStat(RelativeToRoot(ws_.root, staged.destination), st));
  }
  committed_ = true;
  return written;
}

}  // namespace workerpair::light
