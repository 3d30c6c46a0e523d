#include "services/heavy/runner/runner_jobs.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "libs/common/error_reason.h"
#include "libs/common/sha256.h"
#include "libs/common/str_cat.h"
#include "libs/common/file_io.h"
#include "services/heavy/core/scene/manifest.h"
#include "services/heavy/runner/frame_io.h"
#include "services/heavy/runner/shared_scene.h"

namespace workerpair::heavy {
namespace fs = std::filesystem;
using sim::BodyContactStress;
using sim::GeomContactLoad;
using sim::SimEvent;
using sim::SimMetrics;
using sim::SimOutcome;
using sim::SimProgress;
using sim::SimResult;
namespace {

using internal::RunnerMessage;

void Send(const RunnerJobContext& context, const RunnerMessage& message) {
  // A parent that is gone kills this runner (PR_SET_PDEATHSIG); nothing to do about it here.
  (void)WriteFrame(context.fd, message);
}

v1::Outcome ToOutcome(SimOutcome outcome) {
  return outcome == SimOutcome::kSuccess ? v1::OUTCOME_SUCCESS : v1::OUTCOME_FAILURE;
}

v1::FailReason ToFailReason(SimOutcome outcome) {
  switch (outcome) {
    case SimOutcome::kTimeout: return v1::FAIL_REASON_TIMEOUT;
    case SimOutcome::kOutOfBounds: return v1::FAIL_REASON_OUT_OF_BOUNDS;
    case SimOutcome::kForbidZoneHit: return v1::FAIL_REASON_FORBID_ZONE_HIT;
    case SimOutcome::kPhysicsInstability: return v1::FAIL_REASON_PHYSICS_INSTABILITY;
    case SimOutcome::kMotorOverload: return v1::FAIL_REASON_MOTOR_OVERLOAD;
    case SimOutcome::kSuccess:
    case SimOutcome::kCancelled: break;
  }
  return v1::FAIL_REASON_UNSPECIFIED;
}

void ToProto(const SimMetrics& metrics, std::int64_t frames, v1::SimulationMetrics* out) {
  out->set_sim_time_s(metrics.sim_time_s);
  out->set_steps(static_cast<std::uint64_t>(metrics.steps));
  out->set_total_energy_j(metrics.energy_final_j);
  out->set_max_velocity_mps(metrics.max_linear_speed);
  out->set_max_contact_force_n(metrics.max_single_contact_force_n);
  out->set_wall_time_s(metrics.wall_time_s);
  out->set_frames_rendered(static_cast<std::uint64_t>(frames));
}

// The job's digest, when it is one (64 lowercase hex characters); else none (nothing cached).
std::string CacheKey(const std::string& sha256) {
  if (sha256.size() != 64) return {};
  for (char c : sha256) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return {};
  }
  return sha256;
}

job::JobEnv MakeEnv(const RunnerJobContext& context, const std::string& sha256,
                    job::SceneUse* use) {
  job::JobEnv env;
  env.limits = &context.limits;
  env.render_thread = context.render_thread;
  env.renderers = context.renderers;
  env.scenes = context.scenes;
  env.payload_sha256 = CacheKey(sha256);
  env.scene_use = use;
  env.set_phase = [&context](std::string_view phase) {
    RunnerMessage message;
    message.set_phase(std::string(phase));
    Send(context, message);
  };
  return env;
}

// Progress and artifact chunks as SimulateEvents.
class EventSink : public job::SimulateSink {
 public:
  explicit EventSink(const RunnerJobContext* context) : context_(context) {}

  void OnProgress(const SimProgress& progress, std::int64_t frames_rendered) override {
    RunnerMessage message;
    v1::SimulateProgress* out = message.mutable_simulate()->mutable_progress();
    out->set_sim_time_s(progress.sim_time_s);
    out->set_duration_s(progress.duration_s);
    out->set_steps(static_cast<std::uint64_t>(progress.steps));
    out->set_frames_rendered(static_cast<std::uint64_t>(frames_rendered));
    Send(*context_, message);
  }

  bool OnArtifact(const job::Artifact& artifact) override {
    if (!sending_) {
      sending_ = true;
      RunnerMessage phase;
      phase.set_phase("sending");
      Send(*context_, phase);
    }
    const std::string digest = Sha256Hex(artifact.bytes);
    const std::size_t chunk_bytes = std::max<std::size_t>(context_->artifact_chunk_bytes, 1);
    std::size_t offset = 0;
    do {
      const std::size_t n = std::min(chunk_bytes, artifact.bytes.size() - offset);
      RunnerMessage message;
      v1::ArtifactChunk* chunk = message.mutable_simulate()->mutable_artifact();
      chunk->set_name(artifact.name);
      chunk->set_media_type(artifact.media_type);
      chunk->set_offset(offset);
      chunk->set_data(artifact.bytes.substr(offset, n));
      chunk->set_total_bytes(artifact.bytes.size());
      offset += n;
      chunk->set_last(offset == artifact.bytes.size());
      if (chunk->last()) chunk->set_sha256(digest);
      if (!WriteFrame(context_->fd, message).ok()) return false;
    } while (offset < artifact.bytes.size());
    return true;
  }

