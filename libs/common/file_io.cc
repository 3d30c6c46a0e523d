#include "libs/common/file_io.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "libs/common/str_cat.h"

namespace workerpair {
namespace fs = std::filesystem;
namespace {

// Closes a file descriptor when it goes out of scope.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

absl::Status WriteAll(int fd, std::string_view data, std::string_view display_path) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "writing", display_path);
    }
    data.remove_prefix(static_cast<std::size_t>(written));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ErrnoError(int errno_value, std::string_view action, std::string_view display_path) {
  const std::string message =
      StrCat(action, " '", display_path, "': ", std::strerror(errno_value));
  switch (errno_value) {
    case ENOENT:
      return absl::NotFoundError(message);
    case EEXIST:
      return absl::AlreadyExistsError(message);
    case EACCES:
    case EPERM:
    case ELOOP:
      return absl::PermissionDeniedError(message);
    case ENOTDIR:
    case EISDIR:
    case ENOTEMPTY:
    case EXDEV:
      return absl::FailedPreconditionError(message);
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
    case EFBIG:
      return absl::ResourceExhaustedError(message);
    case ENAMETOOLONG:
    case EINVAL:
      return absl::InvalidArgumentError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::StatusOr<std::string> ReadFileCapped(const fs::path& path, std::string_view display_path,
                                           std::uint64_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ELOOP) {
      return absl::FailedPreconditionError(
          StrCat("'", display_path, "' is a symlink, not a regular file"));
    }
    return ErrnoError(errno, "opening", display_path);
  }
  FdCloser closer(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoError(errno, "inspecting", display_path);
  if (S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(StrCat("'", display_path, "' is a directory"));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        StrCat("'", display_path, "' is not a regular file"));
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > max_bytes) {
    return absl::ResourceExhaustedError(StrCat("'", display_path, "' is ", size,
                                                     " bytes, over the read cap of ", max_bytes,
                                                     " bytes; read it in ranges"));
  }
  std::string content;
  content.resize(size);
  std::size_t filled = 0;
  while (true) {
    // Read until EOF rather than trusting st_size: the file may grow or shrink meanwhile.
    if (filled == content.size()) {
      if (content.size() >= max_bytes) {
        char probe;
        const ssize_t extra = ::read(fd, &probe, 1);
        if (extra > 0) {
          return absl::ResourceExhaustedError(StrCat(
              "'", display_path, "' grew past the read cap of ", max_bytes, " bytes"));
        }
        break;
      }
      content.resize(std::min<std::uint64_t>(max_bytes, content.size() + 64 * 1024));
    }
    const ssize_t got = ::read(fd, content.data() + filled, content.size() - filled);
    if (got < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "reading", display_path);
    }
    if (got == 0) break;
    filled += static_cast<std::size_t>(got);
  }
  content.resize(filled);
  return content;
}

absl::Status CreateDirectories(const fs::path& dir, std::string_view display_path) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    if (ec == std::errc::file_exists || ec == std::errc::not_a_directory) {
      return absl::FailedPreconditionError(StrCat(
          "cannot create directory for '", display_path, "': a file is in the way"));
    }
    return ErrnoError(ec.value(), "creating directories for", display_path);
  }
  return absl::OkStatus();
}

void SyncDirectory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

absl::Status RenamePath(const fs::path& from, const fs::path& to, bool replace,
                        std::string_view display_to) {
  const int rc = replace ? ::rename(from.c_str(), to.c_str())
                         : ::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(),
                                       RENAME_NOREPLACE);
  if (rc != 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(
          StrCat("'", display_to, "' already exists; set overwrite to replace it"));
    }
    if (errno == EISDIR) {
      return absl::FailedPreconditionError(
          StrCat("'", display_to, "' is a directory; it cannot be replaced by a file"));
    }
    return ErrnoError(errno, "renaming onto", display_to);
  }
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const fs::path& path, std::string_view content,
                                 const AtomicWriteOptions& options,
                                 std::string_view display_path) {
  const fs::path dir = path.parent_path();
  if (absl::Status status = CreateDirectories(dir, display_path); !status.ok()) return status;

  // An existing directory at the path can never be replaced by a file.
  struct stat existing;
  const bool exists = ::lstat(path.c_str(), &existing) == 0;
  if (exists && S_ISDIR(existing.st_mode)) {
    return absl::FailedPreconditionError(StrCat("'", display_path, "' is a directory"));
  }
  if (exists && !options.replace) {
    return absl::AlreadyExistsError(
        StrCat("'", display_path, "' already exists; set overwrite to replace it"));
  }

  std::string temp_template = (dir / StrCat(kTempFilePrefix, "XXXXXX")).string();
  std::vector<char> temp_name(temp_template.begin(), temp_template.end());
  temp_name.push_back('\0');
  const int fd = ::mkostemp(temp_name.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "creating a temporary file for", display_path);
  FdCloser closer(fd);
  const fs::path temp_path(temp_name.data());

  auto fail = [&](absl::Status status) {
    ::unlink(temp_path.c_str());
    return status;
  };
  const mode_t mode = exists && S_ISREG(existing.st_mode) ? (existing.st_mode & 07777)
                                                          : options.mode;
  if (::fchmod(fd, mode) != 0) return fail(ErrnoError(errno, "setting mode of", display_path));
  if (absl::Status status = WriteAll(fd, content, display_path); !status.ok()) return fail(status);
  if (::fsync(fd) != 0) return fail(ErrnoError(errno, "syncing", display_path));
  if (::close(closer.release()) != 0) return fail(ErrnoError(errno, "closing", display_path));
  if (absl::Status status = RenamePath(temp_path, path, options.replace, display_path);
      !status.ok()) {
    return fail(status);
  }
  SyncDirectory(dir);
  return absl::OkStatus();
}

}  // namespace workerpair
