#include "services/heavy/core/intake/scratch.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <map>
#include <random>
#include <system_error>
#include <utility>

#include "libs/common/file_io.h"
#include "libs/common/str_cat.h"

namespace workerpair::heavy::intake {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kInstancePrefix = "instance-";
constexpr std::string_view kLockSuffix = ".lock";

// True for "instance-<digits>-<16 lowercase hex>".
bool IsInstanceName(std::string_view name) {
  if (name.substr(0, kInstancePrefix.size()) != kInstancePrefix) return false;
  name.remove_prefix(kInstancePrefix.size());
  const std::size_t dash = name.find('-');
  if (dash == 0 || dash == std::string_view::npos || dash > 10) return false;
  for (char c : name.substr(0, dash)) {
    if (c < '0' || c > '9') return false;
  }
  std::string_view hex = name.substr(dash + 1);
  if (hex.size() != 16) return false;
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string RandomHex16() {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t bits = random();
  std::string out;
  for (int i = 0; i < 16; ++i, bits >>= 4) out.push_back(kHex[bits & 0xf]);
  return out;
}

// Creates `base` when missing and checks that it is a real directory owned by us, 0700.
absl::Status EnsureBase(const fs::path& base) {
  if (::mkdir(base.c_str(), 0700) != 0 && errno != EEXIST) {
    if (errno == ENOENT) {
      std::error_code ec;
      fs::create_directories(base.parent_path(), ec);
      if (!ec && ::mkdir(base.c_str(), 0700) == 0) return EnsureBase(base);
    }
    return absl::InternalError(StrCat("cannot create the scratch directory (errno ", errno, ")"));
  }
  struct stat info {};
  if (::lstat(base.c_str(), &info) != 0) {
    return absl::InternalError(StrCat("cannot stat the scratch directory (errno ", errno, ")"));
  }
  if (!S_ISDIR(info.st_mode)) {
    return absl::FailedPreconditionError(
        StrCat("scratch base '", base.string(), "' is not a directory (a symlink or a file)"));
  }
  if (info.st_uid != ::geteuid()) {
    return absl::FailedPreconditionError(
        StrCat("scratch base '", base.string(), "' belongs to uid ", info.st_uid,
               ", not to this process's uid ", ::geteuid()));
  }
  if ((info.st_mode & 0077) != 0) ::chmod(base.c_str(), 0700);
  return absl::OkStatus();
}

bool IsRealDirectory(const fs::path& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

void RemoveTree(const fs::path& path) {
  std::error_code ec;
  fs::remove_all(path, ec);  // never follows symlinks inside the tree
}

}  // namespace

fs::path DefaultScratchBase() {
  const char* tmp = std::getenv("TMPDIR");
  const fs::path root = (tmp != nullptr && *tmp == '/') ? fs::path(tmp) : fs::path("/tmp");
  return root / StrCat("workerpair-heavy-", ::geteuid());
}

absl::StatusOr<SweepReport> SweepScratch(const fs::path& base) {
  if (absl::Status status = EnsureBase(base); !status.ok()) return status;
  // Group what is there by instance name: its directory and/or its lock file.
  std::map<std::string, std::pair<bool, bool>> instances;  // name -> (has dir, has lock)
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(base, ec)) {
    std::string name = entry.path().filename().string();
    if (name.size() > kLockSuffix.size() &&
        std::string_view(name).substr(name.size() - kLockSuffix.size()) == kLockSuffix) {
      name.resize(name.size() - kLockSuffix.size());
      if (IsInstanceName(name) && entry.is_regular_file(ec) && !entry.is_symlink(ec)) {
        instances[name].second = true;
      }
    } else if (IsInstanceName(name) && IsRealDirectory(entry.path())) {
      instances[name].first = true;
    }
  }
  if (ec) return absl::InternalError(StrCat("cannot list the scratch directory: ", ec.message()));

  SweepReport report;
  for (const auto& [name, present] : instances) {
    const fs::path dir = base / name;
    const fs::path lock = base / StrCat(name, kLockSuffix);
    int fd = -1;
    if (present.second) {
      fd = ::open(lock.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) continue;
      // Held: the owner is alive. Ours now: the owner is gone.
      if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        continue;
      }
    }
    // A directory without a lock file cannot belong to a live process: a process creates and
    // locks its lock file before its directory, and only a sweep removes a lock file, after
    // the directory.
    if (present.first) {
      RemoveTree(dir);
      ++report.instances_removed;
    }
    if (fd >= 0) {
      if (::unlink(lock.c_str()) == 0) ++report.locks_removed;
      ::close(fd);
    }
  }
  return report;
}

// ---------------------------------------------------------------------------------------------
// ScratchDir

ScratchDir::~ScratchDir() { Remove(); }

ScratchDir::ScratchDir(ScratchDir&& other) noexcept : path_(std::move(other.path_)) {
  other.path_.clear();
}

