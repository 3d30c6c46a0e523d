#include "libs/common/bundle.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "absl/status/status.h"
#include "libs/common/file_io.h"
#include "libs/common/path_confinement.h"
#include "libs/common/sha256.h"
#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"

namespace workerpair {
namespace fs = std::filesystem;
namespace {

// Longest accepted entry name and component, in bytes (as ConfinePath's defaults).
constexpr std::size_t kMaxNameBytes = 1024;
constexpr std::size_t kMaxComponentBytes = 255;
// Size of the blocks file content is read and decompressed in.
constexpr std::size_t kBlockBytes = 64 << 10;

// Quotes a path for an error message, cut short so a huge name cannot flood logs.
std::string Quote(std::string_view path) {
  constexpr std::size_t kMaxShown = 200;
  if (path.size() <= kMaxShown) return StrCat("'", path, "'");
  return StrCat("'", path.substr(0, kMaxShown), "...'");
}

struct ArchiveWriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct ArchiveReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct ArchiveEntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ArchiveWriter = std::unique_ptr<archive, ArchiveWriteFree>;
using ArchiveReader = std::unique_ptr<archive, ArchiveReadFree>;
using ArchiveEntry = std::unique_ptr<archive_entry, ArchiveEntryFree>;

std::string ArchiveError(archive* a) {
  const char* message = archive_error_string(a);
  return message != nullptr ? std::string(message) : std::string("unknown libarchive error");
}

// A file descriptor closed at scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  // Closes now, reporting close's errno (0 on success).
  int Close() {
    const int fd = std::exchange(fd_, -1);
    return fd >= 0 && ::close(fd) != 0 ? errno : 0;
  }

 private:
  int fd_;
};

// ---------------------------------------------------------------------------------------------
// Packing

enum class Kind { kDirectory, kFile };

// Entries to pack, by relative path; std::map keeps them sorted byte-wise, which puts every
// directory before its content.
using PackPlan = std::map<std::string, Kind>;

bool IsExcludedName(std::string_view name, bool is_directory) {
  if (is_directory) return name == ".git";
  return name.substr(0, kTempFilePrefix.size()) == kTempFilePrefix;
}

// Adds `relative` and its ancestors; RESOURCE_EXHAUSTED past the entry limit.
absl::Status AddToPlan(PackPlan& plan, const std::string& relative, Kind kind,
                       const PackOptions& options) {
  for (std::size_t slash = relative.find('/'); slash != std::string::npos;
       slash = relative.find('/', slash + 1)) {
    plan.emplace(relative.substr(0, slash), Kind::kDirectory);
  }
  plan.emplace(relative, kind);
  if (plan.size() > options.max_entries) {
    return absl::ResourceExhaustedError(
        StrCat("bundle has more than max_entries (", options.max_entries, ") entries at ",
               Quote(relative)));
  }
  return absl::OkStatus();
}

// Adds everything under the directory `relative` ("" for the root), never following symlinks.
absl::Status WalkIntoPlan(const fs::path& root, const std::string& relative, PackPlan& plan,
                          const PackOptions& options) {
  const fs::path dir = relative.empty() ? root : root / relative;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    return absl::InternalError(StrCat("cannot list ", Quote(relative.empty() ? "." : relative),
                                      ": ", ec.message()));
  }
  for (const fs::directory_entry& entry : it) {
    const std::string name = entry.path().filename().string();
    const std::string child = relative.empty() ? name : StrCat(relative, "/", name);
    const fs::file_status status = entry.symlink_status(ec);
    if (ec) continue;  // vanished while listing
    if (fs::is_directory(status)) {
      if (IsExcludedName(name, true)) continue;
      WP_RETURN_IF_ERROR(AddToPlan(plan, child, Kind::kDirectory, options));
      WP_RETURN_IF_ERROR(WalkIntoPlan(root, child, plan, options));
    } else if (fs::is_regular_file(status)) {
      if (IsExcludedName(name, false)) continue;
      WP_RETURN_IF_ERROR(AddToPlan(plan, child, Kind::kFile, options));
    }
    // Symlinks, sockets, fifos and devices are not part of a bundle.
  }
  return absl::OkStatus();
}

