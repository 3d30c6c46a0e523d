// UploadSession: many files arriving in one stream, committed together at its end.
//
// Each file is staged in the staging area (staging_area.h, outside the workspace) as its bytes
// arrive; nothing, not even a directory, appears in the workspace before Commit. Commit takes the
// workspace's shared tree lock and every destination's path lock (workspace_locks.h), checks
// every destination first, then creates the missing directories and renames the staged files
// into place. A session destroyed without Commit (a broken stream, a failed check, a full disk)
// removes everything it staged, so a failed upload leaves the workspace as it was.
//
//   UploadSession upload(ws, files, /*overwrite=*/false);
//   WP_RETURN_IF_ERROR(upload.StartFile("meshes/part.stl"));
//   WP_RETURN_IF_ERROR(upload.Append(bytes));
//   WP_ASSIGN_OR_RETURN(std::vector<FileEntry> written, upload.Commit());
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_FILES_UPLOAD_SESSION_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_FILES_UPLOAD_SESSION_H_

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/light/core/files/file_entry.h"
#include "services/light/core/files/file_limits.h"
#include "services/light/core/files/staging_area.h"
#include "services/light/core/files/workspace_store.h"

namespace workerpair::light {

class WorkspaceFiles;

class UploadSession {
 public:
  // `files` gives the limits and the lock table; it must outlive the session.
  UploadSession(Workspace ws, WorkspaceFiles& files, bool overwrite);
  ~UploadSession();
  UploadSession(const UploadSession&) = delete;
  UploadSession& operator=(const UploadSession&) = delete;

  // Starts the next file. INVALID_ARGUMENT for a path named twice, RESOURCE_EXHAUSTED past the
  // file count limit, plus every ConfinePath error.
  absl::Status StartFile(std::string_view path);

  // Appends to the current file. FAILED_PRECONDITION before any StartFile; RESOURCE_EXHAUSTED
  // past the per-file or total byte limit.
  absl::Status Append(std::string_view data);

  // Publishes every staged file. ALREADY_EXISTS or FAILED_PRECONDITION (before anything is
  // published) when a destination exists and overwrite is off, or is a directory.
  // RESOURCE_EXHAUSTED on a full disk. When a rename fails half-way the files already published
  // that did not exist before are removed again (a replaced file keeps its new content).
  absl::StatusOr<std::vector<FileEntry>> Commit();

  std::uint64_t total_bytes() const { return total_bytes_; }

 private:
  struct Staged {
    std::string relative;
    std::filesystem::path destination;
    StagedFile file;
    std::uint64_t size = 0;
    bool open = true;
  };

  absl::Status FinishCurrent();

  Workspace ws_;
  WorkspaceFiles& files_;
  FileLimits limits_;
  bool overwrite_;
  std::vector<Staged> staged_;
  std::set<std::filesystem::path> destinations_;
  std::uint64_t total_bytes_ = 0;
};

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_FILES_UPLOAD_SESSION_H_
