// Whole-file I/O with the safety properties the services promise: reads that refuse symlinks
// and oversize files, and writes that are atomic (temp file + fsync + rename) so a reader or a
// crash never sees a torn file.
//
//   WP_ASSIGN_OR_RETURN(std::string bytes, ReadFileCapped(path, "scene.xml", 16 << 20));
//   WP_RETURN_IF_ERROR(WriteFileAtomically(path, bytes, {.replace = false}, "scene.xml"));
//
// `display_path` is the name used in error messages (the client's relative path), so that
// messages never reveal the server's own directory layout.
#ifndef WORKERPAIR_LIBS_COMMON_FILE_IO_H_
#define WORKERPAIR_LIBS_COMMON_FILE_IO_H_

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace workerpair {

// Prefix of the temporary files WriteFileAtomically leaves while it works; listings skip them.
inline constexpr std::string_view kTempFilePrefix = ".wp-tmp-";

// Reads a whole regular file. NOT_FOUND if missing, FAILED_PRECONDITION if it is a directory or
// not a regular file, RESOURCE_EXHAUSTED if larger than `max_bytes`. Does not follow a symlink
// in the last component.
absl::StatusOr<std::string> ReadFileCapped(const std::filesystem::path& path,
                                           std::string_view display_path,
                                           std::uint64_t max_bytes);

struct AtomicWriteOptions {
  // Replace an existing file; when false an existing file gives ALREADY_EXISTS (checked
  // atomically with the rename, so two racing creators cannot both win).
  bool replace = true;
  // Permission bits for a new file; an existing file keeps its own.
  mode_t mode = 0644;
};

// Writes `content` to `path` through a temporary file in the same directory, fsyncs it, renames
// it into place and fsyncs the directory. Parent directories are created. On any failure the
// old file is untouched and the temporary file is removed.
absl::Status WriteFileAtomically(const std::filesystem::path& path, std::string_view content,
                                 const AtomicWriteOptions& options,
                                 std::string_view display_path);

// Creates `dir` and its missing parents. FAILED_PRECONDITION when a component is a file.
absl::Status CreateDirectories(const std::filesystem::path& dir, std::string_view display_path);

// Flushes a directory's entries (after a rename or unlink in it) to disk.
void SyncDirectory(const std::filesystem::path& dir);

// Renames `from` to `to`, refusing to replace an existing `to` when `replace` is false
// (ALREADY_EXISTS, atomically).
absl::Status RenamePath(const std::filesystem::path& from, const std::filesystem::path& to,
                        bool replace, std::string_view display_to);

// An error status for `errno_value` with a message saying what was being done, to which path.
absl::Status ErrnoError(int errno_value, std::string_view action, std::string_view display_path);

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_COMMON_FILE_IO_H_
