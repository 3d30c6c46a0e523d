#include "services/controller/controller_jobs.h"

#include <optional>
#include <utility>

#include "libs/common/error_reason.h"
#include "libs/common/request_trace.h"
#include "libs/common/sha256.h"
#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "services/controller/flow.h"

namespace workerpair::controller {
namespace {

std::shared_ptr<v1::JobResult> NewResult() { return std::make_shared<v1::JobResult>(); }

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

// The heavy client's progress as the job's: lines, and whether it waits for capacity (demand).
ProgressCallback HeavyReporter(JobControl& control, std::string step) {
  return [&control, step = std::move(step)](const HeavyProgress& p) {
    if (p.waiting_for_capacity) {
      control.SetWaiting(true);
    } else if (!p.replica.empty()) {
      control.SetWaiting(false);
    }
    control.Report({.step = step, .replica = p.replica, .attempt = p.attempt, .line = p.summary});
  };
}

// The scene of a heavy job, or why there is none (also: cancelled while bundling).
absl::StatusOr<Payload> LoadHeavyScene(const v1::ScenePayload& scene, LightPool& light,
                                       JobControl& control, const std::string& step) {
  WP_ASSIGN_OR_RETURN(Payload payload, LoadScene(scene, light, control, step));
  if (control.cancelled()) return CancelledByCaller();
  return payload;
}

JobOutcome Done(std::shared_ptr<v1::JobResult> result) {
  return {absl::OkStatus(), std::shared_ptr<const v1::JobResult>(std::move(result))};
}

JobWork VerifyWork(v1::VerifyJobSpec spec, LightPool& light, HeavyClient& heavy) {
  return [spec = std::move(spec), &light, &heavy](JobControl& control) -> JobOutcome {
    auto payload = LoadHeavyScene(spec.payload(), light, control, "verify");
    if (!payload.ok()) return {payload.status(), {}};
    std::optional<double> jitter;
    if (spec.has_jitter_m()) jitter = spec.jitter_m();
    auto summary = heavy.Verify(*payload, spec.runs() == 0 ? 8 : spec.runs(), spec.base_seed(),
                                jitter, HeavyReporter(control, "verify"),
                                &control.cancellation());
    if (!summary.ok()) return {summary.status(), {}};
    auto result = NewResult();
    v1::VerifyJobResult* verify = result->mutable_verify();
    *verify->mutable_result() = std::move(summary->result);
    for (const std::string& replica : summary->replicas) verify->add_replicas(replica);
    verify->set_attempts(summary->attempts);
    verify->set_kept_runs(summary->kept_runs);
    return Done(std::move(result));
  };
}

JobWork RenderViewsWork(v1::RenderViewsJobSpec spec, LightPool& light, HeavyClient& heavy) {
  return [spec = std::move(spec), &light, &heavy](JobControl& control) -> JobOutcome {
    auto payload = LoadHeavyScene(spec.payload(), light, control, "render_views");
    if (!payload.ok()) return {payload.status(), {}};
    auto rendered = heavy.RenderViews(*payload, spec.options(),
                                      HeavyReporter(control, "render_views"),
                                      &control.cancellation());
    if (!rendered.ok()) return {rendered.status(), {}};
    auto result = NewResult();
    v1::RenderViewsJobResult* out = result->mutable_render_views();
    for (v1::RenderedView& view : rendered->value.views) *out->add_views() = std::move(view);
    *out->mutable_result() = std::move(rendered->value.result);
    out->set_replica(rendered->replica);
    out->set_attempts(rendered->attempts);
    return Done(std::move(result));
  };
}

JobWork BuildSceneWork(v1::BuildSceneJobSpec spec, LightPool& light, HeavyClient& heavy) {
  return [spec = std::move(spec), &light, &heavy](JobControl& control) -> JobOutcome {
    auto payload = LoadHeavyScene(spec.payload(), light, control, "build_scene");
    if (!payload.ok()) return {payload.status(), {}};
    auto built = heavy.BuildScene(*payload, spec.return_mjcf(),
                                  HeavyReporter(control, "build_scene"), &control.cancellation());
    if (!built.ok()) return {built.status(), {}};
    auto result = NewResult();
    v1::BuildSceneJobResult* out = result->mutable_build_scene();
    *out->mutable_build() = std::move(built->value);
    out->set_replica(built->replica);
    out->set_attempts(built->attempts);
    return Done(std::move(result));
  };
}

JobWork SimulationWork(v1::SimulationJobSpec spec, LightPool& light, HeavyClient& heavy) {
  return [spec = std::move(spec), &light, &heavy](JobControl& control) -> JobOutcome {
    auto payload = LoadHeavyScene(spec.payload(), light, control, "simulate");
    if (!payload.ok()) return {payload.status(), {}};
    std::string heavy_job_id;  // of the attempt that ran it
    const ProgressCallback reporter = HeavyReporter(control, "simulate");
    auto run = heavy.Simulate(
        *payload, spec.options(),
        [&](const HeavyProgress& event) {
          if (!event.job_id.empty()) heavy_job_id = event.job_id;
          if (reporter) reporter(event);
        },
        &control.cancellation());
    if (!run.ok()) return {run.status(), {}};
    auto result = NewResult();
    v1::SimulationJobResult* simulation = result->mutable_simulation();
    if (const RequestTrace* trace = CurrentRequestTrace()) {
      simulation->set_request_id(trace->request_id);
      simulation->set_trace_id(trace->trace_id);
    }
    simulation->set_heavy_job_id(heavy_job_id);
    simulation->set_payload_sha256(payload->sha256);
    simulation->set_payload_bytes(payload->bytes.size());
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
    request.cancel = &control.cancellation();
    if (absl::Status misplaced = light.RefuseMisplaced(request.workspace); !misplaced.ok()) {
      return {misplaced, {}};
    }
    FlowReport report = RunFlow(light.For(request.workspace), heavy, request,
                                [&control](const FlowProgress& p) {
                                  JobProgressLine line{.step = p.step, .line = p.line};
                                  if (p.heavy != nullptr) {
                                    line.replica = p.heavy->replica;
                                    line.attempt = p.heavy->attempt;
                                    if (p.heavy->waiting_for_capacity) {
                                      control.SetWaiting(true);
                                    } else if (!p.heavy->replica.empty()) {
                                      control.SetWaiting(false);
                                    }
                                  } else {
                                    control.SetWaiting(false);
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
    case v1::JobSpec::kVerify: return "verify";
    case v1::JobSpec::kRenderViews: return "render_views";
    case v1::JobSpec::kBuildScene: return "build_scene";
    default: return "";
  }
}

const std::vector<std::string>& JobKinds() {
  static const std::vector<std::string> kinds = {"flow", "simulation", "verify", "render_views",
                                                 "build_scene"};
  return kinds;
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
    case v1::JobSpec::kVerify: {
      WP_RETURN_IF_ERROR(CheckScene(spec.verify().payload(), "verify.payload"));
      if (spec.verify().runs() > 1000) {
        return absl::InvalidArgumentError(StrCat("verify.runs is ", spec.verify().runs(),
                                                 "; at most 1000"));
      }
      return VerifyWork(spec.verify(), light, heavy);
    }
    case v1::JobSpec::kRenderViews: {
      WP_RETURN_IF_ERROR(CheckScene(spec.render_views().payload(), "render_views.payload"));
      return RenderViewsWork(spec.render_views(), light, heavy);
    }
    case v1::JobSpec::kBuildScene: {
      WP_RETURN_IF_ERROR(CheckScene(spec.build_scene().payload(), "build_scene.payload"));
      return BuildSceneWork(spec.build_scene(), light, heavy);
    }
    default:
      return absl::InvalidArgumentError(
          "the job spec is empty: set flow, simulation, verify, render_views or build_scene");
  }
}

std::shared_ptr<const v1::JobResult> JobResultOf(const std::any& result) {
  if (const auto* held = std::any_cast<std::shared_ptr<const v1::JobResult>>(&result)) return *held;
  return nullptr;
}

}  // namespace workerpair::controller
