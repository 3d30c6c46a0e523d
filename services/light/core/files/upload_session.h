// UploadSession: many files arriving in one stream, committed together at its end.
//
// Each file is staged in a temporary file beside its destination as its bytes arrive; Commit
// checks every destination first, then renames the staged files into place. A session destroyed
// without Commit (a broken stream, a failed check) removes everything it staged, so a failed
// upload leaves the workspace as it was.
//
//   UploadSession upload(ws, files.limits(), /*overwrite=*/false);
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
#include "services/light/core/files/workspace_store.h"

namespace workerpair::light {

class UploadSession {
 public:
  UploadSession(Workspace ws, const FileLimits& limits, bool overwrite);
  ~UploadSession();
  UploadSession(const UploadSession&) = delete;
  UploadSession& operator=(const UploadSession&) = delete;

  // Starts the next file. INVALID_ARGUMENT for a path named twice, RESOURCE_EXHAUSTED past the
  // file count limit, plus every ConfinePath error.
  absl::Status StartFile(std::string_view path);

  // Appends to the current file. FAILED_PRECONDITION before any StartFile; RESOURCE_EXHAUSTED
  // past the per-file or total byte limit.
  absl::Status Append(std::string_view data);

  // Publishes every staged file. ALREADY_EXISTS (before anything is published) when a
  // destination exists and overwrite is off.
  absl::StatusOr<std::vector<FileEntry>> Commit();

  std::uint64_t total_bytes() const { return total_bytes_; }

 private:
  struct Staged {
    std::string relative;
    std::filesystem::path destination;
    std::filesystem::path temp;
    std::uint64_t size = 0;
  };

  absl::Status FinishCurrent();
  void Discard();

  Workspace ws_;
  FileLimits limits_;
  bool overwrite_;
  std::vector<Staged> staged_;
  std::set<std::filesystem::path> destinations_;
  int current_fd_ = -1;
  std::uint64_t total_bytes_ = 0;
  bool committed_ = false;
};

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_FILES_UPLOAD_SESSION_H_