// Adds one client-named path (a file or a directory under root) to the plan.
absl::Status AddNamedPath(const fs::path& root, const std::string& client_path, PackPlan& plan,
                          const PackOptions& options) {
  ConfineOptions confine;
  confine.allow_root = true;
  confine.follow_final_symlink = false;
  WP_ASSIGN_OR_RETURN(fs::path resolved, ConfinePath(root, client_path, confine));
  struct stat st;
  if (::lstat(resolved.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return absl::NotFoundError(StrCat("path ", Quote(client_path), " does not exist"));
    }
    return ErrnoError(errno, "stat", client_path);
  }
  const std::string relative = RelativeToRoot(root, resolved);
  if (relative == ".") return WalkIntoPlan(root, "", plan, options);
  // A named path inside an excluded place is refused rather than silently dropped.
  for (std::size_t begin = 0; begin <= relative.size();) {
    const std::size_t slash = std::min(relative.find('/', begin), relative.size());
    const std::string_view part = std::string_view(relative).substr(begin, slash - begin);
    const bool last = slash == relative.size();
    if (IsExcludedName(part, !last || S_ISDIR(st.st_mode))) {
      return absl::InvalidArgumentError(
          StrCat("path ", Quote(client_path), " is excluded from bundles (.git or a temporary file)"));
    }
    begin = slash + 1;
  }
  if (S_ISDIR(st.st_mode)) {
    WP_RETURN_IF_ERROR(AddToPlan(plan, relative, Kind::kDirectory, options));
    return WalkIntoPlan(root, relative, plan, options);
  }
  if (S_ISREG(st.st_mode)) return AddToPlan(plan, relative, Kind::kFile, options);
  if (S_ISLNK(st.st_mode)) {
    return absl::InvalidArgumentError(
        StrCat("path ", Quote(client_path), " is a symlink; bundles never carry or follow symlinks"));
  }
  return absl::InvalidArgumentError(
      StrCat("path ", Quote(client_path), " is not a regular file or a directory"));
}

// Reads a regular file whole, refusing symlinks and anything over `max_bytes`. NOT_FOUND when
// it vanished (or turned into a symlink) since the walk.
absl::StatusOr<std::string> ReadPackedFile(const fs::path& path, const std::string& relative,
                                           std::uint64_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT || errno == ELOOP) {
      return absl::NotFoundError(StrCat(Quote(relative), " vanished while bundling"));
    }
    return ErrnoError(errno, "open", relative);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoError(errno, "stat", relative);
  if (!S_ISREG(st.st_mode)) {
    return absl::NotFoundError(StrCat(Quote(relative), " is no longer a regular file"));
  }
  const auto too_big = [&](std::uint64_t size) {
    return absl::ResourceExhaustedError(StrCat("file ", Quote(relative), " is ", size,
                                               " bytes or more, over max_file_bytes (", max_bytes,
                                               ")"));
  };
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) return too_big(st.st_size);
  std::string content;
  content.reserve(static_cast<std::size_t>(st.st_size));
  char buffer[kBlockBytes];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "read", relative);
    }
    if (n == 0) break;
    content.append(buffer, static_cast<std::size_t>(n));
    if (content.size() > max_bytes) return too_big(content.size());  // grew while reading
  }
  return content;
}

la_ssize_t AppendToString(archive*, void* client_data, const void* buffer, size_t length) {
  static_cast<std::string*>(client_data)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

absl::Status WriterError(archive* a, std::string_view what) {
  return absl::InternalError(StrCat("writing the bundle (", what, "): ", ArchiveError(a)));
}

// ---------------------------------------------------------------------------------------------
// Unpacking

// Splits an entry name into normalised components: "" and "." vanish; absolute names and `..`
// are PERMISSION_DENIED, over-long ones INVALID_ARGUMENT.
absl::StatusOr<std::vector<std::string>> NormaliseEntryName(std::string_view name) {
  if (name.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(StrCat("entry ", Quote(name), " has a name of ", name.size(),
                                             " bytes, over the limit of ", kMaxNameBytes));
  }
  if (!name.empty() && name.front() == '/') {
    return absl::PermissionDeniedError(
        StrCat("entry ", Quote(name), " has an absolute path; bundle paths must be relative"));
  }
  std::vector<std::string> components;
  for (std::size_t begin = 0; begin <= name.size();) {
    const std::size_t slash = std::min(name.find('/', begin), name.size());
    const std::string_view part = name.substr(begin, slash - begin);
    begin = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      return absl::PermissionDeniedError(
          StrCat("entry ", Quote(name), " has a '..' component and would escape the destination"));
    }
    if (part.size() > kMaxComponentBytes) {
      return absl::InvalidArgumentError(StrCat("entry ", Quote(name), " has a component of ",
                                               part.size(), " bytes, over the limit of ",
                                               kMaxComponentBytes));
    }
    components.emplace_back(part);
  }
  return components;
}

