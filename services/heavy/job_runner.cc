#include "services/heavy/heavy_metrics.h"
#include "services/heavy/job_runner.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <thread>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "libs/common/file_io.h"
#include "libs/common/sha256.h"
#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "services/heavy/core/scene/manifest.h"
#include "services/heavy/core/scene/scene_loader.h"
#include "services/heavy/core/sim/simulate.h"
#include "services/heavy/render_bridge.h"

namespace workerpair::heavy {
namespace fs = std::filesystem;
namespace {

constexpr std::uint64_t kMaxManifestBytes = 1 << 20;

// A job's unpacked payload and parsed manifest; the scratch directory goes with it.
struct Prepared {
  ScratchDir scratch;
  fs::path root;  // canonical payload directory
  Manifest manifest;
};

// Scratch directory, unpack, manifest.
absl::StatusOr<Prepared> Prepare(const JobContext& job, ReceivedPayload& payload,
                                 const JobEnv& env) {
  Prepared prepared;
  WP_ASSIGN_OR_RETURN(prepared.scratch, env.scratch->CreateJobDir(job.id()));
  WP_RETURN_IF_ERROR(UnpackPayload(payload, prepared.scratch, env.config->intake).status());
  RecordPayloadBytes(payload.size());
  std::error_code ec;
  prepared.root = fs::canonical(prepared.scratch.payload_dir(), ec);
  if (ec) return absl::InternalError("cannot resolve the job's scratch directory");
  absl::StatusOr<std::string> text =
      ReadFileCapped(prepared.root / kManifestFileName, kManifestFileName, kMaxManifestBytes);
  if (absl::IsNotFound(text.status())) {
    return absl::InvalidArgumentError(
        StrCat("the payload has no ", kManifestFileName, " at its root"));
  }
  if (!text.ok()) {
    return absl::InvalidArgumentError(StrCat(kManifestFileName, ": ",
               std::string_view(text.status().message().data(), text.status().message().size())));
  }
  WP_ASSIGN_OR_RETURN(prepared.manifest, ParseManifest(*text, env.config->scene));
  return prepared;
}

// Applies the per-call overrides, capping what the limits cap.
void ApplyOverrides(const v1::SimulateOptions& options, const SceneLimits& limits,
                    Manifest* manifest) {
  if (options.has_render()) manifest->render.enabled = options.render();
  if (options.has_duration_s()) {
    manifest->simulation.duration_s = std::min(options.duration_s(), limits.max_duration_s);
    if (options.duration_s() > limits.max_duration_s) {
      manifest->adjustments.push_back(StrCat("duration_s ", options.duration_s(),
                                             " clamped to the cap max_duration_s=",
                                             limits.max_duration_s));
    }
  }
  if (options.has_timestep_s()) manifest->simulation.timestep_s = options.timestep_s();
  if (options.has_seed()) manifest->simulation.seed = options.seed();
  if (options.has_width()) {
    manifest->render.width = std::min(static_cast<int>(options.width()), limits.max_width);
  }
  if (options.has_height()) {
    manifest->render.height = std::min(static_cast<int>(options.height()), limits.max_height);
  }
  if (options.has_fps()) manifest->render.fps = std::min(static_cast<int>(options.fps()), limits.max_fps);
  if (!options.camera().empty()) manifest->render.camera = options.camera();
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
  out->set_max_contact_force_n(metrics.max_contact_force_n);
  out->set_wall_time_s(metrics.wall_time_s);
  out->set_frames_rendered(static_cast<std::uint64_t>(frames));
}

// JSON has no infinity: a part that never touched anything has no safety factor.
nlohmann::json FiniteOrNull(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

std::string ResultJson(const SimResult& result, const Manifest& manifest) {
  nlohmann::json json;
  json["outcome"] = std::string(OutcomeName(result.outcome));
  json["detail"] = result.detail;
  json["zone"] = result.zone;
  json["target_body"] = result.target_body;
  json["seed"] = result.seed;
  json["metrics"] = {
      {"sim_time_s", result.metrics.sim_time_s},
      {"steps", result.metrics.steps},
      {"wall_time_s", result.metrics.wall_time_s},
      {"timestep_s", result.metrics.timestep_s},
      {"energy_initial_j", FiniteOrNull(result.metrics.energy_initial_j)},
      {"energy_final_j", FiniteOrNull(result.metrics.energy_final_j)},
      {"energy_max_j", FiniteOrNull(result.metrics.energy_max_j)},
      {"max_velocity_mps", FiniteOrNull(result.metrics.max_linear_speed)},
      {"max_speed_body", result.metrics.max_speed_body},
      {"max_contact_force_n", FiniteOrNull(result.metrics.max_contact_force_n)},
  };
  nlohmann::json stress = nlohmann::json::array();
  for (const BodyContactStress& part : result.stress) {
    if (part.body_id == 0) continue;
    stress.push_back({{"part", part.body},
                      {"peak_force_n", FiniteOrNull(part.peak_force_n)},
                      {"mean_force_n", FiniteOrNull(part.mean_force_n)},
                      {"peak_time_s", part.peak_time_s},
                      {"peak_location", part.peak_pos},
                      {"safety_factor", FiniteOrNull(part.safety_factor)}});
  }
  json["stress"] = {{"label", SimResult::kStressLabel},
                    {"yield_newtons", manifest.stress.yield_newtons},
                    {"parts", stress}};
  nlohmann::json events = nlohmann::json::array();
  for (const SimEvent& event : result.events) {
    events.push_back({{"time_s", event.time_s}, {"kind", event.kind}, {"text", event.text}});
  }
  json["events"] = events;
  json["warnings"] = result.warnings;
  json["adjustments"] = manifest.adjustments;
  return json.dump(2);
}

// Streams one artifact in chunks; false when the call went away.
bool EmitArtifact(const std::string& name, const std::string& media_type,
                  const std::string& bytes, std::size_t chunk_bytes,
                  const EmitFn<v1::SimulateEvent>& emit) {
  const std::string digest = Sha256Hex(bytes);
  std::size_t offset = 0;
  do {
    const std::size_t n = std::min(chunk_bytes, bytes.size() - offset);
    v1::SimulateEvent event;
    v1::ArtifactChunk* chunk = event.mutable_artifact();
    chunk->set_name(name);
    chunk->set_media_type(media_type);
    chunk->set_offset(offset);
    chunk->set_data(bytes.substr(offset, n));
    chunk->set_total_bytes(bytes.size());
    offset += n;
    chunk->set_last(offset == bytes.size());
    if (chunk->last()) chunk->set_sha256(digest);
    if (!emit(std::move(event))) return false;
  } while (offset < bytes.size());
  return true;
}

// Forwards progress to the caller, at most once per `interval` of wall time.
class ProgressForwarder : public SimObserver {
 public:
  ProgressForwarder(const EmitFn<v1::SimulateEvent>* emit, absl::Duration interval)
      : emit_(emit), interval_(interval) {}

  // Feeds the video, when recording; the first recorder error stops further frames.
  void OnStep(const mjModel* model, const mjData* data, double sim_time) override {
    if (video == nullptr || !video_error.ok()) return;
    // mjv_updateScene takes a non-const mjData but only reads it.
    video_error = video->OnStep(model, const_cast<mjData*>(data), sim_time);
  }

  void OnProgress(const SimProgress& progress) override {
    if (video != nullptr) frames_rendered = video->frames_written();
    const absl::Time now = absl::Now();
    const bool last = progress.sim_time_s >= progress.duration_s;
    if (!last && now - last_sent_ < interval_) return;
    last_sent_ = now;
    v1::SimulateEvent event;
    v1::SimulateProgress* out = event.mutable_progress();
    out->set_sim_time_s(progress.sim_time_s);
    out->set_duration_s(progress.duration_s);
    out->set_steps(static_cast<std::uint64_t>(progress.steps));
    out->set_frames_rendered(static_cast<std::uint64_t>(frames_rendered));
    (*emit_)(std::move(event));
  }

  std::int64_t frames_rendered = 0;
  VideoSession* video = nullptr;
  absl::Status video_error;

 private:
  const EmitFn<v1::SimulateEvent>* emit_;
  absl::Duration interval_;
  absl::Time last_sent_ = absl::InfinitePast();
};

void FillRunProto(const SimResult& result, v1::VerifyRun* run) {
  RecordOutcome(OutcomeName(result.outcome));
  run->set_seed(result.seed);
  run->set_outcome(ToOutcome(result.outcome));
  run->set_fail_reason(ToFailReason(result.outcome));
  run->set_detail(result.detail);
  ToProto(result.metrics, 0, run->mutable_metrics());
}

}  // namespace

absl::Status CheckSimulateOptions(const v1::SimulateOptions& options, const SceneLimits& limits) {
  if (options.has_duration_s() && !(options.duration_s() > 0)) {
    return absl::InvalidArgumentError(
        StrCat("options.duration_s must be > 0, got ", options.duration_s()));
  }
  if (options.has_timestep_s() && !(options.timestep_s() >= limits.min_timestep_s &&
                                    options.timestep_s() <= limits.max_timestep_s)) {
    return absl::InvalidArgumentError(StrCat("options.timestep_s must be within ",
                                             limits.min_timestep_s, " .. ",
                                             limits.max_timestep_s, ", got ",
                                             options.timestep_s()));
  }
  for (auto [name, has, value] : {std::tuple{"width", options.has_width(), options.width()},
                                  std::tuple{"height", options.has_height(), options.height()}}) {
    if (has && (value == 0 || value % 2 != 0)) {
      return absl::InvalidArgumentError(
          StrCat("options.", name, " must be even and > 0, got ", value));
    }
  }
  if (options.has_fps() && options.fps() == 0) {
    return absl::InvalidArgumentError("options.fps must be > 0");
  }
  if (options.progress_interval_s() < 0) {
    return absl::InvalidArgumentError("options.progress_interval_s must be >= 0");
  }
  return absl::OkStatus();
}

absl::Status CheckVerifyHeader(const v1::VerifyHeader& header, const HeavyConfig& config) {
  if (header.runs() < 1 || header.runs() > static_cast<std::uint32_t>(config.max_verify_runs)) {
    return absl::InvalidArgumentError(StrCat("runs must be within 1 .. ", config.max_verify_runs,
                                             ", got ", header.runs()));
  }
  if (header.has_jitter_m() && !(header.jitter_m() >= 0)) {
    return absl::InvalidArgumentError("jitter_m must be >= 0");
  }
  if (header.has_duration_s() && !(header.duration_s() > 0)) {
    return absl::InvalidArgumentError("duration_s must be > 0");
  }
  return absl::OkStatus();
}

absl::Status CheckRenderViewsHeader(const v1::RenderViewsHeader& header,
                                    const SceneLimits& limits) {
  const v1::RenderViewsOptions& options = header.options();
  if (options.width() > static_cast<std::uint32_t>(limits.max_width) ||
      options.height() > static_cast<std::uint32_t>(limits.max_height)) {
    return absl::InvalidArgumentError(StrCat("image size over the cap ", limits.max_width, "x",
                                             limits.max_height));
  }
  if (options.azimuth_count() > 360) {
    return absl::InvalidArgumentError("azimuth_count must be at most 360");
  }
  if (options.at_time_s() < 0 || options.at_time_s() > limits.max_duration_s) {
    return absl::InvalidArgumentError(
        StrCat("at_time_s must be within 0 .. ", limits.max_duration_s));
  }
  return absl::OkStatus();
}

absl::Status RunSimulate(JobContext& job, const v1::SimulateRequest& request,
                         ReceivedPayload& payload, const JobEnv& env,
                         const EmitFn<v1::SimulateEvent>& emit) {
  const v1::SimulateOptions& options = request.header().options();
  WP_ASSIGN_OR_RETURN(Prepared prepared, Prepare(job, payload, env));
  ApplyOverrides(options, env.config->scene, &prepared.manifest);
  if (job.cancelled()) return job.cancel_reason();
  WP_ASSIGN_OR_RETURN(LoadedScene scene,
                      LoadScene(prepared.root, prepared.manifest, env.config->scene));
  WP_ASSIGN_OR_RETURN(MjDataPtr data, MakeData(scene.model.get()));

  SimOptions sim_options = SimOptionsFromManifest(prepared.manifest);
  const absl::Duration interval = options.progress_interval_s() > 0
                                      ? absl::Seconds(options.progress_interval_s())
                                      : env.config->progress_interval;
  ProgressForwarder observer(&emit, interval);
  std::vector<std::string> warnings = scene.warnings;
  for (const std::string& note : prepared.manifest.adjustments) warnings.push_back(note);
  const RenderSettings& render = prepared.manifest.render;
  const SceneLimits& limits = env.config->scene;
  std::unique_ptr<VideoSession> video;
  if (render.enabled) {
    VideoRequest video_request{prepared.scratch.out_dir() / "video.mp4", render.width,
                               render.height, render.fps, render.camera, limits.max_width,
                               limits.max_height, limits.max_fps};
    WP_ASSIGN_OR_RETURN(video, VideoSession::Start(scene.model.get(), video_request));
    observer.video = video.get();
  }

  WP_ASSIGN_OR_RETURN(SimResult result, Simulate(scene.model.get(), data.get(), sim_options,
                                                 &observer, &job.cancel_flag()));
  if (result.outcome == SimOutcome::kCancelled || job.cancelled()) return job.cancel_reason();

  // Video and heatmaps.
  std::vector<std::tuple<std::string, std::string, std::string>> artifacts;  // name, type, bytes
  if (video) {
    WP_RETURN_IF_ERROR(observer.video_error);
    std::vector<std::pair<std::string, double>> peaks;
    for (const BodyContactStress& part : result.stress) {
      if (part.body_id != 0) peaks.emplace_back(part.body, part.peak_force_n);
    }
    // Drawn with the video's renderer before it is freed: no second render context.
    WP_ASSIGN_OR_RETURN(std::string parts_png, video->PartHeatmapPng(data.get(), peaks));
    WP_ASSIGN_OR_RETURN(observer.frames_rendered, video->Finish());
    WP_ASSIGN_OR_RETURN(std::string mp4, ReadFileCapped(prepared.scratch.out_dir() / "video.mp4",
                                                        "video.mp4", 1ull << 31));
    artifacts.emplace_back("video.mp4", "video/mp4", std::move(mp4));
    artifacts.emplace_back("heatmap_parts.png", "image/png", std::move(parts_png));
    const ContactGrid& grid = result.contact_grid;
    if (grid.width > 0 && grid.height > 0) {
      GridPlot plot{grid.width, grid.height, grid.x_min, grid.x_max, grid.y_min, grid.y_max,
                    grid.values, "N*s"};
      WP_ASSIGN_OR_RETURN(std::string topdown_png, GridHeatmapPng(plot));
      artifacts.emplace_back("heatmap_topdown.png", "image/png", std::move(topdown_png));
    }
  }

  // Artifacts: result.json (always).
  v1::SimulateEvent final_event;
  v1::SimulateResult* out = final_event.mutable_result();
  for (auto& [name, media_type, bytes] : artifacts) {
    if (!EmitArtifact(name, media_type, bytes, env.config->artifact_chunk_bytes, emit)) {
      return job.cancelled() ? job.cancel_reason() : absl::CancelledError("the call went away");
    }
    out->add_artifacts(name);
  }
  const std::string json = ResultJson(result, prepared.manifest);
  WP_RETURN_IF_ERROR(WriteFileAtomically(prepared.scratch.out_dir() / "result.json", json, {},
                                         "result.json"));
  if (!EmitArtifact("result.json", "application/json", json, env.config->artifact_chunk_bytes,
                    emit)) {
    return job.cancelled() ? job.cancel_reason() : absl::CancelledError("the call went away");
  }
  out->add_artifacts("result.json");

  out->set_outcome(ToOutcome(result.outcome));
  out->set_fail_reason(ToFailReason(result.outcome));
  out->set_detail(result.detail);
  RecordOutcome(OutcomeName(result.outcome));
  ToProto(result.metrics, observer.frames_rendered, out->mutable_metrics());
  for (const BodyContactStress& part : result.stress) {
    if (part.body_id == 0) continue;  // the world is not a part
    v1::PartStressEstimate* stress = out->add_stress();
    stress->set_part(part.body);
    stress->set_peak_force_n(part.peak_force_n);
    stress->set_mean_force_n(part.mean_force_n);
    for (double coordinate : part.peak_pos) stress->add_peak_location(coordinate);
    stress->set_safety_factor(part.safety_factor);
    stress->set_peak_time_s(part.peak_time_s);
  }
  out->set_stress_label(SimResult::kStressLabel);
  for (const SimEvent& event : result.events) {
    v1::SimulationEvent* e = out->add_events();
    e->set_time_s(event.time_s);
    e->set_kind(event.kind);
    e->set_detail(event.text);
  }
  out->set_seed(result.seed);
  for (const std::string& warning : result.warnings) warnings.push_back(warning);
  for (std::string& warning : warnings) out->add_warnings(std::move(warning));
  emit(std::move(final_event));
  return absl::OkStatus();
}

absl::Status RunVerify(JobContext& job, const v1::VerifyRequest& request,
                       ReceivedPayload& payload, const JobEnv& env,
                       const EmitFn<v1::VerifyEvent>& emit) {
  const v1::VerifyHeader& header = request.header();
  WP_ASSIGN_OR_RETURN(Prepared prepared, Prepare(job, payload, env));
  if (header.has_duration_s()) {
    prepared.manifest.simulation.duration_s =
        std::min(header.duration_s(), env.config->scene.max_duration_s);
  }
  prepared.manifest.render.enabled = false;
  WP_ASSIGN_OR_RETURN(LoadedScene scene,
                      LoadScene(prepared.root, prepared.manifest, env.config->scene));
  const mjModel* model = scene.model.get();
  const int runs = static_cast<int>(header.runs());
  const double jitter = header.has_jitter_m() ? header.jitter_m() : prepared.manifest.verify.jitter_m;
  const std::uint64_t base_seed =
      header.has_base_seed() ? header.base_seed() : prepared.manifest.simulation.seed;
  const SimOptions base_options = SimOptionsFromManifest(prepared.manifest);

  // Parallel up to the free slots: borrow idle ones (never ahead of queued jobs).
  int wanted = runs;
  if (header.max_parallel() > 0) wanted = std::min(wanted, static_cast<int>(header.max_parallel()));
  JobContext::ExtraSlots extra = job.TryBorrowSlots(wanted - 1);
  const int parallelism = 1 + extra.count();

  std::atomic<int> next_run{0};
  std::mutex mu;
  absl::Status first_error;
  std::vector<v1::VerifyRun> results(runs);
  auto worker = [&] {
    while (!job.cancelled()) {
      const int index = next_run.fetch_add(1);
      if (index >= runs) return;
      absl::StatusOr<SimResult> result = absl::UnknownError("not run");
      absl::StatusOr<MjDataPtr> data = MakeData(model);
      if (data.ok()) {
        const std::uint64_t seed = RunSeed(base_seed, index);
        ApplyJitter(model, data->get(), seed, jitter);
        SimOptions options = base_options;
        options.seed = seed;
        result = Simulate(model, data->get(), options, nullptr, &job.cancel_flag());
      } else {
        result = data.status();
      }
      std::lock_guard<std::mutex> lock(mu);
      if (!result.ok()) {
        if (first_error.ok()) first_error = result.status();
        return;
      }
      if (result->outcome == SimOutcome::kCancelled) return;
      v1::VerifyRun& run = results[index];
      run.set_index(static_cast<std::uint32_t>(index));
      FillRunProto(*result, &run);
      v1::VerifyEvent event;
      *event.mutable_run() = run;
      emit(std::move(event));
    }
  };
  std::vector<std::thread> threads;
  for (int i = 1; i < parallelism; ++i) threads.emplace_back(worker);
  worker();
  for (std::thread& thread : threads) thread.join();

  if (job.cancelled()) return job.cancel_reason();
  WP_RETURN_IF_ERROR(first_error);
  v1::VerifyEvent summary;
  v1::VerifyResult* out = summary.mutable_result();
  std::uint32_t successes = 0;
  for (v1::VerifyRun& run : results) {
    if (run.outcome() == v1::OUTCOME_SUCCESS) ++successes;
    *out->add_runs() = std::move(run);
  }
  out->set_successes(successes);
  out->set_success_rate(static_cast<double>(successes) / runs);
  out->set_parallelism(static_cast<std::uint32_t>(parallelism));
  emit(std::move(summary));
  return absl::OkStatus();
}

absl::Status RunRenderViews(JobContext& job, const v1::RenderViewsRequest& request,
                            ReceivedPayload& payload, const JobEnv& env,
                            const EmitFn<v1::RenderViewsEvent>& emit) {
  const v1::RenderViewsOptions& options = request.header().options();
  WP_ASSIGN_OR_RETURN(Prepared prepared, Prepare(job, payload, env));
  if (options.width() > 0) prepared.manifest.render.width = static_cast<int>(options.width());
  if (options.height() > 0) prepared.manifest.render.height = static_cast<int>(options.height());
  WP_ASSIGN_OR_RETURN(LoadedScene scene,
                      LoadScene(prepared.root, prepared.manifest, env.config->scene));
  const mjModel* model = scene.model.get();
  WP_ASSIGN_OR_RETURN(MjDataPtr data, MakeData(model));
  // Optionally advance the scene first.
  while (data->time < options.at_time_s()) {
    if (job.cancelled()) return job.cancel_reason();
    mj_step(model, data.get());
  }
  StillsRequest stills;
  stills.camera = options.camera();
  if (options.azimuth_count() > 0) stills.azimuth_count = static_cast<int>(options.azimuth_count());
  if (options.elevations_deg_size() > 0) {
    stills.elevations_deg.assign(options.elevations_deg().begin(), options.elevations_deg().end());
  }
  if (options.distance_m() > 0 && model->stat.extent > 0) {
    stills.distance_factor = options.distance_m() / model->stat.extent;
  }
  stills.width = prepared.manifest.render.width;
  stills.height = prepared.manifest.render.height;
  WP_ASSIGN_OR_RETURN(std::vector<StillImage> images,
                      RenderStillImages(model, data.get(), stills));
  for (StillImage& image : images) {
    if (job.cancelled()) return job.cancel_reason();
    v1::RenderViewsEvent event;
    v1::RenderedView* view = event.mutable_view();
    view->set_name(image.name);
    view->set_camera(image.camera);
    view->set_azimuth_deg(image.azimuth_deg);
    view->set_elevation_deg(image.elevation_deg);
    view->set_width(static_cast<std::uint32_t>(stills.width));
    view->set_height(static_cast<std::uint32_t>(stills.height));
    view->set_png(std::move(image.png));
    emit(std::move(event));
  }
  v1::RenderViewsEvent summary;
  summary.mutable_result()->set_view_count(static_cast<std::uint32_t>(images.size()));
  summary.mutable_result()->set_gl_renderer(RenderingRenderer());
  emit(std::move(summary));
  return absl::OkStatus();
}

absl::StatusOr<v1::BuildSceneResponse> RunBuildScene(JobContext& job,
                                                     const v1::BuildSceneRequest& request,
                                                     ReceivedPayload& payload,
                                                     const JobEnv& env) {
  WP_ASSIGN_OR_RETURN(Prepared prepared, Prepare(job, payload, env));
  const absl::Time start = absl::Now();
  WP_ASSIGN_OR_RETURN(LoadedScene scene,
                      LoadScene(prepared.root, prepared.manifest, env.config->scene));
  v1::BuildSceneResponse response;
  response.set_compile_ms(absl::ToDoubleMilliseconds(absl::Now() - start));
  const mjModel* model = scene.model.get();
  const SceneStats stats = BuildSceneStats(model);
  v1::ModelStats* out = response.mutable_stats();
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
  double mass = 0;
  for (int i = 0; i < model->nbody; ++i) mass += model->body_mass[i];
  out->set_total_mass_kg(mass);
  for (const std::string& zone : stats.goal_zones) out->add_goal_zones(zone);
  for (const std::string& zone : stats.forbid_zones) out->add_forbid_zones(zone);
  const std::string& named = prepared.manifest.simulation.target_body;
  out->set_target_body(!named.empty() ? named
                       : stats.free_bodies.empty() ? std::string()
                                                   : stats.free_bodies.front());
  for (const std::string& warning : scene.warnings) response.add_warnings(warning);
  for (const std::string& note : prepared.manifest.adjustments) response.add_warnings(note);
  if (request.header().return_mjcf() && prepared.manifest.assembly) {
    WP_ASSIGN_OR_RETURN(std::string mjcf,
                        ReadFileCapped(prepared.root / kGeneratedSceneFileName,
                                       kGeneratedSceneFileName, 16 << 20));
    response.set_mjcf(std::move(mjcf));
  }
  return response;
}

std::string GlRendererInUse() { return RenderingRenderer(); }
std::string GlPlatformInUse() { return RenderingPlatform(); }

}  // namespace workerpair::heavy
