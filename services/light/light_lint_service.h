// LightLintService: the gRPC adapter for lint.
//
// Each handler resolves the workspace, calls Linter (services/light/core/lint) and converts the
// LintReport to a LintResponse; errors are mapped to gRPC codes once.
//
//   light::Linter linter(light::LintOptions{});
//   light::LightLintService lint_service(store, &linter);
//   runner.AddService(&lint_service, v1::LightLint::service_full_name());
#ifndef WORKERPAIR_SERVICES_LIGHT_LIGHT_LINT_SERVICE_H_
#define WORKERPAIR_SERVICES_LIGHT_LIGHT_LINT_SERVICE_H_

#include "services/light/core/files/workspace_store.h"
#include "services/light/core/lint/workspace_lint.h"
#include "workerpair/v1/light_lint.grpc.pb.h"

namespace workerpair::light {

class LightLintService final : public workerpair::v1::LightLint::Service {
 public:
  LightLintService(WorkspaceStore* store, const Linter* linter) : store_(store), linter_(linter) {}

  grpc::Status LintFile(grpc::ServerContext*, const v1::LintFileRequest*,
                        v1::LintResponse*) override;
  grpc::Status LintWorkspace(grpc::ServerContext*, const v1::LintWorkspaceRequest*,
                             v1::LintResponse*) override;

 private:
  WorkspaceStore* store_;
  const Linter* linter_;
};

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_LIGHT_LINT_SERVICE_H_