 private:
  const RunnerJobContext* context_;
  bool sending_ = false;
};

absl::Status RunSimulate(const internal::JobRequest& request, const fs::path& job_dir,
                         const RunnerJobContext& context, const job::JobEnv& env) {
  const v1::SimulateHeader& header = request.simulate();
  const v1::SimulateOptions& options = header.options();
  job::SimulateOverrides overrides;
  if (options.has_render()) overrides.render = options.render();
  if (options.has_duration_s()) overrides.duration_s = options.duration_s();
  if (options.has_timestep_s()) overrides.timestep_s = options.timestep_s();
  if (options.has_seed()) overrides.seed = options.seed();
  if (options.has_width()) overrides.width = static_cast<int>(std::min<std::uint32_t>(options.width(), 1 << 20));
  if (options.has_height()) overrides.height = static_cast<int>(std::min<std::uint32_t>(options.height(), 1 << 20));
  if (options.has_fps()) overrides.fps = static_cast<int>(std::min<std::uint32_t>(options.fps(), 1 << 20));
  overrides.camera = options.camera();
  overrides.progress_interval_s = options.progress_interval_s();
  EventSink sink(&context);
  absl::StatusOr<job::SimulateOutput> output =
      job::RunSimulateJob(job_dir, overrides, env, &sink);
  if (!output.ok()) return output.status();
  const SimResult& result = output->result;
  RunnerMessage message;
  v1::SimulateResult* out = message.mutable_simulate()->mutable_result();
  for (const std::string& name : output->artifacts) out->add_artifacts(name);
  out->set_outcome(ToOutcome(result.outcome));
  out->set_fail_reason(ToFailReason(result.outcome));
  out->set_detail(result.detail);
  ToProto(result.metrics, output->frames_rendered, out->mutable_metrics());
  for (const BodyContactStress& part : result.stress) {
    if (part.body_id == 0) continue;  // the world is not a part
    v1::PartStressEstimate* stress = out->add_stress();
    stress->set_part(part.body);
    stress->set_peak_force_n(part.peak_force_n);
    stress->set_mean_force_n(part.mean_force_n);
    for (double coordinate : part.peak_pos) stress->add_peak_location(coordinate);
    stress->set_safety_factor(part.safety_factor);
    stress->set_peak_time_s(part.peak_time_s);
    stress->set_peak_single_contact_force_n(part.peak_single_contact_n);
  }
  for (const GeomContactLoad& load : result.geom_loads) {
    if (load.body_id != 0) continue;  // the world's geoms: static parts, each its own
    v1::PartStressEstimate* stress = out->add_stress();
    stress->set_part(load.label);
    stress->set_fixed(true);
    stress->set_peak_force_n(load.peak_force_n);
    stress->set_mean_force_n(load.mean_force_n);
    for (double coordinate : load.peak_pos) stress->add_peak_location(coordinate);
    stress->set_safety_factor(load.safety_factor);
    stress->set_peak_time_s(load.peak_time_s);
    stress->set_peak_single_contact_force_n(load.peak_single_contact_n);
  }
  out->set_stress_label(SimResult::kStressLabel);
  for (const SimEvent& event : result.events) {
    v1::SimulationEvent* e = out->add_events();
    e->set_time_s(event.time_s);
    e->set_kind(event.kind);
    e->set_detail(event.text);
  }
  out->set_seed(result.seed);
  for (const std::string& warning : output->warnings) out->add_warnings(warning);
  // result.json, the last artifact: the result in the protobuf JSON mapping with the job's ids
  // (heavy.proto SimulationReport), so it reads like every other JSON the system writes.
  out->add_artifacts("result.json");
  v1::SimulationReport report;
  report.set_job_id(request.job_id());
  report.set_request_id(request.request_id());
  *report.mutable_result() = *out;
  report.set_zone(result.zone);
  report.set_target_body(result.target_body);
  report.set_yield_newtons(output->yield_newtons);
  for (const std::string& note : output->adjustments) report.add_adjustments(note);
  google::protobuf::util::JsonPrintOptions json_options;
  json_options.always_print_primitive_fields = true;
  json_options.add_whitespace = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(report, &json, json_options).ok()) {
    return absl::InternalError("cannot write result.json");
  }
  if (!sink.OnArtifact({"result.json", "application/json", std::move(json)})) {
    return absl::CancelledError("the call went away");
  }
  Send(context, message);
  return absl::OkStatus();
}

