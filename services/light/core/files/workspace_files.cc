#include "services/light/core/files/workspace_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <system_error>

#include "libs/common/str_cat.h"
#include "libs/common/file_io.h"
#include "libs/common/glob.h"
#include "libs/common/path_confinement.h"
#include "libs/common/sha256.h"
#include "libs/common/status_macros.h"
#include "services/light/core/files/staging_area.h"
#include "services/light/core/files/workspace_walk.h"

namespace workerpair::light {
namespace fs = std::filesystem;
namespace {

ConfineOptions Root() {
  ConfineOptions options;
  options.allow_root = true;
  return options;
}

ConfineOptions NoFollow() {
  ConfineOptions options;
  options.follow_final_symlink = false;
  return options;
}

absl::Status NotFound(std::string_view path) {
  return absl::NotFoundError(StrCat("'", path, "' does not exist"));
}

// Reads a byte range with pread, without loading the rest of the file.
absl::StatusOr<ReadResult> ReadBytes(const fs::path& file, std::string_view display,
                                     const ByteRange& range, std::uint64_t cap) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return ErrnoError(errno, "opening", display);
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::FailedPreconditionError(StrCat("'", display, "' is not a regular file"));
  }
  ReadResult result;
  result.file_size = static_cast<std::uint64_t>(st.st_size);
  const std::uint64_t available =
      range.offset >= result.file_size ? 0 : result.file_size - range.offset;
  const std::uint64_t want = range.length == 0 ? available : std::min(range.length, available);
  if (want > cap) {
    ::close(fd);
    return absl::ResourceExhaustedError(StrCat("range of ", want, " bytes from '", display,
                                                     "' is over the read cap of ", cap,
                                                     " bytes; ask for a smaller range"));
  }
  result.content.resize(want);
  std::uint64_t filled = 0;
  while (filled < want) {
    const ssize_t got = ::pread(fd, result.content.data() + filled, want - filled,
                                static_cast<off_t>(range.offset + filled));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    filled += static_cast<std::uint64_t>(got);
  }
  ::close(fd);
  result.content.resize(filled);
  return result;
}

// Streams the file once: collects the wanted lines, counts all lines and hashes everything.
absl::StatusOr<ReadResult> ReadLines(const fs::path& file, std::string_view display,
                                     const LineRange& range, std::uint64_t cap) {
  if (range.start_line == 0) {
    return absl::InvalidArgumentError(
        StrCat("line range for '", display, "' starts at line 0; lines are 1-based"));
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return ErrnoError(errno, "opening", display);
  ReadResult result;
  Sha256Hasher hasher;
  const std::uint64_t last_line =
      range.line_count == 0 ? UINT64_MAX : range.start_line + range.line_count - 1;
  std::uint64_t line = 1;
  std::string buffer(64 * 1024, '\0');
  bool ended_with_newline = true;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const std::size_t got = static_cast<std::size_t>(in.gcount());
    if (got == 0) break;
    std::string_view chunk(buffer.data(), got);
    hasher.Update(chunk);
    result.file_size += got;
    std::size_t begin = 0;
    while (begin < chunk.size()) {
      const std::size_t newline = chunk.find('\n', begin);
      const std::size_t end = newline == std::string_view::npos ? chunk.size() : newline + 1;
      if (line >= range.start_line && line <= last_line) {
        if (result.content.size() + (end - begin) > cap) {
          return absl::ResourceExhaustedError(StrCat(
              "lines from '", display, "' are over the read cap of ", cap,
              " bytes; ask for fewer lines"));
        }
        result.content.append(chunk.substr(begin, end - begin));
      }
      if (newline != std::string_view::npos) ++line;
      ended_with_newline = newline != std::string_view::npos;
      begin = end;
    }
  }
  result.total_lines = result.file_size == 0 ? 0 : (ended_with_newline ? line - 1 : line);
  result.sha256 = hasher.FinishHex();
  return result;
}

