// WorkspaceFiles: the file operations of worker-light, on one workspace at a time.
//
// Every client path goes through ConfinePath first, so nothing outside the workspace is read or
// written. Writes go through the staging area (staging_area.h) and are atomic; mutations take
// the workspace's locks as workspace_locks.h describes, so read-modify-write calls (edit, write
// with an expected hash) are serialised per file and a commit never sees half a move. Errors
// name the client's path, never the server's directories.
//
//   WorkspaceFiles files(limits);
//   WP_ASSIGN_OR_RETURN(ReadResult r, files.Read(ws, "scene.xml", ReadRange{}));
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_FILES_WORKSPACE_FILES_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_FILES_WORKSPACE_FILES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/light/core/files/file_entry.h"
#include "services/light/core/files/file_limits.h"
#include "services/light/core/files/text_edit.h"
#include "services/light/core/files/workspace_locks.h"
#include "services/light/core/files/workspace_store.h"

namespace workerpair::light {

struct ListOptions {
  std::string path;  // directory, "" for the workspace
  bool recursive = false;
  std::string glob;
  std::uint32_t max_entries = 0;  // 0: the limit
};

struct ListResult {
  std::vector<FileEntry> entries;
  bool truncated = false;
};

struct ByteRange {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;  // 0: to the end
};

struct LineRange {
  std::uint64_t start_line = 1;  // 1-based
  std::uint64_t line_count = 0;  // 0: to the end
};

// The whole file (monostate), a byte range or a line range.
using ReadRange = std::variant<std::monostate, ByteRange, LineRange>;

struct ReadResult {
  std::string content;
  std::uint64_t file_size = 0;
  std::string sha256;             // whole file; empty for byte ranges
  std::uint64_t total_lines = 0;  // line ranges only
};

struct BatchReadResult {
  struct Found {
    std::string path;
    std::string content;
    std::string sha256;
  };
  std::vector<Found> files;
  std::vector<std::string> missing;
};

struct WriteOptions {
  bool overwrite = false;
  std::string expected_sha256;  // empty: no check
};

struct WriteResult {
  std::string sha256;
  std::uint64_t size = 0;
  bool created = false;
};

struct EditResult {
  std::string sha256;
  std::vector<std::uint32_t> replacements;
  std::uint64_t size = 0;
};

class WorkspaceFiles {
 public:
  explicit WorkspaceFiles(FileLimits limits) : limits_(limits) {}

  // Lists a directory. NOT_FOUND if missing, FAILED_PRECONDITION if not a directory.
  absl::StatusOr<ListResult> List(const Workspace& ws, const ListOptions& options) const;

  // Returns the entry at `path`, or nullopt when nothing exists there.
  absl::StatusOr<std::optional<FileEntry>> Stat(const Workspace& ws, std::string_view path) const;

  // Reads a file or part of it. NOT_FOUND, FAILED_PRECONDITION (directory), INVALID_ARGUMENT
  // (line 0), RESOURCE_EXHAUSTED (over max_read_bytes).
  absl::StatusOr<ReadResult> Read(const Workspace& ws, std::string_view path,
                                  const ReadRange& range) const;

  // Reads whole files; missing ones are listed. RESOURCE_EXHAUSTED when the total would pass
  // max_read_bytes or too many paths are named.
  absl::StatusOr<BatchReadResult> ReadMany(const Workspace& ws,
                                           const std::vector<std::string>& paths) const;

  // Writes a whole file atomically. ALREADY_EXISTS without overwrite, FAILED_PRECONDITION on an
  // expected-hash mismatch, RESOURCE_EXHAUSTED over max_write_bytes.
  absl::StatusOr<WriteResult> Write(const Workspace& ws, std::string_view path,
                                    std::string_view content, const WriteOptions& options);

  // Applies edits all or nothing (see ApplyEdits); the file is rewritten atomically.
  absl::StatusOr<EditResult> Edit(const Workspace& ws, std::string_view path,
                                  const std::vector<TextEdit>& edits,
                                  std::string_view expected_sha256);

  // Moves a file or directory. NOT_FOUND, ALREADY_EXISTS (without overwrite),
  // INVALID_ARGUMENT (a directory into itself).
  absl::Status Move(const Workspace& ws, std::string_view from, std::string_view to,
                    bool overwrite);

  // Deletes a file or directory; returns entries removed. FAILED_PRECONDITION for a non-empty
  // directory without `recursive`.
  absl::StatusOr<std::uint64_t> Delete(const Workspace& ws, std::string_view path,
                                       bool recursive);

  const FileLimits& limits() const { return limits_; }

  // The lock table for `ws`: its store's, or this object's own for a Workspace built by hand.
  WorkspaceLocks& LocksOf(const Workspace& ws) {
    return ws.locks != nullptr ? *ws.locks : own_locks_;
  }

 private:
  FileLimits limits_;
  WorkspaceLocks own_locks_;
};

// PERMISSION_DENIED when `resolved` (a confined path in `ws`) lies inside a `.git` directory.
// Git's own files change only through LightGit: a client writing `.git/config` or
// `.git/objects/info/alternates` could redirect the repository or read other workspaces' objects.
absl::Status RefuseGitInternals(const Workspace& ws, const std::filesystem::path& resolved,
                                std::string_view path);

// Checks an expected SHA-256 against a file's current content (read under its lock).
// FAILED_PRECONDITION on mismatch or when the file does not exist.
absl::Status CheckExpectedSha256(std::string_view expected, const std::optional<std::string>& current,
                                 std::string_view display_path);

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_FILES_WORKSPACE_FILES_H_