absl::Status RunVerify(const internal::VerifyShare& share, const fs::path& job_dir,
                       const RunnerJobContext& context, const job::JobEnv& env) {
  const v1::VerifyHeader& header = share.header();
  job::VerifyParams params;
  if (header.has_jitter_m()) params.jitter_m = header.jitter_m();
  if (header.has_base_seed()) params.base_seed = header.base_seed();
  if (header.has_duration_s()) params.duration_s = header.duration_s();
  std::vector<int> indices;
  for (std::uint32_t index : share.run_indices()) {
    indices.push_back(static_cast<int>(std::min<std::uint32_t>(index, 1 << 20)));
  }
  return job::RunVerifyRuns(job_dir, params, indices, env,
                       [&context](int index, const SimResult& result) {
                         RunnerMessage message;
                         v1::VerifyRun* run = message.mutable_verify_run();
                         run->set_index(static_cast<std::uint32_t>(index));
                         run->set_seed(result.seed);
                         run->set_outcome(ToOutcome(result.outcome));
                         run->set_fail_reason(ToFailReason(result.outcome));
                         run->set_detail(result.detail);
                         ToProto(result.metrics, 0, run->mutable_metrics());
                         Send(context, message);
                       });
}

absl::Status RunRenderViews(const v1::RenderViewsHeader& header, const fs::path& job_dir,
                            const RunnerJobContext& context, const job::JobEnv& env) {
  const v1::RenderViewsOptions& options = header.options();
  job::RenderViewsParams params;
  params.stills.camera = options.camera();
  if (options.azimuth_count() > 0) {
    params.stills.azimuth_count = static_cast<int>(std::min<std::uint32_t>(options.azimuth_count(), 360));
  }
  if (options.elevations_deg_size() > 0) {
    params.stills.elevations_deg.assign(options.elevations_deg().begin(),
                                        options.elevations_deg().end());
  }
  params.stills.width = static_cast<int>(std::min<std::uint32_t>(options.width(), 1 << 20));
  params.stills.height = static_cast<int>(std::min<std::uint32_t>(options.height(), 1 << 20));
  params.distance_m = options.distance_m();
  params.at_time_s = options.at_time_s();
  absl::StatusOr<std::vector<render::Still>> images =
      job::RunRenderViewsJob(job_dir, params, env);
  if (!images.ok()) return images.status();
  RunnerMessage sending;
  sending.set_phase("sending");
  Send(context, sending);
  for (render::Still& image : *images) {
    RunnerMessage message;
    v1::RenderedView* view = message.mutable_render_views()->mutable_view();
    view->set_name(image.name);
    view->set_camera(image.camera);
    view->set_azimuth_deg(image.azimuth_deg);
    view->set_elevation_deg(image.elevation_deg);
    view->set_width(static_cast<std::uint32_t>(image.width));
    view->set_height(static_cast<std::uint32_t>(image.height));
    view->set_png(std::move(image.png));
    Send(context, message);
  }
  RunnerMessage summary;
  summary.mutable_render_views()->mutable_result()->set_view_count(
      static_cast<std::uint32_t>(images->size()));
  summary.mutable_render_views()->mutable_result()->set_gl_renderer(
      context.render_thread != nullptr ? context.render_thread->RendererName() : std::string());
  Send(context, summary);
  return absl::OkStatus();
}

absl::Status RunBuildScene(const v1::BuildSceneHeader& header, const fs::path& job_dir,
                           const RunnerJobContext& context, const job::JobEnv& env) {
  absl::StatusOr<job::BuildSceneOutput> output =
      job::RunBuildSceneJob(job_dir, header.return_mjcf(), env);
  if (!output.ok()) return output.status();
  RunnerMessage message;
  v1::BuildSceneResponse* response = message.mutable_build_scene();
  response->set_compile_ms(output->compile_ms);
  const scene::SceneStats& stats = output->stats;
  v1::ModelStats* out = response->mutable_stats();
  out->set_bodies(static_cast<std::uint32_t>(stats.nbody));
  out->set_joints(static_cast<std::uint32_t>(stats.njnt));
  out->set_geoms(static_cast<std::uint32_t>(stats.ngeom));
  out->set_meshes(static_cast<std::uint32_t>(stats.nmesh));
  out->set_sites(static_cast<std::uint32_t>(stats.nsite));
  out->set_actuators(static_cast<std::uint32_t>(stats.nu));
  out->set_cameras(static_cast<std::uint32_t>(stats.ncam));
  out->set_nq(static_cast<std::uint32_t>(stats.nq));
  out->set_nv(static_cast<std::uint32_t>(stats.nv));
  out->set_timestep_s(stats.timestep_s);
  out->set_total_mass_kg(output->total_mass_kg);
  for (const std::string& zone : stats.goal_zones) out->add_goal_zones(zone);
  for (const std::string& zone : stats.forbid_zones) out->add_forbid_zones(zone);
  out->set_target_body(output->target_body);
  for (const std::string& warning : output->warnings) response->add_warnings(warning);
  response->set_mjcf(std::move(output->mjcf));
  Send(context, message);
  return absl::OkStatus();
}

