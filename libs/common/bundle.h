// The payload bundle: a deterministic gzipped tar of workspace files (worker-light packs it), and
// its safe extraction into a scratch directory (worker-heavy unpacks it).
//
//   WP_ASSIGN_OR_RETURN(PackResult packed, PackDirectory(workspace_root, {"scene.xml", "meshes"},
//                                                        PackOptions{}));
//   // ... packed.archive travels in chunks, checked against packed.sha256 ...
//   WP_ASSIGN_OR_RETURN(UnpackReport report, UnpackArchive(received, scratch_dir, UnpackLimits{}));
//
// Packing is deterministic: the same files (paths and bytes) give the same archive bytes,
// whatever their timestamps, owners or permission bits. Unpacking trusts nothing in the archive:
// every entry is validated in a first pass before anything is written (see UnpackArchive).
#ifndef WORKERPAIR_LIBS_COMMON_BUNDLE_H_
#define WORKERPAIR_LIBS_COMMON_BUNDLE_H_

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/call_budget.h"

namespace workerpair {

// Limits on what PackDirectory puts into one archive.
struct PackOptions {
  // Most bytes of file content (uncompressed) in one archive.
  std::uint64_t max_total_bytes = 256ull << 20;
  // Most entries (regular files plus directories) in one archive.
  std::uint32_t max_entries = 10000;
  // Largest single file.
  std::uint64_t max_file_bytes = 128ull << 20;
  // Polled between files and every MiB compressed; when it runs out packing stops with its
  // CANCELLED / DEADLINE_EXCEEDED. Null for none.
  const CallBudget* budget = nullptr;
};

struct PackResult {
  // The gzipped tar bytes.
  std::string archive;
  // SHA-256 of `archive`, 64 lowercase hex characters.
  std::string sha256;
  // Number of regular files in the archive (== files.size()).
  std::uint32_t file_count = 0;
  // Sum of the packed files' sizes (uncompressed).
  std::uint64_t total_bytes = 0;
  // Relative, '/'-separated paths of the regular files packed, sorted.
  std::vector<std::string> files;
};

// PackDirectory()
//
// Packs the regular files under `root` into a deterministic gzipped tar. With an empty
// `relative_paths` the whole of `root` is packed; otherwise only the named paths, each a file or
// a directory (packed recursively) under `root`, resolved with ConfinePath ("." names the root).
//
// Entries are sorted by path; every entry has mtime 0, uid/gid 0, no user/group names and mode
// 0644 (directories 0755, listed before their content, ancestors of named paths included); the
// gzip header carries no timestamp and no file name. Symlinks and special files are skipped and
// never followed; `.git` directories and files named with kTempFilePrefix are skipped.
//
// Errors:
//   NOT_FOUND           a named path does not exist
//   INVALID_ARGUMENT    a named path is malformed (see ConfinePath), is a symlink or a special file
//   PERMISSION_DENIED   a named path leads outside `root` (absolute, `..`, symlink)
//   RESOURCE_EXHAUSTED  over a limit of `options`; the message names the limit and the path
//   INTERNAL            reading a file or writing the archive failed
absl::StatusOr<PackResult> PackDirectory(const std::filesystem::path& root,
                                         const std::vector<std::string>& relative_paths,
                                         const PackOptions& options);

// Limits UnpackArchive enforces on untrusted archives.
struct UnpackLimits {
  // Largest accepted archive (the gzipped bytes).
  std::uint64_t max_compressed_bytes = 256ull << 20;
  // Most bytes of file content written in total.
  std::uint64_t max_unpacked_bytes = 1ull << 30;
  // Most entries (every tar header counts).
  std::uint32_t max_entries = 10000;
  // Largest single file.
  std::uint64_t max_file_bytes = 512ull << 20;
  // Most unpacked bytes per compressed byte, measured on the bytes actually decompressed. It is
  // enforced once more than kRatioFloorBytes have been unpacked, so a small, very repetitive
  // payload is not refused for its ratio alone.
  double max_compression_ratio = 200.0;
};

// Unpacked bytes below which max_compression_ratio is not enforced (1 MiB).
inline constexpr std::uint64_t kRatioFloorBytes = 1ull << 20;

struct UnpackReport {
  // Regular files written.
  std::uint32_t files = 0;
  // Directories created (named by an entry or implied by a file's path).
  std::uint32_t directories = 0;
  // Sum of the files' sizes.
  std::uint64_t unpacked_bytes = 0;
  // Normalised relative paths of the files written, in archive order.
  std::vector<std::string> paths;
};

// UnpackArchive()
//
// Unpacks the gzipped tar `archive` into `destination`, an existing, empty directory.
//
// A first pass reads the whole archive and validates every entry before anything is written:
// only regular files and directories; no absolute path, no `..` component, no symlink,
// hardlink, device, fifo or socket; no empty, over-long (1024 bytes, component 255) or
// duplicate names, and no file where another entry needs a directory; entry count, per-file and
// total sizes and the compression ratio are capped on the bytes as they decompress, not on what
// headers claim. The second pass writes the files with openat(O_CREAT | O_EXCL | O_NOFOLLOW)
// under a directory descriptor held on `destination`; it never changes the working directory.
// Files get mode 0644 and directories 0755, whatever the archive says. Leading "./" is ignored.
// The gzip stream is inflated with zlib, which verifies its CRC-32 and length to the last byte.
//
// Errors:
//   INVALID_ARGUMENT    empty payload, not gzip, malformed or truncated archive, bad names,
//                       duplicate or conflicting entries
//   PERMISSION_DENIED   an entry that would escape or is not a plain file or directory
//                       (absolute path, `..`, symlink, hardlink, device, fifo, socket)
//   RESOURCE_EXHAUSTED  over a limit; the message names the limit, its value and the entry
//   FAILED_PRECONDITION `destination` is not an existing, empty directory
//   INTERNAL            a filesystem write failed
// On any error everything written under `destination` is removed; `destination` itself stays.
absl::StatusOr<UnpackReport> UnpackArchive(std::string_view archive,
                                           const std::filesystem::path& destination,
                                           const UnpackLimits& limits);

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_COMMON_BUNDLE_H_
