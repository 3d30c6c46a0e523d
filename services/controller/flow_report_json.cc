// FlowReport as a v1::FlowJobResult (controller.proto): one shape for ControllerService's flow
// jobs, `controller --json run` and results/<run>/flow.json, printed by the protobuf JSON
// mapping (proto_json.h).
#include "libs/common/error_reason.h"
#include "services/controller/flow.h"
#include "services/controller/proto_json.h"

namespace workerpair::controller {
namespace {

void SetStepError(const absl::Status& status, v1::JobError* error) {
  error->set_code(static_cast<int>(status.code()));
  error->set_message(std::string(status.message()));
  if (ReasonOf(status) != ErrorReason::kUnspecified) {
    error->set_reason(std::string(ErrorReasonName(ReasonOf(status))));
  }
}

}  // namespace

void FillFlowResult(const FlowReport& report, v1::FlowJobResult* out) {
  out->set_succeeded(report.succeeded());
  out->set_failed_step(report.failed_step);
  for (const FlowStep& step : report.steps) {
    v1::FlowStepReport* s = out->add_steps();
    s->set_name(step.name);
    s->set_elapsed_s(absl::ToDoubleSeconds(step.elapsed));
    s->set_summary(step.summary);
    if (!step.status.ok()) SetStepError(step.status, s->mutable_error());
  }
  out->set_run_name(report.run_name);
  for (const auto& d : report.diagnostics) *out->add_diagnostics() = d;
  for (const auto& f : report.topology_findings) *out->add_topology_findings() = f;
  out->set_scene_commit(report.scene_commit);
  out->set_payload_sha256(report.payload_sha256);
  out->set_payload_bytes(report.payload_bytes);
  *out->mutable_build() = report.build;
  for (const auto& r : report.replicas) out->add_replicas(r);
  out->set_attempts(report.attempts);
  if (report.simulate_result) *out->mutable_simulate_result() = *report.simulate_result;
  if (report.verify_result) *out->mutable_verify_result() = *report.verify_result;
  out->set_results_dir(report.results_dir);
  for (const auto& f : report.result_files) out->add_result_files(f);
  out->set_results_commit(report.results_commit);
  out->set_request_id(report.request_id);
  out->set_trace_id(report.trace_id);
  for (const auto& id : report.heavy_job_ids) out->add_heavy_job_ids(id);
}

std::string FlowReportToJson(const FlowReport& report) {
  v1::FlowJobResult result;
  FillFlowResult(report, &result);
  return ProtoJsonText(result, /*pretty=*/true).value_or("{}") + "\n";
}

}  // namespace workerpair::controller
