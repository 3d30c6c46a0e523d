#include "services/controller/workspace_move.h"

#include <stdlib.h>

#include <filesystem>
#include <map>
#include <system_error>

#include "libs/common/bundle.h"
#include "libs/common/file_io.h"
#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"

namespace workerpair::controller {
namespace fs = std::filesystem;
namespace {

// What a move carries and compares: every file's bytes, and the repository's history.
struct Snapshot {
  std::map<std::string, std::string> files;
  std::uint64_t bytes = 0;
  bool repository = false;
  v1::GitHistory history;
};

// A private scratch directory, removed at scope exit.
class Scratch {
 public:
  Scratch() {
    std::string pattern = (fs::temp_directory_path() / "wp-move-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~Scratch() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

bool SameHistory(const v1::GitHistory& a, const v1::GitHistory& b) {
  if (a.head() != b.head() || a.branches_size() != b.branches_size()) return false;
  for (int i = 0; i < a.branches_size(); ++i) {
    if (a.branches(i).name() != b.branches(i).name() ||
        a.branches(i).hash() != b.branches(i).hash()) {
      return false;
    }
  }
  return true;
}

absl::StatusOr<Snapshot> Capture(LightClient& light, const std::string& workspace) {
  Snapshot snapshot;
  v1::BundleWorkspaceRequest bundle_request;
  bundle_request.set_workspace(workspace);
  WP_ASSIGN_OR_RETURN(Bundle bundle, light.BundleWorkspace(bundle_request));
  Scratch scratch;
  if (scratch.path().empty()) return absl::InternalError("cannot make a scratch directory");
  UnpackLimits limits;
  limits.max_unpacked_bytes = 1ull << 30;
  limits.max_compression_ratio = 1e9;  // our own server's archive, not an untrusted payload
  WP_ASSIGN_OR_RETURN(UnpackReport report, UnpackArchive(bundle.bytes, scratch.path(), limits));
  for (const std::string& path : report.paths) {
    WP_ASSIGN_OR_RETURN(std::string bytes,
                        ReadFileCapped(scratch.path() / path, path, limits.max_file_bytes));
    snapshot.bytes += bytes.size();
    snapshot.files.emplace(path, std::move(bytes));
  }
  v1::GitExportHistoryRequest history_request;
  history_request.set_workspace(workspace);
  absl::StatusOr<v1::GitExportHistoryResponse> history =
      light.Call(light.git(), &v1::LightGitService::Stub::GitExportHistory, history_request);
  if (history.ok()) {
    snapshot.repository = true;
    snapshot.history = std::move(*history->mutable_history());
  } else if (!(absl::IsFailedPrecondition(history.status()) &&
               history.status().message().find("is not a git repository") !=
                   std::string_view::npos)) {
    return history.status();
  }
  return snapshot;
}

// Compares what the move must keep; ABORTED naming the first difference.
absl::Status Compare(const Snapshot& want, const Snapshot& got, std::string_view what) {
  if (want.repository != got.repository) {
    return absl::AbortedError(StrCat(what, ": one is a git repository, the other not"));
  }
  if (want.repository && !SameHistory(want.history, got.history)) {
    return absl::AbortedError(StrCat(what, ": HEAD or branches differ"));
  }
  if (want.files.size() != got.files.size()) {
    return absl::AbortedError(StrCat(what, ": ", want.files.size(), " files against ",
                                     got.files.size()));
  }
  for (auto a = want.files.begin(), b = got.files.begin(); a != want.files.end(); ++a, ++b) {
    if (a->first != b->first) return absl::AbortedError(StrCat(what, ": '", a->first, "' differs"));
    if (a->second != b->second) {
      return absl::AbortedError(StrCat(what, ": content of '", a->first, "' differs"));
    }
  }
  return absl::OkStatus();
}

// Everything after the target workspace exists; the caller deletes it on failure.
absl::Status Copy(LightClient& to, const std::string& workspace, const Snapshot& source) {
  if (source.repository) {
    v1::GitImportHistoryRequest request;
    request.set_workspace(workspace);
    *request.mutable_history() = source.history;
    WP_RETURN_IF_ERROR(
        to.Call(to.git(), &v1::LightGitService::Stub::GitImportHistory, request).status());
  }
  if (!source.files.empty()) {
    std::vector<std::pair<std::string, std::string>> files(source.files.begin(),
                                                           source.files.end());
    WP_RETURN_IF_ERROR(to.UploadFiles(workspace, files, /*overwrite=*/false).status());
  }
  WP_ASSIGN_OR_RETURN(Snapshot copy, Capture(to, workspace));
  return Compare(source, copy, "the copy on the new pod");
}

}  // namespace

absl::StatusOr<MoveReport> MoveWorkspace(LightClient& from, LightClient& to,
                                         const std::string& workspace) {
  WP_ASSIGN_OR_RETURN(Snapshot source, Capture(from, workspace));
  WP_ASSIGN_OR_RETURN(bool created, to.CreateWorkspace(workspace, /*exist_ok=*/true));
  if (!created) {
    return absl::AlreadyExistsError(StrCat(
        "workspace '", workspace, "' already exists on the new pod; compare both copies and "
        "delete the one to drop before moving"));
  }
  absl::Status copied = Copy(to, workspace, source);
  if (copied.ok()) {
    // The source must still be what was copied: a write meanwhile would be lost.
    absl::StatusOr<Snapshot> again = Capture(from, workspace);
    copied = again.ok() ? Compare(source, *again, "the source changed during the move; retry")
                        : again.status();
  }
  if (!copied.ok()) {
    (void)to.DeleteWorkspace(workspace);
    return copied;
  }
  WP_RETURN_IF_ERROR(from.DeleteWorkspace(workspace));
  MoveReport report;
  report.workspace = workspace;
  report.files = static_cast<std::uint32_t>(source.files.size());
  report.bytes = source.bytes;
  report.history = source.repository;
  report.branches = static_cast<std::uint32_t>(source.history.branches_size());
  for (const v1::GitBranchRef& branch : source.history.branches()) {
    if (branch.name() == source.history.head()) report.head = branch.hash();
  }
  if (report.head.empty() && source.history.head().size() == 40) {
    report.head = source.history.head();  // detached
  }
  return report;
}

}  // namespace workerpair::controller