std::string JoinComponents(const std::vector<std::string>& components, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0) out.push_back('/');
    out.append(components[i]);
  }
  return out;
}

// One entry that passed validation, in archive order.
struct PlannedEntry {
  std::vector<std::string> components;
  std::string path;  // components joined by '/'
  bool is_directory = false;
  std::uint64_t size = 0;  // bytes actually decompressed (files)
};

// Inflates the in-memory gzip payload block by block for libarchive (which reads the tar
// stream from it). zlib verifies each member's CRC-32 and length, which libarchive's own gzip
// reader does not; `produced()` counts the bytes actually decompressed.
class GzipSource {
 public:
  explicit GzipSource(std::string_view compressed) : buffer_(kBlockBytes) {
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
    stream_.avail_in = static_cast<uInt>(compressed.size());
    // 16 + MAX_WBITS: gzip framing only (no zlib or raw deflate).
    initialised_ = inflateInit2(&stream_, 16 + MAX_WBITS) == Z_OK;
  }
  ~GzipSource() {
    if (initialised_) inflateEnd(&stream_);
  }
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;

  // libarchive's read callback.
  static la_ssize_t Read(archive* a, void* self, const void** out) {
    auto* source = static_cast<GzipSource*>(self);
    absl::StatusOr<std::size_t> n = source->Next();
    if (!n.ok()) {
      archive_set_error(a, EINVAL, "%s", std::string(n.status().message()).c_str());
      return -1;
    }
    *out = source->buffer_.data();
    return static_cast<la_ssize_t>(*n);
  }

  // Decompresses the next block into buffer_; 0 at the verified end of the payload.
  absl::StatusOr<std::size_t> Next() {
    if (!initialised_) return absl::InternalError("cannot initialise zlib");
    for (;;) {
      if (finished_) return 0;
      stream_.next_out = reinterpret_cast<Bytef*>(buffer_.data());
      stream_.avail_out = static_cast<uInt>(buffer_.size());
      const int r = inflate(&stream_, Z_NO_FLUSH);
      const std::size_t n = buffer_.size() - stream_.avail_out;
      produced_ += n;
      if (r == Z_STREAM_END) {
        // Another gzip member may follow (concatenated gzip is still gzip).
        if (stream_.avail_in == 0) {
          finished_ = true;
        } else if (inflateReset(&stream_) != Z_OK) {
          return absl::InvalidArgumentError("payload has bytes after its gzip stream");
        }
      } else if (r == Z_BUF_ERROR && stream_.avail_in == 0) {
        return absl::InvalidArgumentError("gzip stream is truncated");
      } else if (r != Z_OK && r != Z_BUF_ERROR) {
        return absl::InvalidArgumentError(StrCat(
            "gzip stream is corrupt: ", stream_.msg != nullptr ? stream_.msg : "inflate failed"));
      }
      if (n > 0) return n;
    }
  }

  std::uint64_t produced() const { return produced_; }

 private:
  z_stream stream_{};
  bool initialised_ = false;
  bool finished_ = false;
  std::uint64_t produced_ = 0;
  std::vector<char> buffer_;
};

// Opens a tar reader over `source`: only the tar formats are enabled, no filters.
absl::StatusOr<ArchiveReader> OpenReader(GzipSource& source) {
  ArchiveReader reader(archive_read_new());
  if (!reader) return absl::ResourceExhaustedError("cannot allocate an archive reader");
  archive* a = reader.get();
  if (archive_read_support_format_tar(a) != ARCHIVE_OK) {
    return absl::InternalError(StrCat("cannot set up the archive reader: ", ArchiveError(a)));
  }
  if (archive_read_open(a, &source, nullptr, &GzipSource::Read, nullptr) != ARCHIVE_OK) {
    return absl::InvalidArgumentError(
        StrCat("payload is not a readable gzipped tar: ", ArchiveError(a)));
  }
  return reader;
}

