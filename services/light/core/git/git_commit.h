// Internal: staging and committing, shared by GitCore::Commit and GitCore::CompleteMerge.
//
//   WP_ASSIGN_OR_RETURN(CommitResult c, CommitChanges(repo.get(), ws, request, false));
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_GIT_GIT_COMMIT_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_GIT_GIT_COMMIT_H_

#include <git2.h>

#include "absl/status/statusor.h"
#include "services/light/core/files/workspace_store.h"
#include "services/light/core/git/git_core.h"

namespace workerpair::light::git_internal {

// Stages `request.paths` (all changes when empty) and commits them on HEAD; while merging the
// commit gets the merged commits as further parents and the merge state is cleared. With
// `require_merge`, FAILED_PRECONDITION when no merge is in progress. Other errors as
// GitCore::Commit. The caller holds the workspace lock.
absl::StatusOr<CommitResult> CommitChanges(git_repository* repo, const Workspace& ws,
                                           const CommitRequest& request, bool require_merge);

}  // namespace workerpair::light::git_internal

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_GIT_GIT_COMMIT_H_