// Reads the current content for a read-modify-write, or nullopt when the file is missing.
absl::StatusOr<std::optional<std::string>> ReadIfExists(const fs::path& file,
                                                        std::string_view display,
                                                        std::uint64_t cap) {
  absl::StatusOr<std::string> content = ReadFileCapped(file, display, cap);
  if (absl::IsNotFound(content.status())) return std::optional<std::string>();
  if (!content.ok()) return content.status();
  return std::optional<std::string>(std::move(*content));
}

}  // namespace

absl::Status RefuseGitInternals(const Workspace& ws, const fs::path& resolved,
                                std::string_view path) {
  for (const auto& component : resolved.lexically_relative(ws.root)) {
    if (component == ".git") {
      return absl::PermissionDeniedError(StrCat(
          "'", path, "' is inside a .git directory; change the repository through LightGit"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckExpectedSha256(std::string_view expected,
                                 const std::optional<std::string>& current,
                                 std::string_view display_path) {
  if (!IsSha256Hex(expected)) {
    return absl::InvalidArgumentError(StrCat(
        "expected_sha256 for '", display_path, "' is not 64 hex characters"));
  }
  if (!current) {
    return absl::FailedPreconditionError(StrCat(
        "'", display_path, "' does not exist, so it cannot have the expected sha256"));
  }
  const std::string actual = Sha256Hex(*current);
  std::string wanted(expected);
  std::transform(wanted.begin(), wanted.end(), wanted.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (actual != wanted) {
    return absl::FailedPreconditionError(StrCat(
        "'", display_path, "' changed: its sha256 is ", actual, ", not the expected ", wanted));
  }
  return absl::OkStatus();
}

absl::StatusOr<ListResult> WorkspaceFiles::List(const Workspace& ws,
                                                const ListOptions& options) const {
  WP_ASSIGN_OR_RETURN(fs::path dir, ConfinePath(ws.root, options.path, Root()));
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return NotFound(options.path);
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        StrCat("'", options.path, "' is not a directory"));
  }
  const std::uint32_t cap = options.max_entries == 0
                                ? limits_.max_list_entries
                                : std::min(options.max_entries, limits_.max_list_entries);
  ListResult result;
  WP_RETURN_IF_ERROR(WalkTree(ws.root, dir, options.recursive,
                              [&](const std::string& relative, const struct stat& entry) {
                                if (GlobMatches(options.glob, relative)) {
                                  result.entries.push_back(EntryFromStat(relative, entry));
                                }
                                return true;
                              }));
  std::sort(result.entries.begin(), result.entries.end(),
            [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
  if (result.entries.size() > cap) {
    result.entries.resize(cap);
    result.truncated = true;
  }
  return result;
}

absl::StatusOr<std::optional<FileEntry>> WorkspaceFiles::Stat(const Workspace& ws,
                                                              std::string_view path) const {
  WP_ASSIGN_OR_RETURN(fs::path file, ConfinePath(ws.root, path, Root()));
  struct stat st;
  if (::lstat(file.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<FileEntry>();
    return ErrnoError(errno, "inspecting", path);
  }
  return std::optional<FileEntry>(EntryFromStat(RelativeToRoot(ws.root, file), st));
}

absl::StatusOr<ReadResult> WorkspaceFiles::Read(const Workspace& ws, std::string_view path,
                                                const ReadRange& range) const {
  WP_ASSIGN_OR_RETURN(fs::path file, ConfinePath(ws.root, path));
  if (const auto* bytes = std::get_if<ByteRange>(&range)) {
    return ReadBytes(file, path, *bytes, limits_.max_read_bytes);
  }
  if (const auto* lines = std::get_if<LineRange>(&range)) {
    struct stat st;
    if (::stat(file.c_str(), &st) != 0) return ErrnoError(errno, "opening", path);
    if (!S_ISREG(st.st_mode)) {
      return absl::FailedPreconditionError(StrCat("'", path, "' is not a regular file"));
    }
    return ReadLines(file, path, *lines, limits_.max_read_bytes);
  }
  ReadResult result;
  WP_ASSIGN_OR_RETURN(result.content, ReadFileCapped(file, path, limits_.max_read_bytes));
  result.file_size = result.content.size();
  result.sha256 = Sha256Hex(result.content);
  return result;
}

absl::StatusOr<BatchReadResult> WorkspaceFiles::ReadMany(
    const Workspace& ws, const std::vector<std::string>& paths) const {
  if (paths.size() > limits_.max_batch_files) {
    return absl::ResourceExhaustedError(StrCat("batch read names ", paths.size(),
                                                     " files, over the limit of ",
                                                     limits_.max_batch_files));
  }
  BatchReadResult result;
  std::uint64_t total = 0;
  for (const std::string& path : paths) {
    WP_ASSIGN_OR_RETURN(fs::path file, ConfinePath(ws.root, path));
    absl::StatusOr<std::string> content =
        ReadFileCapped(file, path, limits_.max_read_bytes - total);
    if (absl::IsNotFound(content.status())) {
      result.missing.push_back(path);
      continue;
    }
    if (absl::IsResourceExhausted(content.status())) {
      return absl::ResourceExhaustedError(StrCat(
          "batch read passes the read cap of ", limits_.max_read_bytes, " bytes at '", path,
          "'; read fewer files at once"));
    }
    if (!content.ok()) return content.status();
    total += content->size();
    std::string sha = Sha256Hex(*content);
    result.files.push_back({path, std::move(*content), std::move(sha)});
  }
  return result;
}

absl::StatusOr<WriteResult> WorkspaceFiles::Write(const Workspace& ws, std::string_view path,
                                                  std::string_view content,
                                                  const WriteOptions& options) {
  if (content.size() > limits_.max_write_bytes) {
    return absl::ResourceExhaustedError(StrCat("content for '", path, "' is ",
                                                     content.size(), " bytes, over the write cap of ",
                                                     limits_.max_write_bytes, " bytes"));
  }
  WP_ASSIGN_OR_RETURN(fs::path file, ConfinePath(ws.root, path));
  WP_RETURN_IF_ERROR(RefuseGitInternals(ws, file, path));
  WP_RETURN_IF_ERROR(RefuseReservedName(RelativeToRoot(ws.root, file)));
  WorkspaceLocks::Guard guard = LocksOf(ws).Shared(ws.name, {file.string()});
  WriteResult result;
  struct stat st;
  result.created = ::lstat(file.c_str(), &st) != 0;
  if (!options.expected_sha256.empty()) {
    WP_ASSIGN_OR_RETURN(std::optional<std::string> current,
                        ReadIfExists(file, path, limits_.max_write_bytes));
    WP_RETURN_IF_ERROR(CheckExpectedSha256(options.expected_sha256, current, path));
  }
  AtomicWriteOptions write_options;
  write_options.replace = options.overwrite || !options.expected_sha256.empty();
  WP_RETURN_IF_ERROR(WriteFileStaged(ws, file, content, write_options, path));
  result.sha256 = Sha256Hex(content);
  result.size = content.size();
  return result;
}

absl::StatusOr<EditResult> WorkspaceFiles::Edit(const Workspace& ws, std::string_view path,
                                                const std::vector<TextEdit>& edits,
                                                std::string_view expected_sha256) {
  if (edits.empty()) {
    return absl::InvalidArgumentError(StrCat("no edits given for '", path, "'"));
  }
  if (edits.size() > limits_.max_edits) {
    return absl::ResourceExhaustedError(StrCat(edits.size(), " edits for '", path,
                                                     "', over the limit of ", limits_.max_edits));
  }
  WP_ASSIGN_OR_RETURN(fs::path file, ConfinePath(ws.root, path));
  WP_RETURN_IF_ERROR(RefuseGitInternals(ws, file, path));
  WorkspaceLocks::Guard guard = LocksOf(ws).Shared(ws.name, {file.string()});
  WP_ASSIGN_OR_RETURN(std::string content, ReadFileCapped(file, path, limits_.max_write_bytes));
  if (!expected_sha256.empty()) {
    WP_RETURN_IF_ERROR(CheckExpectedSha256(expected_sha256, content, path));
  }
  WP_ASSIGN_OR_RETURN(EditOutcome outcome, ApplyEdits(std::move(content), edits, path));
  if (outcome.content.size() > limits_.max_write_bytes) {
    return absl::ResourceExhaustedError(StrCat("edited '", path, "' would be ",
                                                     outcome.content.size(),
                                                     " bytes, over the write cap of ",
                                                     limits_.max_write_bytes, " bytes"));
  }
  WP_RETURN_IF_ERROR(WriteFileStaged(ws, file, outcome.content, {}, path));
  EditResult result;
  result.sha256 = Sha256Hex(outcome.content);
  result.size = outcome.content.size();
  result.replacements = std::move(outcome.replacements);
  return result;
}

absl::Status WorkspaceFiles::Move(const Workspace& ws, std::string_view from, std::string_view to,
                                  bool overwrite) {
  WP_ASSIGN_OR_RETURN(fs::path source, ConfinePath(ws.root, from, NoFollow()));
  WP_ASSIGN_OR_RETURN(fs::path target, ConfinePath(ws.root, to, NoFollow()));
  WP_RETURN_IF_ERROR(RefuseGitInternals(ws, source, from));
  WP_RETURN_IF_ERROR(RefuseGitInternals(ws, target, to));
  WP_RETURN_IF_ERROR(RefuseReservedName(RelativeToRoot(ws.root, target)));
  // A file moves under the shared tree lock and both paths' locks; a directory (many paths at
  // once) under the exclusive tree lock.
  WorkspaceLocks::Guard guard = LocksOf(ws).Shared(ws.name, {source.string(), target.string()});
  struct stat st;
  if (::lstat(source.c_str(), &st) != 0) return NotFound(from);
  if (S_ISDIR(st.st_mode)) {
    guard.Release();
    guard = LocksOf(ws).Exclusive(ws.name);
    if (::lstat(source.c_str(), &st) != 0) return NotFound(from);
  }
  if (source == target) return absl::OkStatus();
  if (S_ISDIR(st.st_mode) && IsWithin(source, target)) {
    return absl::InvalidArgumentError(
        StrCat("cannot move directory '", from, "' into itself ('", to, "')"));
  }
  WP_ASSIGN_OR_RETURN(std::vector<fs::path> created,
                      CreateMissingDirectories(target.parent_path(), to));
  if (absl::Status status = RenamePath(source, target, overwrite, to); !status.ok()) {
    RemoveCreatedDirectories(created);
    return status;
  }
  SyncDirectory(target.parent_path());
  return absl::OkStatus();
}

absl::StatusOr<std::uint64_t> WorkspaceFiles::Delete(const Workspace& ws, std::string_view path,
                                                     bool recursive) {
  WP_ASSIGN_OR_RETURN(fs::path target, ConfinePath(ws.root, path, NoFollow()));
  WP_RETURN_IF_ERROR(RefuseGitInternals(ws, target, path));
  // As Move: a file under the shared tree lock and its path lock, a directory exclusively.
  WorkspaceLocks::Guard guard = LocksOf(ws).Shared(ws.name, {target.string()});
  struct stat st;
  if (::lstat(target.c_str(), &st) != 0) return NotFound(path);
  if (S_ISDIR(st.st_mode)) {
    guard.Release();
    guard = LocksOf(ws).Exclusive(ws.name);
    if (::lstat(target.c_str(), &st) != 0) return NotFound(path);
  }
  std::error_code ec;
  if (S_ISDIR(st.st_mode) && !recursive && !fs::is_empty(target, ec)) {
    return absl::FailedPreconditionError(StrCat(
        "directory '", path, "' is not empty; set recursive to delete it and its content"));
  }
  const std::uintmax_t removed = fs::remove_all(target, ec);
  if (ec) return ErrnoError(ec.value(), "deleting", path);
  return static_cast<std::uint64_t>(removed);
}

}  // namespace workerpair::light