// Tracks the bytes decompressed so far against the limits; every read goes through Check.
class UnpackBudget {
 public:
  UnpackBudget(const UnpackLimits& limits, std::uint64_t compressed_bytes)
      : limits_(limits), compressed_bytes_(compressed_bytes) {}

  // Counts `n` more bytes of the file `path` (now `file_bytes` long) and checks every cap, the
  // ratio on the whole decompressed stream (`stream_bytes`, headers included).
  absl::Status Check(std::string_view path, std::uint64_t file_bytes, std::uint64_t n,
                     std::uint64_t stream_bytes) {
    total_bytes_ += n;
    if (file_bytes > limits_.max_file_bytes) {
      return absl::ResourceExhaustedError(StrCat("entry ", Quote(path), " unpacks to more than max_file_bytes (",
                                                 limits_.max_file_bytes, ")"));
    }
    if (total_bytes_ > limits_.max_unpacked_bytes) {
      return absl::ResourceExhaustedError(
          StrCat("archive unpacks to more than max_unpacked_bytes (", limits_.max_unpacked_bytes,
                 "), reached at entry ", Quote(path)));
    }
    return CheckRatio(path, stream_bytes);
  }

  absl::Status CheckRatio(std::string_view path, std::uint64_t stream_bytes) const {
    const std::uint64_t unpacked =
        std::max(total_bytes_, stream_bytes);
    if (unpacked > kRatioFloorBytes &&
        static_cast<double>(unpacked) >
            limits_.max_compression_ratio * static_cast<double>(compressed_bytes_)) {
      return absl::ResourceExhaustedError(
          StrCat("archive of ", compressed_bytes_, " bytes unpacks to more than ", unpacked,
                 " bytes, over max_compression_ratio (", limits_.max_compression_ratio,
                 "), at entry ", Quote(path)));
    }
    return absl::OkStatus();
  }

  std::uint64_t total_bytes() const { return total_bytes_; }

 private:
  const UnpackLimits& limits_;
  const std::uint64_t compressed_bytes_;
  std::uint64_t total_bytes_ = 0;
};

// The error for an archive libarchive could not read further.
absl::Status MalformedError(archive* a, std::string_view where) {
  return absl::InvalidArgumentError(
      StrCat("archive is malformed or truncated (", where, "): ", ArchiveError(a)));
}

// Reads the next header; nullptr at the end of the archive.
absl::StatusOr<archive_entry*> NextHeader(archive* a, std::size_t index) {
  archive_entry* entry = nullptr;
  const int r = archive_read_next_header(a, &entry);
  if (r == ARCHIVE_EOF) return nullptr;
  if ((r != ARCHIVE_OK && r != ARCHIVE_WARN) || entry == nullptr) return MalformedError(a, StrCat("entry #", index));
  return entry;
}