// The SharedScene the parent placed, kept in the runner's cache (so the pipeline runs on a
// copy of it as on any kept model); false when it is not usable (the job then compiles).
bool LoadPlacedScene(const fs::path& job_dir, const std::string& key,
                     const RunnerJobContext& context) {
  absl::StatusOr<job::CompiledScene> scene =
      ImportScene(job_dir / kSharedSceneFileName, key, context.limits,
                  context.shared_scene_max_bytes + (1 << 20));
  std::error_code ec;
  fs::remove(job_dir / kSharedSceneFileName, ec);
  if (!scene.ok()) {
    std::fprintf(stderr, "worker-heavy-runner: %s; compiling instead\n",
                 std::string(scene.status().message()).c_str());
    return false;
  }
  context.scenes->Insert(std::move(*scene));
  return context.scenes->Contains(key);
}

bool ValidJobDirName(const std::string& name) {
  if (name.empty() || name.size() > 128) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
  });
}

}  // namespace

RunnerJobOutcome RunRunnerJob(const internal::JobRequest& request,
                              const RunnerJobContext& context) {
  RunnerJobOutcome outcome;
  if (!ValidJobDirName(request.job_dir())) {
    outcome.status = absl::InvalidArgumentError("bad job directory name");
    return outcome;
  }
  const std::string key = CacheKey(request.payload_sha256());
  const fs::path job_dir = context.runner_dir / request.job_dir();
  const bool sharing = context.scenes != nullptr && context.scenes->enabled() && !key.empty() &&
                       context.shared_scene_max_bytes > 0;
  bool held = context.scenes != nullptr && !key.empty() && context.scenes->Contains(key);
  if (!held && sharing && request.scene_placed()) {
    held = outcome.scene_loaded = LoadPlacedScene(job_dir, key, context);
  }
  if (!request.payload_placed() && !held) {
    outcome.need_payload = true;
    outcome.status = absl::FailedPreconditionError("the payload archive is needed");
    return outcome;
  }
  // The scene goes to the parent for the other runners as soon as this job has it: now when
  // it is held, else when the pipeline keeps what it compiled. Every kept scene gets its
  // manifest text, so that a later job can share it too.
  bool exported = false;
  auto share = [&](const job::CompiledScene& scene) {
    if (exported || !sharing || !request.export_scene()) return;
    exported = true;
    RunnerMessage message;
    *message.mutable_shared_scene() = ExportScene(scene, context.shared_scene_max_bytes);
    Send(context, message);
  };
  if (held) {
    if (const job::CompiledScene* scene = context.scenes->Find(key)) share(*scene);
  }
  if (context.scenes != nullptr) {
    context.scenes->set_insert_observer([&](job::CompiledScene& scene) {
      absl::StatusOr<std::string> text = ReadFileCapped(
          job_dir / "payload" / std::string(scene::kManifestFileName), "manifest.json", 1 << 20);
      if (text.ok()) scene.manifest_json = std::move(*text);
      if (scene.sha256 == key) share(scene);
    });
  }
  struct ObserverReset {
    job::CompiledSceneCache* scenes;
    ~ObserverReset() {
      if (scenes != nullptr) scenes->set_insert_observer(nullptr);
    }
  } observer_reset{context.scenes};
  const job::JobEnv env = MakeEnv(context, key, &outcome.scene_use);
  absl::Status& status = outcome.status;
  try {
    switch (request.kind_case()) {
      case internal::JobRequest::kSimulate:
        status = RunSimulate(request, job_dir, context, env);
        break;
      case internal::JobRequest::kVerify:
        status = RunVerify(request.verify(), job_dir, context, env);
        break;
      case internal::JobRequest::kRenderViews:
        status = RunRenderViews(request.render_views(), job_dir, context, env);
        break;
      case internal::JobRequest::kBuildScene:
        status = RunBuildScene(request.build_scene(), job_dir, context, env);
        break;
      default:
        status = absl::InvalidArgumentError("unknown job kind");
    }
  } catch (const std::bad_alloc&) {
    status = absl::ResourceExhaustedError("out of memory");
  } catch (const std::exception& e) {
    status = absl::InternalError(StrCat("the job failed: ", e.what()));
  }
  if (status.ok()) return outcome;
  if (context.memory_exhausted != nullptr && context.memory_exhausted->load()) {
    status = WithReason(absl::ResourceExhaustedError(StrCat(
                            "the job passed its memory limit (", std::string(status.message()), ")")),
                        ErrorReason::kJobMemoryLimit);
  }
  return outcome;
}

}  // namespace workerpair::heavy