ScratchDir& ScratchDir::operator=(ScratchDir&& other) noexcept {
  if (this != &other) {
    Remove();
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

bool ScratchDir::Remove() {
  if (path_.empty()) return true;
  std::error_code ec;
  fs::remove_all(path_, ec);
  const bool gone = !ec && !fs::exists(fs::symlink_status(path_, ec));
  path_.clear();
  return gone;
}

// ---------------------------------------------------------------------------------------------
// ScratchSpace

absl::StatusOr<std::unique_ptr<ScratchSpace>> ScratchSpace::Open(const fs::path& base,
                                                                  SweepReport* swept) {
  if (base.empty() || !base.is_absolute()) {
    return absl::InvalidArgumentError(
        StrCat("the scratch directory must be an absolute path, got '", base.string(), "'"));
  }
  absl::StatusOr<SweepReport> report = SweepScratch(base);
  if (!report.ok()) return report.status();
  if (swept != nullptr) *swept = *report;

  for (int attempt = 0; attempt < 8; ++attempt) {
    const std::string name = StrCat(kInstancePrefix, ::getpid(), "-", RandomHex16());
    const fs::path lock = base / StrCat(name, kLockSuffix);
    const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      return absl::InternalError(StrCat("cannot create a scratch lock file (errno ", errno, ")"));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      continue;
    }
    // A concurrent sweep may have taken the fresh file for stale and unlinked it before we
    // locked it: make sure the path still names the file we hold.
    struct stat held {}, named {};
    if (::fstat(fd, &held) != 0 || ::lstat(lock.c_str(), &named) != 0 ||
        held.st_ino != named.st_ino || held.st_dev != named.st_dev) {
      ::close(fd);
      continue;
    }
    const fs::path dir = base / name;
    if (::mkdir(dir.c_str(), 0700) != 0) {
      const int error = errno;
      ::unlink(lock.c_str());
      ::close(fd);
      return absl::InternalError(StrCat("cannot create the instance scratch directory (errno ",
                                        error, ")"));
    }
    return std::unique_ptr<ScratchSpace>(new ScratchSpace(base, dir, lock, fd));
  }
  return absl::InternalError("cannot claim an instance scratch directory after 8 attempts");
}

ScratchSpace::~ScratchSpace() {
  RemoveTree(instance_dir_);
  ::unlink(lock_path_.c_str());
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

absl::StatusOr<ScratchDir> ScratchSpace::CreateJobDir(std::string_view job_id) {
  if (job_id.empty() || job_id.size() > 128) {
    return absl::InvalidArgumentError("job id must be 1-128 characters");
  }
  for (char c : job_id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return absl::InvalidArgumentError(StrCat("job id '", job_id, "' has a bad character"));
  }
  const fs::path dir = instance_dir_ / StrCat("job-", job_id);
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(StrCat("job '", job_id, "' already has a scratch directory"));
    }
    return absl::InternalError(StrCat("cannot create a job scratch directory (errno ", errno, ")"));
  }
  ScratchDir scratch(dir);
  if (::mkdir(scratch.payload_dir().c_str(), 0700) != 0 ||
      ::mkdir(scratch.out_dir().c_str(), 0700) != 0) {
    return absl::InternalError(StrCat("cannot populate a job scratch directory (errno ", errno, ")"));
  }
  return scratch;
}

absl::StatusOr<ScratchFile> ScratchSpace::CreateUploadFile() {
  const fs::path path =
      instance_dir_ / StrCat("upload-", next_upload_.fetch_add(1), "-", RandomHex16(), ".part");
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::InternalError(
        StrCat("cannot create an upload file in the scratch directory (errno ", errno, ")"));
  }
  return ScratchFile(path, fd);
}

int ScratchSpace::CountUploadFiles() const {
  int count = 0;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(instance_dir_, ec)) {
    if (entry.path().filename().string().rfind("upload-", 0) == 0) ++count;
  }
  return count;
}

// ---------------------------------------------------------------------------------------------
// ScratchFile

ScratchFile::~ScratchFile() { Remove(); }

ScratchFile::ScratchFile(ScratchFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(other.fd_), size_(other.size_) {
  other.path_.clear();
  other.fd_ = -1;
  other.size_ = 0;
}

ScratchFile& ScratchFile::operator=(ScratchFile&& other) noexcept {
  if (this != &other) {
    Remove();
    path_ = std::move(other.path_);
    fd_ = other.fd_;
    size_ = other.size_;
    other.path_.clear();
    other.fd_ = -1;
    other.size_ = 0;
  }
  return *this;
}

absl::Status ScratchFile::Append(std::string_view bytes) {
  if (fd_ < 0) return absl::FailedPreconditionError("the upload file is closed");
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOSPC || errno == EDQUOT) {
        return absl::ResourceExhaustedError("the scratch disk is full");
      }
      return absl::InternalError(StrCat("cannot write an upload file (errno ", errno, ")"));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
    size_ += static_cast<std::uint64_t>(n);
  }
  return absl::OkStatus();
}

void ScratchFile::Remove() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!path_.empty()) ::unlink(path_.c_str());
  path_.clear();
  size_ = 0;
}

std::filesystem::path ScratchFile::Release() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  size_ = 0;
  return std::exchange(path_, {});
}

int ScratchSpace::CountJobDirs() const {
  int count = 0;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(instance_dir_, ec)) {
    if (entry.path().filename().string().rfind("job-", 0) == 0) ++count;
  }
  return count;
}

}  // namespace workerpair::heavy::intake