// Pass one: reads every header and every byte, validating all of it, writing nothing.
absl::StatusOr<std::vector<PlannedEntry>> ValidateArchive(std::string_view archive_bytes,
                                                          const UnpackLimits& limits) {
  GzipSource source(archive_bytes);
  WP_ASSIGN_OR_RETURN(ArchiveReader reader, OpenReader(source));
  archive* a = reader.get();
  UnpackBudget budget(limits, archive_bytes.size());
  std::vector<PlannedEntry> plan;
  // Every path an entry creates or needs, and whether it is a directory.
  std::unordered_map<std::string, bool> kinds;
  std::vector<char> buffer(kBlockBytes);
  for (std::size_t index = 0;; ++index) {
    WP_ASSIGN_OR_RETURN(archive_entry * entry, NextHeader(a, index));
    if (entry == nullptr) break;
    if (index + 1 > limits.max_entries) {
      return absl::ResourceExhaustedError(StrCat("archive has more than max_entries (",
                                                 limits.max_entries, ") entries"));
    }
    const char* raw_name = archive_entry_pathname(entry);
    if (raw_name == nullptr || raw_name[0] == '\0') {
      return absl::InvalidArgumentError(StrCat("entry #", index, " has no name"));
    }
    const std::string_view name(raw_name);

    // Only plain files and directories; links of any kind and special files are refused.
    if (archive_entry_hardlink(entry) != nullptr) {
      return absl::PermissionDeniedError(
          StrCat("entry ", Quote(name), " is a hardlink; bundles may hold only files and directories"));
    }
    const mode_t type = archive_entry_filetype(entry);
    if (type == AE_IFLNK || archive_entry_symlink(entry) != nullptr) {
      return absl::PermissionDeniedError(
          StrCat("entry ", Quote(name), " is a symlink; bundles may hold only files and directories"));
    }
    if (type != AE_IFREG && type != AE_IFDIR) {
      const char* what = type == AE_IFCHR   ? "a character device"
                         : type == AE_IFBLK ? "a block device"
                         : type == AE_IFIFO ? "a fifo"
                         : type == AE_IFSOCK ? "a socket"
                                             : "of an unknown type";
      return absl::PermissionDeniedError(StrCat("entry ", Quote(name), " is ", what,
                                                "; bundles may hold only files and directories"));
    }
    const bool is_directory = type == AE_IFDIR;
    WP_ASSIGN_OR_RETURN(std::vector<std::string> components, NormaliseEntryName(name));
    if (components.empty()) {
      if (is_directory) continue;  // "." or "./": the destination itself
      return absl::InvalidArgumentError(StrCat("file entry ", Quote(name), " names no file"));
    }

    // Names must fit together: no file where a directory is needed, no file twice.
    PlannedEntry planned;
    planned.path = JoinComponents(components, components.size());
    for (std::size_t depth = 1; depth < components.size(); ++depth) {
      const auto [it, inserted] = kinds.emplace(JoinComponents(components, depth), true);
      if (!inserted && !it->second) {
        return absl::InvalidArgumentError(StrCat("entry ", Quote(planned.path), " needs ",
                                                 Quote(it->first),
                                                 " to be a directory, but it is a file entry"));
      }
    }
    const auto [it, inserted] = kinds.emplace(planned.path, is_directory);
    if (!inserted && (!is_directory || !it->second)) {
      return absl::InvalidArgumentError(StrCat("entry ", Quote(planned.path),
                                               " appears twice or as both file and directory"));
    }
    planned.components = std::move(components);
    planned.is_directory = is_directory;

    // Decompress the content, counting the bytes that actually come out.
    if (!is_directory) {
      if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0 &&
          static_cast<std::uint64_t>(archive_entry_size(entry)) > limits.max_file_bytes) {
        return absl::ResourceExhaustedError(StrCat("entry ", Quote(planned.path), " declares ",
                                                   archive_entry_size(entry),
                                                   " bytes, over max_file_bytes (",
                                                   limits.max_file_bytes, ")"));
      }
      for (;;) {
        const la_ssize_t n = archive_read_data(a, buffer.data(), buffer.size());
        if (n < 0) return MalformedError(a, StrCat("content of ", Quote(planned.path)));
        if (n == 0) break;
        planned.size += static_cast<std::uint64_t>(n);
        WP_RETURN_IF_ERROR(budget.Check(planned.path, planned.size, static_cast<std::uint64_t>(n),
                                        source.produced()));
      }
    }
    WP_RETURN_IF_ERROR(budget.CheckRatio(planned.path, source.produced()));
    plan.push_back(std::move(planned));
  }
  // Whatever follows the tar's end must still be valid gzip, with a good CRC, and no bomb.
  for (;;) {
    WP_ASSIGN_OR_RETURN(std::size_t n, source.Next());
    if (n == 0) break;
    WP_RETURN_IF_ERROR(budget.CheckRatio("(after the last entry)", source.produced()));
  }
  return plan;
}

// Opens (creating when missing) the directory `name` under `parent`, never following a symlink.
absl::StatusOr<Fd> OpenOrMakeDirectory(int parent, const std::string& name,
                                       std::string_view display, std::uint32_t& created) {
  if (::mkdirat(parent, name.c_str(), 0755) == 0) {
    ++created;
  } else if (errno != EEXIST) {
    return ErrnoError(errno, "create directory", display);
  }
  Fd fd(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoError(errno, "open directory", display);
  return fd;
}

absl::Status WriteAll(int fd, const char* data, std::size_t size, std::string_view display) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "write", display);
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return absl::OkStatus();
}

