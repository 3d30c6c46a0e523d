#include "services/light/core/files/staging_area.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

#include "libs/common/str_cat.h"

namespace workerpair::light {
namespace fs = std::filesystem;

absl::Status SweepStagingArea(const fs::path& staging) {
  std::error_code ec;
  fs::create_directories(staging, ec);
  if (ec) return ErrnoError(ec.value(), "creating the staging area", kStagingDirName);
  for (const auto& entry : fs::directory_iterator(staging, ec)) {
    std::error_code remove_ec;
    fs::remove_all(entry.path(), remove_ec);
  }
  if (ec) return ErrnoError(ec.value(), "sweeping the staging area", kStagingDirName);
  return absl::OkStatus();
}

absl::Status RefuseReservedName(std::string_view relative) {
  for (const auto& component : fs::path(relative)) {
    if (component.native().starts_with(kTempFilePrefix)) {
      return absl::InvalidArgumentError(StrCat("'", relative, "': names starting with '",
                                               kTempFilePrefix, "' are reserved"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<StagedFile> StagedFile::Create(const Workspace& ws, std::string_view display_path) {
  if (ws.staging.empty()) {
    return absl::InternalError(
        StrCat("workspace '", ws.name, "' has no staging area; resolve it through the store"));
  }
  std::string name = (ws.staging / "XXXXXX").string();
  const int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "creating a temporary file for", display_path);
  StagedFile staged(fd, fs::path(name));
  if (::fchmod(fd, 0644) != 0) return ErrnoError(errno, "setting mode of", display_path);
  return staged;
}

StagedFile::StagedFile(StagedFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {
  other.path_.clear();
}

StagedFile& StagedFile::operator=(StagedFile&& other) noexcept {
  if (this != &other) {
    Discard();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

StagedFile::~StagedFile() { Discard(); }

void StagedFile::Discard() {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  if (!path_.empty()) ::unlink(path_.c_str());
  path_.clear();
}

absl::Status StagedFile::Append(std::string_view data, std::string_view display_path) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd_, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "writing", display_path);
    }
    data.remove_prefix(static_cast<std::size_t>(written));
  }
  return absl::OkStatus();
}

absl::Status StagedFile::SyncAndClose(std::string_view display_path) {
  if (fd_ < 0) return absl::OkStatus();
  const int fd = std::exchange(fd_, -1);
  if (::fsync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    return ErrnoError(error, "syncing", display_path);
  }
  if (::close(fd) != 0) return ErrnoError(errno, "closing", display_path);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<fs::path>> CreateMissingDirectories(const fs::path& dir,
                                                               std::string_view display_path) {
  // Walk up to the first existing ancestor, then create downwards, recording each.
  std::vector<fs::path> missing;
  for (fs::path at = dir; !at.empty() && at != at.root_path(); at = at.parent_path()) {
    struct stat st;
    if (::lstat(at.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) {
        return absl::FailedPreconditionError(StrCat(
            "cannot create directory for '", display_path, "': a file is in the way"));
      }
      break;
    }
    missing.push_back(at);
  }
  std::vector<fs::path> created;
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0755) == 0) {
      created.push_back(*it);
      continue;
    }
    if (errno == EEXIST) {
      struct stat st;
      if (::lstat(it->c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;  // a racing creator
    }
    const int error = errno;
    RemoveCreatedDirectories(created);
    if (error == EEXIST || error == ENOTDIR) {
      return absl::FailedPreconditionError(
          StrCat("cannot create directory for '", display_path, "': a file is in the way"));
    }
    return ErrnoError(error, "creating directories for", display_path);
  }
  return created;
}

void RemoveCreatedDirectories(const std::vector<fs::path>& created) {
  for (auto it = created.rbegin(); it != created.rend(); ++it) ::rmdir(it->c_str());
}

absl::Status StagedFile::RenameOnto(const fs::path& destination, bool replace,
                                    std::string_view display_path) {
  if (absl::Status status = RenamePath(path_, destination, replace, display_path); !status.ok()) {
    return status;
  }
  path_.clear();  // published: nothing to remove any more
  return absl::OkStatus();
}

absl::Status PublishStaged(StagedFile& staged, const fs::path& destination, bool replace,
                           std::string_view display_path) {
  auto created = CreateMissingDirectories(destination.parent_path(), display_path);
  if (!created.ok()) return created.status();
  if (absl::Status status = staged.RenameOnto(destination, replace, display_path); !status.ok()) {
    RemoveCreatedDirectories(*created);
    return status;
  }
  SyncDirectory(destination.parent_path());
  return absl::OkStatus();
}

absl::Status WriteFileStaged(const Workspace& ws, const fs::path& destination,
                             std::string_view content, const AtomicWriteOptions& options,
                             std::string_view display_path) {
  // An existing directory at the path can never be replaced by a file.
  struct stat existing;
  const bool exists = ::lstat(destination.c_str(), &existing) == 0;
  if (exists && S_ISDIR(existing.st_mode)) {
    return absl::FailedPreconditionError(StrCat("'", display_path, "' is a directory"));
  }
  if (exists && !options.replace) {
    return absl::AlreadyExistsError(
        StrCat("'", display_path, "' already exists; set overwrite to replace it"));
  }
  absl::StatusOr<StagedFile> staged = StagedFile::Create(ws, display_path);
  if (!staged.ok()) return staged.status();
  const mode_t mode =
      exists && S_ISREG(existing.st_mode) ? (existing.st_mode & 07777) : options.mode;
  if (mode != 0644 && ::fchmod(staged->fd(), mode) != 0) {
    return ErrnoError(errno, "setting mode of", display_path);
  }
  if (absl::Status status = staged->Append(content, display_path); !status.ok()) return status;
  if (absl::Status status = staged->SyncAndClose(display_path); !status.ok()) return status;
  return PublishStaged(*staged, destination, options.replace, display_path);
}

}  // namespace workerpair::light
