// FlowReport as JSON: what `controller run --json` prints and results/<run>/result.json holds.
#include <nlohmann/json.hpp>

#include "services/controller/flow.h"
#include "services/controller/proto_json.h"

namespace workerpair::controller {
namespace {

// A protobuf message as a JSON value (field names in lowerCamelCase); null if it cannot be
// printed.
nlohmann::json ProtoJson(const google::protobuf::Message& message) {
  return nlohmann::json::parse(ProtoJsonText(message, JsonFieldNames::kLowerCamel).value_or("null"),
                               nullptr, /*allow_exceptions=*/false);
}

}  // namespace

std::string FlowReportToJson(const FlowReport& report) {
  nlohmann::json json;
  json["run"] = report.run_name;
  json["ok"] = report.status.ok();
  json["succeeded"] = report.succeeded();
  if (!report.status.ok()) {
    json["error"] = {{"step", report.failed_step},
                     {"code", absl::StatusCodeToString(report.status.code())},
                     {"message", std::string(report.status.message())}};
  }
  nlohmann::json steps = nlohmann::json::array();
  for (const FlowStep& step : report.steps) {
    steps.push_back({{"name", step.name},
                     {"ok", step.status.ok()},
                     {"seconds", absl::ToDoubleSeconds(step.elapsed)},
                     {"summary", step.summary}});
  }
  json["steps"] = std::move(steps);
  nlohmann::json diagnostics = nlohmann::json::array();
  for (const v1::Diagnostic& diagnostic : report.diagnostics) {
    diagnostics.push_back(ProtoJson(diagnostic));
  }
  json["diagnostics"] = std::move(diagnostics);
  nlohmann::json findings = nlohmann::json::array();
  for (const v1::TopologyFinding& finding : report.topology_findings) {
    findings.push_back(ProtoJson(finding));
  }
  json["topologyFindings"] = std::move(findings);
  json["sceneCommit"] = report.scene_commit;
  json["payload"] = {{"sha256", report.payload_sha256}, {"bytes", report.payload_bytes}};
  if (report.build.has_stats()) json["build"] = ProtoJson(report.build);
  json["replicas"] = report.replicas;
  json["attempts"] = report.attempts;
  if (report.simulate_result) json["simulate"] = ProtoJson(*report.simulate_result);
  if (report.verify_result) json["verify"] = ProtoJson(*report.verify_result);
  json["resultsDir"] = report.results_dir;
  json["resultFiles"] = report.result_files;
  json["resultsCommit"] = report.results_commit;
  return json.dump(2) + "\n";
}

}  // namespace workerpair::controller