// Pass two: writes the validated entries under `destination_fd`.
absl::Status WriteEntries(std::string_view archive_bytes, const std::vector<PlannedEntry>& plan,
                          int destination_fd, const UnpackLimits& limits, UnpackReport& report) {
  GzipSource source(archive_bytes);
  WP_ASSIGN_OR_RETURN(ArchiveReader reader, OpenReader(source));
  archive* a = reader.get();
  UnpackBudget budget(limits, archive_bytes.size());
  std::vector<char> buffer(kBlockBytes);
  std::size_t next = 0;
  for (std::size_t index = 0;; ++index) {
    WP_ASSIGN_OR_RETURN(archive_entry * entry, NextHeader(a, index));
    if (entry == nullptr) break;
    const char* raw_name = archive_entry_pathname(entry);
    WP_ASSIGN_OR_RETURN(std::vector<std::string> components,
                        NormaliseEntryName(raw_name != nullptr ? raw_name : ""));
    if (components.empty()) continue;  // the destination itself, as in pass one
    // The same bytes must give the same entries as in pass one.
    if (next >= plan.size() || plan[next].components != components) {
      return absl::InternalError("archive changed between validation and extraction");
    }
    const PlannedEntry& planned = plan[next++];

    // Walk down to the parent, creating directories as needed.
    const std::size_t parent_depth =
        planned.is_directory ? components.size() : components.size() - 1;
    Fd parent;
    int parent_fd = destination_fd;
    for (std::size_t depth = 0; depth < parent_depth; ++depth) {
      WP_ASSIGN_OR_RETURN(Fd child, OpenOrMakeDirectory(parent_fd, components[depth],
                                                        JoinComponents(components, depth + 1),
                                                        report.directories));
      parent = std::move(child);
      parent_fd = parent.get();
    }
    if (planned.is_directory) continue;

    // Create the file exclusively and copy its content, re-checking every cap.
    Fd file(::openat(parent_fd, components.back().c_str(),
                     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (file.get() < 0) return ErrnoError(errno, "create", planned.path);
    std::uint64_t written = 0;
    for (;;) {
      const la_ssize_t n = archive_read_data(a, buffer.data(), buffer.size());
      if (n < 0) return MalformedError(a, StrCat("content of ", Quote(planned.path)));
      if (n == 0) break;
      written += static_cast<std::uint64_t>(n);
      WP_RETURN_IF_ERROR(budget.Check(planned.path, written, static_cast<std::uint64_t>(n),
                                      source.produced()));
      WP_RETURN_IF_ERROR(WriteAll(file.get(), buffer.data(), static_cast<std::size_t>(n),
                                  planned.path));
    }
    if (const int error = file.Close(); error != 0) {
      return ErrnoError(error, "close", planned.path);
    }
    ++report.files;
    report.unpacked_bytes += written;
    report.paths.push_back(planned.path);
  }
  if (next != plan.size()) {
    return absl::InternalError("archive changed between validation and extraction");
  }
  return absl::OkStatus();
}

// Removes everything under `destination`, leaving the directory itself.
void EmptyDirectory(const fs::path& destination) {
  std::error_code ec;
  std::vector<fs::path> children;
  for (fs::directory_iterator it(destination, ec), end; !ec && it != end; it.increment(ec)) {
    children.push_back(it->path());
  }
  for (const fs::path& child : children) fs::remove_all(child, ec);
}

}  // namespace

absl::StatusOr<PackResult> PackDirectory(const fs::path& root,
                                         const std::vector<std::string>& relative_paths,
                                         const PackOptions& options) {
  std::error_code ec;
  const fs::path canonical_root = fs::canonical(root, ec);
  if (ec || !fs::is_directory(canonical_root, ec)) {
    return absl::NotFoundError("the directory to bundle does not exist");
  }

  // Decide what goes in: the whole root, or the named paths (deduplicated, sorted).
  PackPlan plan;
  if (relative_paths.empty()) {
    WP_RETURN_IF_ERROR(WalkIntoPlan(canonical_root, "", plan, options));
  } else {
    for (const std::string& path : relative_paths) {
      WP_RETURN_IF_ERROR(AddNamedPath(canonical_root, path, plan, options));
    }
  }

  // A gzipped POSIX tar written into memory; no timestamp in the gzip header, no padding after it.
  PackResult result;
  ArchiveWriter writer(archive_write_new());
  if (!writer) return absl::ResourceExhaustedError("cannot allocate an archive writer");
  archive* a = writer.get();
  if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
      archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
      archive_write_set_filter_option(a, "gzip", "timestamp", nullptr) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
      archive_write_open2(a, &result.archive, nullptr, AppendToString, nullptr, nullptr) !=
          ARCHIVE_OK) {
    return WriterError(a, "setup");
  }

  ArchiveEntry entry(archive_entry_new());
  if (!entry) return absl::ResourceExhaustedError("cannot allocate an archive entry");
  for (const auto& [relative, kind] : plan) {
    if (options.budget != nullptr) WP_RETURN_IF_ERROR(options.budget->Check());
    std::string content;
    if (kind == Kind::kFile) {
      absl::StatusOr<std::string> read =
          ReadPackedFile(canonical_root / relative, relative, options.max_file_bytes);
      if (absl::IsNotFound(read.status())) continue;  // deleted since the walk: not in the bundle
      if (!read.ok()) return read.status();
      content = std::move(read).value();
      if (result.total_bytes + content.size() > options.max_total_bytes) {
        return absl::ResourceExhaustedError(
            StrCat("bundle content exceeds max_total_bytes (", options.max_total_bytes,
                   ") at file ", Quote(relative)));
      }
    }
    // Everything but the path, the type and the size is fixed.
    archive_entry_clear(entry.get());
    archive_entry_set_pathname(entry.get(), relative.c_str());
    archive_entry_set_filetype(entry.get(), kind == Kind::kFile ? AE_IFREG : AE_IFDIR);
    archive_entry_set_perm(entry.get(), kind == Kind::kFile ? 0644 : 0755);
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(content.size()));
    archive_entry_set_mtime(entry.get(), 0, 0);
    archive_entry_set_uid(entry.get(), 0);
    archive_entry_set_gid(entry.get(), 0);
    if (archive_write_header(a, entry.get()) != ARCHIVE_OK) {
      return WriterError(a, StrCat("header of ", Quote(relative)));
    }
    // In 1 MiB pieces, so a long compression can stop for the budget.
    constexpr std::size_t kPiece = 1u << 20;
    for (std::size_t offset = 0; offset < content.size(); offset += kPiece) {
      if (offset > 0 && options.budget != nullptr) WP_RETURN_IF_ERROR(options.budget->Check());
      const std::size_t size = std::min(kPiece, content.size() - offset);
      if (archive_write_data(a, content.data() + offset, size) != static_cast<la_ssize_t>(size)) {
        return WriterError(a, StrCat("content of ", Quote(relative)));
      }
    }
    if (kind == Kind::kFile) {
      result.total_bytes += content.size();
      result.files.push_back(relative);
    }
  }
  if (archive_write_close(a) != ARCHIVE_OK) return WriterError(a, "close");

  result.file_count = static_cast<std::uint32_t>(result.files.size());
  result.sha256 = Sha256Hex(result.archive);
  return result;
}

