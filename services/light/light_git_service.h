// LightGitService: the gRPC adapter for git inside a workspace.
//
// Each handler resolves the workspace, converts the request to core types, calls GitCore
// (services/light/core/git) and converts the result back; errors are mapped to gRPC codes once.
//
//   light::GitCore git(light::GitOptions{});
//   light::LightGitService git_service(store, &git, &policy);   // LightCallPolicy
//   runner.AddService(&git_service, v1::LightGitService::service_full_name());
#ifndef WORKERPAIR_SERVICES_LIGHT_LIGHT_GIT_SERVICE_H_
#define WORKERPAIR_SERVICES_LIGHT_LIGHT_GIT_SERVICE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "services/light/core/files/workspace_store.h"
#include "services/light/core/git/git_core.h"
#include "services/light/light_call_policy.h"
#include "workerpair/v1/light_git.grpc.pb.h"

namespace workerpair::light {

class LightGitService final : public workerpair::v1::LightGitService::Service {
 public:
  // `policy` admits every git call (each holds the workspace's lock, so they count as
  // expensive): per-workspace and total caps, and no start once the client has gone.
  LightGitService(WorkspaceStore* store, GitCore* git, LightCallPolicy* policy)
      : store_(store), git_(git), policy_(policy) {}

  grpc::Status GitInit(grpc::ServerContext*, const v1::GitInitRequest*,
                       v1::GitInitResponse*) override;
  grpc::Status GitStatus(grpc::ServerContext*, const v1::GitStatusRequest*,
                         v1::GitStatusResponse*) override;
  grpc::Status GitDiff(grpc::ServerContext*, const v1::GitDiffRequest*,
                       v1::GitDiffResponse*) override;
  grpc::Status GitCommit(grpc::ServerContext*, const v1::GitCommitRequest*,
                         v1::GitCommitResponse*) override;
  grpc::Status GitLog(grpc::ServerContext*, const v1::GitLogRequest*,
                      v1::GitLogResponse*) override;
  grpc::Status GitCreateBranch(grpc::ServerContext*, const v1::GitCreateBranchRequest*,
                               v1::GitCreateBranchResponse*) override;
  grpc::Status GitCheckout(grpc::ServerContext*, const v1::GitCheckoutRequest*,
                           v1::GitCheckoutResponse*) override;
  grpc::Status GitMerge(grpc::ServerContext*, const v1::GitMergeRequest*,
                        v1::GitMergeResponse*) override;
  grpc::Status GitResolveConflict(grpc::ServerContext*, const v1::GitResolveConflictRequest*,
                                  v1::GitResolveConflictResponse*) override;
  grpc::Status GitAbortMerge(grpc::ServerContext*, const v1::GitAbortMergeRequest*,
                             v1::GitAbortMergeResponse*) override;
  grpc::Status GitCompleteMerge(grpc::ServerContext*, const v1::GitCompleteMergeRequest*,
                                v1::GitCompleteMergeResponse*) override;
  grpc::Status GitPush(grpc::ServerContext*, const v1::GitPushRequest*,
                       v1::GitPushResponse*) override;
  grpc::Status GitExportHistory(grpc::ServerContext*, const v1::GitExportHistoryRequest*,
                                v1::GitExportHistoryResponse*) override;
  grpc::Status GitImportHistory(grpc::ServerContext*, const v1::GitImportHistoryRequest*,
                                v1::GitImportHistoryResponse*) override;

 private:
  // What every handler starts with: its workspace resolved, then the call admitted by the
  // policy (NOT_FOUND, RESOURCE_EXHAUSTED, CANCELLED, DEADLINE_EXCEEDED otherwise). The core
  // polls budget() and stops when the client goes or the time runs out.
  struct AdmittedCall {
    Workspace ws;
    ExpensiveCall call;
    const CallBudget* budget() const { return &call.budget(); }
  };
  absl::StatusOr<AdmittedCall> Admit(grpc::ServerContext* context, const std::string& workspace,
                                     std::string_view what);

  WorkspaceStore* store_;
  GitCore* git_;
  LightCallPolicy* policy_;
};

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_LIGHT_GIT_SERVICE_H_
