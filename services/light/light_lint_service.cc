#include "services/light/light_lint_service.h"

#include "libs/rpc/grpc_status.h"

namespace workerpair::light {
namespace {

v1::Severity ToProto(Severity severity) {
  switch (severity) {
    case Severity::kInfo: return v1::SEVERITY_INFO;
    case Severity::kWarning: return v1::SEVERITY_WARNING;
    case Severity::kError: return v1::SEVERITY_ERROR;
  }
  return v1::SEVERITY_UNSPECIFIED;
}

void ToProto(LintReport report, v1::LintResult* response) {
  response->set_ok(report.ok());
  response->set_files_checked(report.files_checked());
  response->set_error_count(report.error_count());
  response->set_warning_count(report.warning_count());
  response->set_truncated(report.truncated());
  for (Diagnostic& diagnostic : report.mutable_diagnostics()) {
    v1::Diagnostic* out = response->add_diagnostics();
    out->set_path(std::move(diagnostic.path));
    out->set_line(diagnostic.line);
    out->set_column(diagnostic.column);
    out->set_code(std::move(diagnostic.code));
    out->set_severity(ToProto(diagnostic.severity));
    out->set_message(std::move(diagnostic.message));
  }
}

}  // namespace

grpc::Status LightLintService::LintFile(grpc::ServerContext* context,
                                        const v1::LintFileRequest* request,
                                        v1::LintFileResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(Workspace ws, store_->Get(request->workspace()));
  WP_GRPC_ASSIGN_OR_RETURN(ExpensiveCall call, policy_->Admit(context, ws.name, "LintFile"));
  WP_GRPC_ASSIGN_OR_RETURN(
      LintReport report,
      linter_->LintFile(ws, request->path(),
                        {.external = !request->skip_external(), .budget = &call.budget()}));
  ToProto(std::move(report), response->mutable_result());
  return grpc::Status::OK;
}

grpc::Status LightLintService::LintWorkspace(grpc::ServerContext* context,
                                             const v1::LintWorkspaceRequest* request,
                                             v1::LintWorkspaceResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(Workspace ws, store_->Get(request->workspace()));
  WP_GRPC_ASSIGN_OR_RETURN(ExpensiveCall call, policy_->Admit(context, ws.name, "LintWorkspace"));
  WorkspaceLintOptions options{request->path(), request->glob(), !request->skip_external(),
                               &call.budget()};
  WP_GRPC_ASSIGN_OR_RETURN(LintReport report, linter_->LintWorkspace(ws, options));
  ToProto(std::move(report), response->mutable_result());
  return grpc::Status::OK;
}

}  // namespace workerpair::light
