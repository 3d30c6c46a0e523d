// WorkspaceStore: the set of agent workspaces, each a directory under the service's root.
//
//   WP_ASSIGN_OR_RETURN(auto store, WorkspaceStore::Open("/var/lib/workerpair/workspaces"));
//   WP_ASSIGN_OR_RETURN(bool created, store->Create("agent-7", /*exist_ok=*/true));
//   WP_ASSIGN_OR_RETURN(Workspace ws, store->Get("agent-7"));
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_FILES_WORKSPACE_STORE_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_FILES_WORKSPACE_STORE_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace workerpair::light {

class WorkspaceLocks;

// A resolved workspace: its name and canonical directory, plus (when it came from a store) the
// service's staging area for temporary files and the store's lock table (workspace_locks.h).
struct Workspace {
  std::string name;
  std::filesystem::path root;
  std::filesystem::path staging;
  WorkspaceLocks* locks = nullptr;
};

// OK when `name` matches ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ (CheckWorkspaceName,
// libs/common/workspace_name.h); INVALID_ARGUMENT naming the problem otherwise.
absl::Status ValidateWorkspaceName(std::string_view name);

class WorkspaceStore {
 public:
  // Opens (creating if needed) the root directory that holds the workspaces and, beside them,
  // the staging area `<root>/.staging`. Before returning it clears what a crash may have left:
  // the staging area's content, half-deleted workspaces, temporary files of earlier versions
  // inside workspaces (`.wp-tmp-*`), and stale libgit2 lock files (`.git/index.lock`,
  // `.git/**/*.lock`), which would otherwise make every later commit fail. Nothing is served
  // yet, so no lock is held by anyone.
  static absl::StatusOr<std::unique_ptr<WorkspaceStore>> Open(const std::filesystem::path& root);

  // Creates a workspace; returns true if created, false if it existed and `exist_ok`.
  // ALREADY_EXISTS when it exists and not `exist_ok`.
  absl::StatusOr<bool> Create(std::string_view name, bool exist_ok);

  // Returns workspace names, sorted.
  absl::StatusOr<std::vector<std::string>> List() const;

  // Deletes a workspace and its content; returns the number of entries removed. NOT_FOUND when
  // it does not exist. Takes the workspace's tree lock exclusively; the directory is first
  // renamed aside, so the workspace vanishes at once.
  absl::StatusOr<std::uint64_t> Delete(std::string_view name);

  // Resolves an existing workspace. NOT_FOUND when it does not exist.
  absl::StatusOr<Workspace> Get(std::string_view name) const;

  const std::filesystem::path& root() const { return root_; }
  const std::filesystem::path& staging() const { return staging_; }
  WorkspaceLocks& locks() const { return *locks_; }

  ~WorkspaceStore();

 private:
  WorkspaceStore(std::filesystem::path root, std::filesystem::path staging);

  std::filesystem::path root_;
  std::filesystem::path staging_;
  std::unique_ptr<WorkspaceLocks> locks_;
};

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_FILES_WORKSPACE_STORE_H_
