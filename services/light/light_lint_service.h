// LightLintService: the gRPC adapter for lint.
//
// Each handler resolves the workspace, is admitted by the LightCallPolicy (time limit, client
// cancellation, per-workspace concurrency cap), calls Linter (services/light/core/lint) with the
// call's budget and converts the LintReport to a LintResult; errors are mapped once.
//
//   light::Linter linter(light::LintOptions{});
//   light::LightLintService lint_service(store, &linter, &policy);   // LightCallPolicy
//   runner.AddService(&lint_service, v1::LightLintService::service_full_name());
#ifndef WORKERPAIR_SERVICES_LIGHT_LIGHT_LINT_SERVICE_H_
#define WORKERPAIR_SERVICES_LIGHT_LIGHT_LINT_SERVICE_H_

#include "services/light/core/files/workspace_store.h"
#include "services/light/core/lint/linter.h"
#include "services/light/light_call_policy.h"
#include "workerpair/v1/light_lint.grpc.pb.h"

namespace workerpair::light {

class LightLintService final : public workerpair::v1::LightLintService::Service {
 public:
  LightLintService(WorkspaceStore* store, const Linter* linter, LightCallPolicy* policy)
      : store_(store), linter_(linter), policy_(policy) {}

  grpc::Status LintFile(grpc::ServerContext*, const v1::LintFileRequest*,
                        v1::LintFileResponse*) override;
  grpc::Status LintWorkspace(grpc::ServerContext*, const v1::LintWorkspaceRequest*,
                             v1::LintWorkspaceResponse*) override;

 private:
  WorkspaceStore* store_;
  const Linter* linter_;
  LightCallPolicy* policy_;
};

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_LIGHT_LINT_SERVICE_H_