absl::StatusOr<UnpackReport> UnpackArchive(std::string_view archive_bytes,
                                           const fs::path& destination,
                                           const UnpackLimits& limits) {
  // Cheap checks on the payload itself.
  if (archive_bytes.empty()) return absl::InvalidArgumentError("payload is empty");
  if (archive_bytes.size() > limits.max_compressed_bytes) {
    return absl::ResourceExhaustedError(StrCat("payload is ", archive_bytes.size(),
                                               " bytes, over max_compressed_bytes (",
                                               limits.max_compressed_bytes, ")"));
  }
  if (archive_bytes.size() < 2 || static_cast<unsigned char>(archive_bytes[0]) != 0x1f ||
      static_cast<unsigned char>(archive_bytes[1]) != 0x8b) {
    return absl::InvalidArgumentError("payload is not gzip (a gzipped tar is expected)");
  }

  // The destination: an existing, empty directory, held open for the whole extraction.
  Fd destination_fd(::open(destination.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (destination_fd.get() < 0) {
    return absl::FailedPreconditionError("unpack destination is not an existing directory");
  }
  std::error_code ec;
  if (!fs::is_empty(destination, ec) || ec) {
    return absl::FailedPreconditionError("unpack destination is not empty");
  }

  // Pass one validates everything; pass two writes. Any failure leaves the destination empty.
  WP_ASSIGN_OR_RETURN(std::vector<PlannedEntry> plan, ValidateArchive(archive_bytes, limits));
  UnpackReport report;
  if (absl::Status status = WriteEntries(archive_bytes, plan, destination_fd.get(), limits, report);
      !status.ok()) {
    EmptyDirectory(destination);
    return status;
  }
  return report;
}

}  // namespace workerpair
