// The staging area: where worker-light's temporary files live while they are written, outside
// every workspace tree.
//
// The service root holds the workspaces and, beside them, one private directory `.staging`
// (a workspace name never starts with '.', so no workspace can be called that and ListWorkspaces
// never shows it). A write goes to a temporary file there, is fsynced, then renamed into the
// workspace: the root is one filesystem, so the rename is atomic. A temporary file is therefore
// never visible to list, stat, read, grep, lint, bundle or git, and no commit can include one,
// crash or no crash. Whatever a crash leaves in `.staging` is removed when the store opens.
//
//   WP_RETURN_IF_ERROR(WriteFileStaged(ws, ws.root / "scene.xml", bytes, {}, "scene.xml"));
//
//   WP_ASSIGN_OR_RETURN(StagedFile staged, StagedFile::Create(ws, "meshes/a.stl"));
//   ... write(staged.fd(), ...) ...; WP_RETURN_IF_ERROR(staged.Sync("meshes/a.stl"));
//   WP_RETURN_IF_ERROR(PublishStaged(ws, staged, ws.root / "meshes/a.stl", true, "meshes/a.stl"));
//
// Durability: one fsync of the file and one of the directory it lands in, per file.
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_FILES_STAGING_AREA_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_FILES_STAGING_AREA_H_

#include <sys/types.h>

#include <filesystem>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/common/file_io.h"
#include "services/light/core/files/workspace_store.h"

namespace workerpair::light {

// Name of the staging directory under the service root.
inline constexpr std::string_view kStagingDirName = ".staging";

// Removes everything in `staging` (creating it when missing). Called once at start-up, before
// any call is served.
absl::Status SweepStagingArea(const std::filesystem::path& staging);

// INVALID_ARGUMENT when a component of `relative` (a client path) starts with kTempFilePrefix:
// that prefix belonged to temporary files of earlier versions, which start-up sweeps away, so
// no client file may carry it.
absl::Status RefuseReservedName(std::string_view relative);

// A temporary file in the workspace's staging area, removed on destruction unless published.
class StagedFile {
 public:
  // Creates an empty file with mode 0644. RESOURCE_EXHAUSTED on a full disk; INTERNAL when the
  // workspace has no staging area (a Workspace not resolved by WorkspaceStore).
  static absl::StatusOr<StagedFile> Create(const Workspace& ws, std::string_view display_path);

  StagedFile(StagedFile&& other) noexcept;
  StagedFile& operator=(StagedFile&& other) noexcept;
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;
  ~StagedFile();

  int fd() const { return fd_; }
  const std::filesystem::path& path() const { return path_; }

  // Writes all of `data` at the end. RESOURCE_EXHAUSTED on a full disk.
  absl::Status Append(std::string_view data, std::string_view display_path);
  // fsyncs and closes the file (the one fsync of its content).
  absl::Status SyncAndClose(std::string_view display_path);
  // Renames the synced file onto `destination`, whose directory must exist; afterwards it is no
  // longer this object's to remove. The caller fsyncs the directory. `replace` as
  // AtomicWriteOptions.
  absl::Status RenameOnto(const std::filesystem::path& destination, bool replace,
                          std::string_view display_path);

 private:
  StagedFile(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  void Discard();

  int fd_ = -1;
  std::filesystem::path path_;
};

// Renames a synced, closed staged file onto `destination`, creating missing parent
// directories, then fsyncs the destination's directory. `replace` as AtomicWriteOptions.
// On failure the directories it created are removed again and the staged file stays staged.
absl::Status PublishStaged(StagedFile& staged, const std::filesystem::path& destination,
                           bool replace, std::string_view display_path);

// Writes `content` to `destination` (inside `ws`) through the staging area: ALREADY_EXISTS
// without options.replace when it exists, FAILED_PRECONDITION for a directory in the way,
// RESOURCE_EXHAUSTED on a full disk. On any failure nothing is left behind: the old file is
// untouched, the temporary file removed and no new directory remains. An existing file keeps
// its mode.
absl::Status WriteFileStaged(const Workspace& ws, const std::filesystem::path& destination,
                             std::string_view content, const AtomicWriteOptions& options,
                             std::string_view display_path);

// Creates the missing directories down to `dir` and returns them, outermost first, so that a
// caller can take them back with RemoveCreatedDirectories when what it meant to put there fails.
absl::StatusOr<std::vector<std::filesystem::path>> CreateMissingDirectories(
    const std::filesystem::path& dir, std::string_view display_path);

// Removes `created` (from CreateMissingDirectories), innermost first, each only while empty.
void RemoveCreatedDirectories(const std::vector<std::filesystem::path>& created);

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_FILES_STAGING_AREA_H_
