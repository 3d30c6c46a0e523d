#include "services/light/core/files/workspace_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <system_error>

#include "libs/common/file_io.h"
#include "libs/common/str_cat.h"
#include "libs/common/workspace_name.h"
#include "services/light/core/files/staging_area.h"
#include "services/light/core/files/workspace_locks.h"

namespace workerpair::light {
namespace fs = std::filesystem;
namespace {

// Deleted workspaces are renamed to this prefix first; valid names cannot start with '.'.
constexpr std::string_view kDeletingPrefix = ".deleting-";

// Removes what a killed process left inside one workspace: temporary files of earlier versions
// (they lived beside their destination) and libgit2's lock files, which only exist while a git
// call runs and would make every later call fail with "locked".
void SweepWorkspace(const fs::path& dir) {
  std::error_code ec;
  std::vector<fs::path> doomed;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code type_ec;
    if (it->is_symlink(type_ec)) continue;  // never followed
    if (name == ".git") {
      if (it.depth() != 0) {
        it.disable_recursion_pending();
        continue;
      }
      // Inside .git only lock files go: index.lock, HEAD.lock, refs/heads/x.lock, ...
      std::error_code git_ec;
      for (auto git = fs::recursive_directory_iterator(it->path(), git_ec);
           !git_ec && git != fs::recursive_directory_iterator(); git.increment(git_ec)) {
        std::error_code git_type_ec;
        if (git->is_regular_file(git_type_ec) && !git->is_symlink(git_type_ec) &&
            git->path().extension() == ".lock") {
          doomed.push_back(git->path());
        }
      }
      it.disable_recursion_pending();
      continue;
    }
    if (name.starts_with(kTempFilePrefix) && it->is_regular_file(type_ec)) {
      doomed.push_back(it->path());
    }
  }
  for (const fs::path& path : doomed) fs::remove(path, ec);
}

}  // namespace

absl::Status ValidateWorkspaceName(std::string_view name) {
  // One rule everywhere: libs/common/workspace_name.h (no leading '-' or '.').
  return CheckWorkspaceName(name);
}

absl::StatusOr<std::unique_ptr<WorkspaceStore>> WorkspaceStore::Open(const fs::path& root) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return ErrnoError(ec.value(), "creating workspace root", root.string());
  fs::path canonical = fs::canonical(root, ec);
  if (ec) return ErrnoError(ec.value(), "resolving workspace root", root.string());
  fs::path staging = canonical / std::string(kStagingDirName);
  if (absl::Status status = SweepStagingArea(staging); !status.ok()) return status;
  // Finish deletions a crash interrupted; clear what a crash left inside workspaces.
  for (const auto& entry : fs::directory_iterator(canonical, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(kDeletingPrefix)) {
      fs::remove_all(entry.path(), ec);
    } else if (ValidateWorkspaceName(name).ok() && entry.is_directory(ec) &&
               !entry.is_symlink(ec)) {
      SweepWorkspace(entry.path());
    }
  }
  return std::unique_ptr<WorkspaceStore>(
      new WorkspaceStore(std::move(canonical), std::move(staging)));
}

WorkspaceStore::WorkspaceStore(fs::path root, fs::path staging)
    : root_(std::move(root)),
      staging_(std::move(staging)),
      locks_(std::make_unique<WorkspaceLocks>()) {}

WorkspaceStore::~WorkspaceStore() = default;

absl::StatusOr<bool> WorkspaceStore::Create(std::string_view name, bool exist_ok) {
  if (absl::Status status = ValidateWorkspaceName(name); !status.ok()) return status;
  const fs::path dir = root_ / std::string(name);
  if (::mkdir(dir.c_str(), 0755) == 0) return true;
  if (errno == EEXIST) {
    struct stat st;
    if (::lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && exist_ok) return false;
    return absl::AlreadyExistsError(StrCat("workspace '", name, "' already exists"));
  }
  return ErrnoError(errno, "creating workspace", name);
}

absl::StatusOr<std::vector<std::string>> WorkspaceStore::List() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_, ec)) {
    std::string name = entry.path().filename().string();
    if (entry.is_directory(ec) && !entry.is_symlink(ec) && ValidateWorkspaceName(name).ok()) {
      names.push_back(std::move(name));
    }
  }
  if (ec) return ErrnoError(ec.value(), "listing workspaces in", "root");
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<std::uint64_t> WorkspaceStore::Delete(std::string_view name) {
  static std::atomic<std::uint64_t> counter{0};
  if (absl::Status status = Get(name).status(); !status.ok()) return status;
  WorkspaceLocks::Guard guard = locks_->Exclusive(name);
  const fs::path dir = root_ / std::string(name);
  const fs::path aside = root_ / StrCat(kDeletingPrefix, name, "-", ::getpid(), "-",
                                              counter.fetch_add(1));
  if (::rename(dir.c_str(), aside.c_str()) != 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(StrCat("workspace '", name, "' does not exist"));
    }
    return ErrnoError(errno, "deleting workspace", name);
  }
  std::error_code ec;
  const std::uintmax_t removed = fs::remove_all(aside, ec);
  if (ec) return ErrnoError(ec.value(), "removing the files of workspace", name);
  return static_cast<std::uint64_t>(removed);
}

absl::StatusOr<Workspace> WorkspaceStore::Get(std::string_view name) const {
  if (absl::Status status = ValidateWorkspaceName(name); !status.ok()) return status;
  fs::path dir = root_ / std::string(name);
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::NotFoundError(StrCat("workspace '", name, "' does not exist"));
  }
  return Workspace{std::string(name), std::move(dir), staging_, locks_.get()};
}

}  // namespace workerpair::light
