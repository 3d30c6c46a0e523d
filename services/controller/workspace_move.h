// Moving a workspace, history included, from one worker-light pod to another: what
// `controller ws move` and `controller ws rebalance` do after the pool is resized.
//
//   WP_ASSIGN_OR_RETURN(MoveReport report, MoveWorkspace(pool.At(from), pool.At(to), "agent-7"));
//
// Steps: read the source (every file through BundleWorkspace, the repository through
// GitExportHistory), create the workspace on the target (it must not exist there), import the
// history, upload the files, then verify the copy (same HEAD, same branches, same files with the
// same bytes, read back from the target) and that the source has not changed meanwhile; only
// then delete the source. When anything fails before the deletion, the partial copy on the
// target is deleted and the source is untouched.
//
// Not carried: empty directories (BundleWorkspace has no empty directories to give), remotes
// and other repository config, an index that differs from HEAD (staged-but-uncommitted changes
// come back as unstaged ones). A merge in progress is refused (FAILED_PRECONDITION): complete
// or abort it first. Writes to the source while it moves make the final check fail (ABORTED);
// run moves while agents are quiet, and again if one is aborted.
#ifndef WORKERPAIR_SERVICES_CONTROLLER_WORKSPACE_MOVE_H_
#define WORKERPAIR_SERVICES_CONTROLLER_WORKSPACE_MOVE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "services/controller/light_client.h"

namespace workerpair::controller {

struct MoveReport {
  std::string workspace;
  std::uint32_t files = 0;
  std::uint64_t bytes = 0;
  // False for a workspace that is no git repository.
  bool history = false;
  // HEAD commit ("" when unborn or no repository) and the number of branches moved.
  std::string head;
  std::uint32_t branches = 0;
};

// Errors: NOT_FOUND (not on `from`), ALREADY_EXISTS (already on `to`: inspect, then delete one),
// FAILED_PRECONDITION (merge in progress), ABORTED (the copy differs from the source, or the
// source changed during the move), and whatever the calls return.
absl::StatusOr<MoveReport> MoveWorkspace(LightClient& from, LightClient& to,
                                         const std::string& workspace);

}  // namespace workerpair::controller

#endif  // WORKERPAIR_SERVICES_CONTROLLER_WORKSPACE_MOVE_H_
