#include "services/controller/controller_jobs.h"

#include <utility>

#include "libs/common/error_reason.h"
#include "libs/common/sha256.h"
#include "libs/common/str_cat.h"
#include "services/controller/flow.h"

namespace workerpair::controller {
namespace {

std::shared_ptr<v1::JobResult> NewResult() { return std::make_shared<v1::JobResult>(); }

void SetError(const absl::Status& status, v1::JobError* error) {
  error->set_code(static_cast<int>(status.code()));
  error->set_message(std::string(status.message()));
  if (ReasonOf(status) != ErrorReason::kUnspecified) {
    error->set_reason(std::string(ErrorReasonName(ReasonOf(status))));
  }
}

// The caller's payload checked, or the workspace bundled through worker-light.
absl::StatusOr<Payload> LoadScene(const v1::ScenePayload& scene, LightPool& light,
                                  JobControl& control, const std::string& step) {
  if (scene.has_archive()) {
    Payload payload{scene.archive(), Sha256Hex(scene.archive())};
    if (!scene.archive_sha256().empty() && scene.archive_sha256() != payload.sha256) {
      return absl::DataLossError(StrCat("payload.archive_sha256 is ", scene.archive_sha256(),
                                        " but the archive's SHA-256 is ", payload.sha256));
    }
    return payload;
  }
  control.Report({.step = step, .line = StrCat("bundling workspace ", scene.workspace())});
  v1::BundleWorkspaceRequest request;
  request.set_workspace(scene.workspace());
  auto bundle = light.For(scene.workspace()).BundleWorkspace(request, kMaxJobPayloadBytes);
  if (!bundle.ok()) return light.Explain(bundle.status(), scene.workspace());
  control.Report({.step = step,
                  .line = StrCat("bundled ", bundle->summary.file_count(), " files, ",
                                 bundle->bytes.size(), " bytes")});
  return Payload{std::move(bundle->bytes), bundle->summary.sha256()};
}

absl::Status CheckScene(const v1::ScenePayload& scene, std::string_view field) {
  switch (scene.source_case()) {
    case v1::ScenePayload::kWorkspace:
      if (scene.workspace().empty()) return absl::InvalidArgumentError(StrCat(field, ".workspace is empty"));
      return absl::OkStatus();
    case v1::ScenePayload::kArchive:
      if (scene.archive().empty()) return absl::InvalidArgumentError(StrCat(field, ".archive is empty"));
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError(StrCat(field, " needs a workspace or an archive"));
  }
}

JobWork SimulationWork(v1::SimulationJobSpec spec, LightPool& light, HeavyClient& heavy) {
  return [spec = std::move(spec), &light, &heavy](JobControl& control) -> JobOutcome {
    auto payload = LoadScene(spec.payload(), light, control, "simulate");
    if (!payload.ok()) return {payload.status(), {}};
    auto run = heavy.Simulate(*payload, spec.options(), [&control](const HeavyProgress& p) {
      control.Report({.step = "simulate", .replica = p.replica, .attempt = p.attempt,
                      .line = p.summary});
    });
    if (!run.ok()) return {run.status(), {}};
    auto result = NewResult();
    v1::SimulationJobResult* simulation = result->mutable_simulation();
    *simulation->mutable_result() = std::move(run->value.result);
    for (auto& [name, artifact] : run->value.artifacts) {
      v1::JobArtifact* out = simulation->add_artifacts();
      out->set_name(name);
      out->set_media_type(artifact.media_type);
      out->set_data(std::move(artifact.data));
    }
    simulation->set_replica(run->replica);
    simulation->set_attempts(run->attempts);
    return {absl::OkStatus(), std::shared_ptr<const v1::JobResult>(std::move(result))};
  };
}

void FillFlowResult(const FlowReport& report, v1::FlowJobResult* out) {
  out->set_succeeded(report.succeeded());
  out->set_failed_step(report.failed_step);
  for (const FlowStep& step : report.steps) {
    v1::FlowStepReport* s = out->add_steps();
    s->set_name(step.name);
    s->set_elapsed_s(absl::ToDoubleSeconds(step.elapsed));
    s->set_summary(step.summary);
    if (!step.status.ok()) SetError(step.status, s->mutable_error());
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
}

JobWork FlowWork(v1::FlowJobSpec spec, LightPool& light, HeavyClient& heavy) {
  return [spec = std::move(spec), &light, &heavy](JobControl& control) -> JobOutcome {
    FlowRequest request;
    request.workspace = spec.workspace();
    for (const v1::FlowFile& file : spec.files()) request.files.emplace_back(file.path(), file.content());
    request.run_name = spec.run_name();
    request.mode = spec.mode() == v1::FLOW_MODE_VERIFY ? FlowMode::kVerify : FlowMode::kSimulate;
    request.simulate = spec.simulate();
    if (spec.verify_runs() > 0) request.verify_runs = spec.verify_runs();
    if (spec.has_base_seed()) request.base_seed = spec.base_seed();
    if (spec.has_jitter_m()) request.jitter_m = spec.jitter_m();
    request.skip_external_linters = spec.skip_external_linters();
    if (absl::Status misplaced = light.RefuseMisplaced(request.workspace); !misplaced.ok()) {
      return {misplaced, {}};
    }
    FlowReport report = RunFlow(light.For(request.workspace), heavy, request,
                                [&control](const FlowProgress& p) {
                                  JobProgressLine line{.step = p.step, .line = p.line};
                                  if (p.heavy != nullptr) {
                                    line.replica = p.heavy->replica;
                                    line.attempt = p.heavy->attempt;
                                  }
                                  control.Report(std::move(line));
                                });
    auto result = NewResult();
    FillFlowResult(report, result->mutable_flow());
    absl::Status status = report.status;
    if (!status.ok()) {
      status = absl::Status(status.code(), StrCat("flow step ", report.failed_step, ": ",
                                                  std::string(status.message())));
      status = WithReason(status, ReasonOf(report.status));
    }
    return {status, std::shared_ptr<const v1::JobResult>(std::move(result))};
  };
}

}  // namespace

std::string JobKind(const v1::JobSpec& spec) {
  switch (spec.kind_case()) {
    case v1::JobSpec::kFlow: return "flow";
    case v1::JobSpec::kSimulation: return "simulation";
    default: return "";
  }
}

absl::StatusOr<JobWork> MakeJobWork(const v1::JobSpec& spec, LightPool& light,
                                    HeavyClient& heavy) {
  switch (spec.kind_case()) {
    case v1::JobSpec::kFlow: {
      const v1::FlowJobSpec& flow = spec.flow();
      if (flow.workspace().empty()) return absl::InvalidArgumentError("flow.workspace is empty");
      if (flow.verify_runs() > 1000) {
        return absl::InvalidArgumentError(StrCat("flow.verify_runs is ", flow.verify_runs(),
                                                 "; at most 1000"));
      }
      return FlowWork(flow, light, heavy);
    }
    case v1::JobSpec::kSimulation: {
      WP_RETURN_IF_ERROR(CheckScene(spec.simulation().payload(), "simulation.payload"));
      return SimulationWork(spec.simulation(), light, heavy);
    }
    default:
      return absl::InvalidArgumentError("the job spec is empty: set flow or simulation");
  }
}

std::shared_ptr<const v1::JobResult> JobResultOf(const std::any& result) {
  if (const auto* held = std::any_cast<std::shared_ptr<const v1::JobResult>>(&result)) return *held;
  return nullptr;
}

}  // namespace workerpair::controller
