// Scratch space: one private directory per job, removed when the job ends however it ends, and
// a start-up sweep that removes what a crashed process left behind.
//
// Layout under the base directory (created 0700, must be a real directory owned by this user):
//
//   <base>/instance-<pid>-<16 hex>.lock   flock()ed by the live process for its whole life
//   <base>/instance-<pid>-<16 hex>/       that process's scratch
//       job-<job id>/payload/             the unpacked payload
//       job-<job id>/out/                 artifacts the job writes
//       upload-<n>-<16 hex>.part          a large payload arriving (ScratchFile), spilled
//                                         to disk instead of memory
//
// A process that dies, even by SIGKILL, releases its flock. Sweep takes each instance's lock
// without blocking: when it gets it, the owner is gone and its directory is removed. Only names
// of exactly that shape are considered; nothing else under the base is touched, and symlinks
// are never followed. Several processes may share one base (each sweeps only the dead).
//
//   WP_ASSIGN_OR_RETURN(std::unique_ptr<ScratchSpace> scratch, ScratchSpace::Open(base));
//   {
//     WP_ASSIGN_OR_RETURN(ScratchDir dir, scratch->CreateJobDir(job_id));
//     ... UnpackArchive(payload, dir.payload_dir(), limits) ...
//   }  // dir and everything in it are gone here
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_INTAKE_SCRATCH_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_INTAKE_SCRATCH_H_

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace workerpair::heavy::intake {

// "/tmp/workerpair-heavy-<euid>" ($TMPDIR instead of /tmp when set): the same for every process
// of one user, so a restarted process finds and sweeps its predecessor's leftovers.
std::filesystem::path DefaultScratchBase();

// What a sweep removed.
struct SweepReport {
  // Instance directories of dead processes removed.
  int instances_removed = 0;
  // Stale lock files removed.
  int locks_removed = 0;
};

// Removes the scratch of processes that are gone (see the file comment). FAILED_PRECONDITION
// when `base` is not a directory owned by this user.
absl::StatusOr<SweepReport> SweepScratch(const std::filesystem::path& base);

// A job's scratch directory; removes itself (recursively) on destruction. Move-only.
class ScratchDir {
 public:
  ScratchDir() = default;
  ~ScratchDir();
  ScratchDir(ScratchDir&& other) noexcept;
  ScratchDir& operator=(ScratchDir&& other) noexcept;
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  // The job's directory.
  const std::filesystem::path& path() const { return path_; }
  // An empty directory for the unpacked payload.
  std::filesystem::path payload_dir() const { return path_ / "payload"; }
  // An empty directory for the job's artifacts.
  std::filesystem::path out_dir() const { return path_ / "out"; }

  // Removes the directory now (also done by the destructor). Returns false when something
  // could not be removed.
  bool Remove();

 private:
  friend class ScratchSpace;
  explicit ScratchDir(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

// A file of this instance's scratch (0600), open for writing; closed and removed on destruction
// unless Release()d. Move-only.
class ScratchFile {
 public:
  ScratchFile() = default;
  ~ScratchFile();
  ScratchFile(ScratchFile&& other) noexcept;
  ScratchFile& operator=(ScratchFile&& other) noexcept;
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  // Appends all of `bytes`. RESOURCE_EXHAUSTED when the disk is full, INTERNAL for other
  // write errors; the message never names the server-side path.
  absl::Status Append(std::string_view bytes);
  const std::filesystem::path& path() const { return path_; }
  int fd() const { return fd_; }
  // Bytes appended so far.
  std::uint64_t size() const { return size_; }
  // Closes the descriptor and removes the file now (also done by the destructor).
  void Remove();
  // Closes the descriptor and gives up ownership: the file stays; its path is returned.
  std::filesystem::path Release();

 private:
  friend class ScratchSpace;
  ScratchFile(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::filesystem::path path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// This process's share of the scratch base.
class ScratchSpace {
 public:
  // Creates `base` (0700) when missing, sweeps dead instances' leftovers (reported through
  // `swept` when not null) and creates this instance's locked directory.
  // FAILED_PRECONDITION when `base` is not a directory owned by this user (e.g. a symlink
  // planted in /tmp); INTERNAL when it cannot be created.
  static absl::StatusOr<std::unique_ptr<ScratchSpace>> Open(const std::filesystem::path& base,
                                                            SweepReport* swept = nullptr);
  // Removes this instance's directory and lock.
  ~ScratchSpace();
  ScratchSpace(const ScratchSpace&) = delete;
  ScratchSpace& operator=(const ScratchSpace&) = delete;

  // Creates <instance>/job-<job_id>/{payload,out}. INVALID_ARGUMENT when `job_id` is empty or
  // has characters outside [A-Za-z0-9_-]; ALREADY_EXISTS when that job already has one.
  absl::StatusOr<ScratchDir> CreateJobDir(std::string_view job_id);

  // Creates <instance>/upload-<n>-<16 hex>.part, empty, for a payload that spills to disk.
  // INTERNAL when it cannot be created.
  absl::StatusOr<ScratchFile> CreateUploadFile();
  // Upload files present now (for tests).
  int CountUploadFiles() const;

  const std::filesystem::path& base() const { return base_; }
  const std::filesystem::path& instance_dir() const { return instance_dir_; }
  // Job directories present now (for tests and Info).
  int CountJobDirs() const;

 private:
  ScratchSpace(std::filesystem::path base, std::filesystem::path instance_dir,
               std::filesystem::path lock_path, int lock_fd)
      : base_(std::move(base)),
        instance_dir_(std::move(instance_dir)),
        lock_path_(std::move(lock_path)),
        lock_fd_(lock_fd) {}

  std::filesystem::path base_;
  std::filesystem::path instance_dir_;
  std::filesystem::path lock_path_;
  int lock_fd_ = -1;
  std::atomic<std::uint64_t> next_upload_{1};
};

}  // namespace workerpair::heavy::intake

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_INTAKE_SCRATCH_H_
