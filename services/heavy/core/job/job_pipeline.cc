#include "services/heavy/core/job/job_pipeline.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "libs/common/error_reason.h"
#include "libs/common/file_io.h"
#include "libs/common/sha256.h"
#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "services/heavy/core/job/outside_reference.h"
#include "services/heavy/core/render/frame_renderer.h"
#include "services/heavy/core/render/frame_renderer_cache.h"
#include "services/heavy/core/render/heatmap.h"
#include "services/heavy/core/render/video_recorder.h"
#include "services/heavy/core/scene/manifest.h"
#include "services/heavy/core/scene/mujoco_guard.h"
#include "services/heavy/core/sim/footprints.h"

namespace workerpair::heavy::job {
namespace fs = std::filesystem;
// The sim core's calls and types this pipeline drives.
using sim::ApplyJitter;
using sim::BodyContactStress;
using sim::ContactGrid;
using sim::ContactMark;
using sim::Footprint;
using sim::FootprintKind;
using sim::GeomContactLoad;
using sim::RunSeed;
using sim::SimObserver;
using sim::SimOptions;
using sim::SimOptionsFromManifest;
using sim::SimOutcome;
using sim::SimProgress;
using sim::SimResult;
using sim::Simulate;
using sim::TopDownFootprints;
namespace {

constexpr std::uint64_t kMaxManifestBytes = 1 << 20;
constexpr std::uint64_t kMaxVideoBytes = 1ull << 31;

// The payload's fault, said so: limits are PAYLOAD_LIMIT, everything else PAYLOAD_INVALID.
absl::Status PayloadError(absl::Status status) {
  if (status.ok() || ReasonOf(status) != ErrorReason::kUnspecified) return status;
  switch (status.code()) {
    case absl::StatusCode::kResourceExhausted:
      return WithReason(std::move(status), ErrorReason::kPayloadLimit);
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kOutOfRange:
      return WithReason(std::move(status), ErrorReason::kPayloadInvalid);
    default:
      return status;
  }
}

void SetPhase(const JobEnv& env, std::string_view phase) {
  if (env.set_phase) env.set_phase(phase);
}

bool Cancelled(const JobEnv& env) { return env.cancel != nullptr && env.cancel->load(); }

absl::Status CancelledStatus() { return absl::CancelledError("the job was cancelled"); }

// A job's unpacked payload and parsed manifest.
struct Prepared {
  fs::path root;     // canonical payload directory
  fs::path out_dir;  // artifacts
  scene::Manifest manifest;
};

absl::StatusOr<Prepared> Prepare(const fs::path& job_dir, const JobEnv& env) {
  SetPhase(env, "unpacking");
  Prepared prepared;
  WP_ASSIGN_OR_RETURN(std::string archive,
                      ReadFileCapped(job_dir / kPayloadArchiveName, "payload",
                                     env.limits->intake.unpack.max_compressed_bytes + 1));
  std::error_code ec;
  fs::create_directories(job_dir / "payload", ec);
  fs::create_directories(job_dir / "out", ec);
  if (ec) return absl::InternalError("cannot create the job's directories");
  WP_RETURN_IF_ERROR(
      PayloadError(UnpackArchive(archive, job_dir / "payload", env.limits->intake.unpack).status()));
  archive.clear();
  archive.shrink_to_fit();
  prepared.root = fs::canonical(job_dir / "payload", ec);
  if (ec) return absl::InternalError("cannot resolve the job's directory");
  prepared.out_dir = job_dir / "out";
  absl::StatusOr<std::string> text = ReadFileCapped(prepared.root / scene::kManifestFileName,
                                                    scene::kManifestFileName, kMaxManifestBytes);
  if (absl::IsNotFound(text.status())) {
    return WithReason(absl::InvalidArgumentError(
                          StrCat("the payload has no ", scene::kManifestFileName, " at its root")),
                      ErrorReason::kPayloadInvalid);
  }
  if (!text.ok()) {
    return PayloadError(absl::InvalidArgumentError(
        StrCat(scene::kManifestFileName, ": ",
               std::string_view(text.status().message().data(), text.status().message().size()))));
  }
  absl::StatusOr<scene::Manifest> manifest = scene::ParseManifest(*text, env.limits->scene);
  if (!manifest.ok()) return PayloadError(manifest.status());
  prepared.manifest = std::move(*manifest);
  return prepared;
}

absl::StatusOr<scene::LoadedScene> Compile(const Prepared& prepared, const JobEnv& env) {
  SetPhase(env, "compiling");
  absl::StatusOr<scene::LoadedScene> scene =
      scene::LoadScene(prepared.root, prepared.manifest, env.limits->scene);
  if (!scene.ok()) {
    absl::Status status = scene.status();
    // MuJoCo's own messages (no reason yet): one that names a file outside the payload says
    // nothing more than that (outside_reference.h). The reference scan's refusals keep theirs.
    if (ReasonOf(status) == ErrorReason::kUnspecified) {
      status = MaskOutsideReferences(std::move(status), prepared.root);
    }
    return PayloadError(std::move(status));
  }
  return scene;
}

// A job's scene: its own model and manifest copy, from the cache or compiled for it.
struct JobScene {
  fs::path root;     // the unpacked payload; empty when the model came from the cache
  fs::path out_dir;  // artifacts
  scene::Manifest manifest;  // the payload's, before the call's overrides
  scene::MjModelPtr model;
  std::vector<std::string> warnings;
  std::string generated_mjcf;  // an assembly's MJCF, when kept or read
};

std::string GeneratedMjcf(const fs::path& root, const scene::Manifest& manifest) {
  if (!manifest.assembly) return {};
  absl::StatusOr<std::string> text = ReadFileCapped(root / scene::kGeneratedSceneFileName,
                                                    scene::kGeneratedSceneFileName, 16 << 20);
  return text.ok() ? std::move(*text) : std::string();
}

// The scene of the job: a copy of the model this process kept for the payload's digest, or
// the payload unpacked and compiled (for the payload's own manifest; the caller applies the
// call's overrides with ApplyModelOverrides), then kept.
absl::StatusOr<JobScene> OpenScene(const fs::path& job_dir, const JobEnv& env) {
  JobScene scene;
  scene.out_dir = job_dir / "out";
  if (env.scenes != nullptr && !env.payload_sha256.empty()) {
    if (const CompiledScene* held = env.scenes->Find(env.payload_sha256)) {
      std::error_code ec;
      fs::create_directories(scene.out_dir, ec);
      if (ec) return absl::InternalError("cannot create the job's directories");
      mjModel* copy = nullptr;
      WP_RETURN_IF_ERROR(scene::GuardMujoco(
          "mj_copyModel", [&] { copy = mj_copyModel(nullptr, held->model.get()); },
          absl::StatusCode::kResourceExhausted));
      if (copy == nullptr) return absl::ResourceExhaustedError("cannot copy the kept model");
      scene.model.reset(copy);
      scene.manifest = held->manifest;
      scene.warnings = held->warnings;
      scene.generated_mjcf = held->generated_mjcf;
      if (env.scene_use != nullptr) env.scene_use->reused = true;
      return scene;
    }
  }
  WP_ASSIGN_OR_RETURN(Prepared prepared, Prepare(job_dir, env));
  if (Cancelled(env)) return CancelledStatus();
  WP_ASSIGN_OR_RETURN(scene::LoadedScene loaded, Compile(prepared, env));
  if (env.scene_use != nullptr) env.scene_use->compiled = true;
  scene.root = prepared.root;
  scene.manifest = std::move(prepared.manifest);
  scene.model = std::move(loaded.model);
  scene.warnings = std::move(loaded.warnings);
  if (env.scenes != nullptr && env.scenes->enabled() && !env.payload_sha256.empty()) {
    CompiledScene kept;
    kept.sha256 = env.payload_sha256;
    mjModel* copy = nullptr;
    // A model that cannot be copied is simply not kept.
    if (scene::GuardMujoco(
            "mj_copyModel", [&] { copy = mj_copyModel(nullptr, scene.model.get()); },
            absl::StatusCode::kResourceExhausted)
            .ok() &&
        copy != nullptr) {
      kept.model.reset(copy);
      kept.manifest = scene.manifest;
      kept.warnings = scene.warnings;
      kept.generated_mjcf = GeneratedMjcf(scene.root, scene.manifest);
      scene.generated_mjcf = kept.generated_mjcf;
      env.scenes->Insert(std::move(kept));
    }
  }
  return scene;
}

// What the call's overrides change in a compiled model (what LoadScene applies from the
// manifest): the timestep, and an offscreen buffer at least the render size.
void ApplyModelOverrides(const scene::Manifest& manifest, mjModel* model) {
  if (manifest.simulation.timestep_s) model->opt.timestep = *manifest.simulation.timestep_s;
  model->vis.global.offwidth = std::max(model->vis.global.offwidth, manifest.render.width);
  model->vis.global.offheight = std::max(model->vis.global.offheight, manifest.render.height);
}

// Applies the per-call overrides, capping what the limits cap.
void ApplyOverrides(const SimulateOverrides& options, const SceneLimits& limits,
                    scene::Manifest* manifest) {
  if (options.render) manifest->render.enabled = *options.render;
  if (options.duration_s) {
    manifest->simulation.duration_s = std::min(*options.duration_s, limits.max_duration_s);
    if (*options.duration_s > limits.max_duration_s) {
      manifest->adjustments.push_back(StrCat("duration_s ", *options.duration_s,
                                             " clamped to the cap max_duration_s=",
                                             limits.max_duration_s));
    }
  }
  if (options.timestep_s) manifest->simulation.timestep_s = *options.timestep_s;
  if (options.seed) manifest->simulation.seed = *options.seed;
  if (options.width) manifest->render.width = std::min(*options.width, limits.max_width);
  if (options.height) manifest->render.height = std::min(*options.height, limits.max_height);
  if (options.fps) manifest->render.fps = std::min(*options.fps, limits.max_fps);
  if (!options.camera.empty()) manifest->render.camera = options.camera;
}

// Forwards progress at most once per `interval` of wall time and feeds the video.
class ProgressForwarder : public SimObserver {
 public:
  ProgressForwarder(SimulateSink* sink, absl::Duration interval)
      : sink_(sink), interval_(interval) {}

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
    sink_->OnProgress(progress, frames_rendered);
  }

  std::int64_t frames_rendered = 0;
  render::VideoRecorder* video = nullptr;
  absl::Status video_error;

 private:
  SimulateSink* sink_;
  absl::Duration interval_;
  absl::Time last_sent_ = absl::InfinitePast();
};

// The top-down map's name for a footprint's kind.
render::ForceGrid::Outline::Kind OutlineKind(FootprintKind kind) {
  using Kind = render::ForceGrid::Outline::Kind;
  switch (kind) {
    case FootprintKind::kMovingPart: return Kind::kMovingPart;
    case FootprintKind::kStaticPart: return Kind::kStaticPart;
    case FootprintKind::kGoalZone: return Kind::kGoalZone;
    case FootprintKind::kForbidZone: return Kind::kForbidZone;
  }
  return Kind::kMovingPart;
}

absl::Status NoRenderer() {
  return absl::UnavailableError("this replica has no GL context; rendering is unavailable");
}

}  // namespace

absl::StatusOr<SimulateOutput> RunSimulateJob(const fs::path& job_dir,
                                              const SimulateOverrides& overrides,
                                              const JobEnv& env, SimulateSink* sink) {
  WP_ASSIGN_OR_RETURN(JobScene prepared, OpenScene(job_dir, env));
  ApplyOverrides(overrides, env.limits->scene, &prepared.manifest);
  ApplyModelOverrides(prepared.manifest, prepared.model.get());
  if (Cancelled(env)) return CancelledStatus();
  JobScene& scene = prepared;
  WP_ASSIGN_OR_RETURN(scene::MjDataPtr data, scene::MakeData(scene.model.get()));

  SimOptions sim_options = SimOptionsFromManifest(prepared.manifest);
  const absl::Duration interval = overrides.progress_interval_s > 0
                                      ? absl::Seconds(overrides.progress_interval_s)
                                      : env.limits->progress_interval;
  ProgressForwarder observer(sink, interval);
  SimulateOutput output;
  output.warnings = scene.warnings;
  for (const std::string& note : prepared.manifest.adjustments) output.warnings.push_back(note);
  const scene::ManifestRender& wanted = prepared.manifest.render;
  std::unique_ptr<render::VideoRecorder> video;
  if (wanted.enabled) {
    if (env.render_thread == nullptr) return NoRenderer();
    render::VideoRecorderOptions video_options;
    video_options.path = prepared.out_dir / "video.mp4";
    video_options.format = {wanted.width, wanted.height, wanted.fps};
    video_options.camera.name = wanted.camera;
    video_options.limits = env.limits->scene;
    video_options.renderers = env.renderers;
    video_options.model_key = env.payload_sha256;
    WP_ASSIGN_OR_RETURN(video, render::VideoRecorder::Start(*env.render_thread,
                                                            scene.model.get(), video_options));
    observer.video = video.get();
  }

  SetPhase(env, "simulating");
  WP_ASSIGN_OR_RETURN(SimResult result, Simulate(scene.model.get(), data.get(), sim_options,
                                                 &observer, env.cancel));
  if (result.outcome == SimOutcome::kCancelled || Cancelled(env)) return CancelledStatus();

  std::vector<Artifact> artifacts;
  if (video) {
    WP_RETURN_IF_ERROR(observer.video_error);
    SetPhase(env, "encoding");
    // Parts: the moving bodies, and each loaded geom of the world (floor, ramp, wall).
    std::vector<render::BodyForce> peaks;
    for (const BodyContactStress& part : result.stress) {
      if (part.body_id != 0) peaks.push_back({part.body, part.peak_force_n});
    }
    for (const GeomContactLoad& load : result.geom_loads) {
      if (load.body_id == 0) peaks.push_back({load.label, load.peak_force_n});
    }
    render::PartHeatmapOptions heatmap;
    heatmap.camera.name = wanted.camera;
    heatmap.yield_newtons = prepared.manifest.stress.yield_newtons;
    for (const ContactMark& mark : result.contact_marks) {
      heatmap.contacts.push_back({{mark.pos[0], mark.pos[1], mark.pos[2]}, mark.force_n});
    }
    // Drawn with the video's renderer before it is freed: no second render context.
    WP_ASSIGN_OR_RETURN(cv::Mat parts_image,
                        video->RenderWith([&](render::FrameRenderer& renderer) {
                          return render::RenderPartHeatmapWith(renderer, data.get(), peaks,
                                                               heatmap);
                        }));
    WP_ASSIGN_OR_RETURN(std::string parts_png, render::EncodePng(parts_image));
    WP_ASSIGN_OR_RETURN(render::VideoStats video_stats, video->Finish());
    observer.frames_rendered = video_stats.frames;
    video.reset();
    WP_ASSIGN_OR_RETURN(std::string mp4, ReadFileCapped(prepared.out_dir / "video.mp4",
                                                        "video.mp4", kMaxVideoBytes));
    artifacts.push_back({"video.mp4", "video/mp4", std::move(mp4)});
    artifacts.push_back({"heatmap_parts.png", "image/png", std::move(parts_png)});
    const ContactGrid& grid = result.contact_grid;
    if (grid.width > 0 && grid.height > 0) {
      render::ForceGrid plot{grid.width, grid.height, grid.x_min, grid.x_max,
                             grid.y_min,  grid.y_max,  grid.values, {}};
      for (Footprint& footprint : TopDownFootprints(scene.model.get(), data.get())) {
        plot.outlines.push_back({std::move(footprint.label), OutlineKind(footprint.kind),
                                 std::move(footprint.outline)});
      }
      render::GridHeatmapOptions plot_options;
      plot_options.unit = "N s";
      WP_ASSIGN_OR_RETURN(cv::Mat topdown_image, render::RenderForceGridImage(plot, plot_options));
      WP_ASSIGN_OR_RETURN(std::string topdown_png, render::EncodePng(topdown_image));
      artifacts.push_back({"heatmap_topdown.png", "image/png", std::move(topdown_png)});
    }
  }
  for (const Artifact& artifact : artifacts) {
    if (!sink->OnArtifact(artifact)) return absl::CancelledError("the call went away");
    output.artifacts.push_back(artifact.name);
  }
  output.frames_rendered = observer.frames_rendered;
  output.yield_newtons = prepared.manifest.stress.yield_newtons;
  output.adjustments = prepared.manifest.adjustments;
  for (const std::string& warning : result.warnings) output.warnings.push_back(warning);
  output.result = std::move(result);
  return output;
}

absl::Status RunVerifyRuns(const fs::path& job_dir, const VerifyParams& params,
                           const std::vector<int>& run_indices, const JobEnv& env,
                           const std::function<void(int index, const SimResult&)>& on_run) {
  WP_ASSIGN_OR_RETURN(JobScene prepared, OpenScene(job_dir, env));
  if (params.duration_s) {
    prepared.manifest.simulation.duration_s =
        std::min(*params.duration_s, env.limits->scene.max_duration_s);
  }
  prepared.manifest.render.enabled = false;
  ApplyModelOverrides(prepared.manifest, prepared.model.get());
  const mjModel* model = prepared.model.get();
  const double jitter = params.jitter_m.value_or(prepared.manifest.verify.jitter_m);
  const std::uint64_t base_seed = params.base_seed.value_or(prepared.manifest.simulation.seed);
  const SimOptions base_options = SimOptionsFromManifest(prepared.manifest);
  SetPhase(env, "simulating");
  for (int index : run_indices) {
    if (Cancelled(env)) return CancelledStatus();
    WP_ASSIGN_OR_RETURN(scene::MjDataPtr data, scene::MakeData(model));
    const std::uint64_t seed = RunSeed(base_seed, index);
    ApplyJitter(model, data.get(), seed, jitter);
    SimOptions options = base_options;
    options.seed = seed;
    WP_ASSIGN_OR_RETURN(SimResult result,
                        Simulate(model, data.get(), options, nullptr, env.cancel));
    if (result.outcome == SimOutcome::kCancelled) return CancelledStatus();
    on_run(index, result);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<render::Still>> RunRenderViewsJob(const fs::path& job_dir,
                                                             RenderViewsParams params,
                                                             const JobEnv& env) {
  WP_ASSIGN_OR_RETURN(JobScene prepared, OpenScene(job_dir, env));
  if (params.stills.width > 0) prepared.manifest.render.width = params.stills.width;
  if (params.stills.height > 0) prepared.manifest.render.height = params.stills.height;
  ApplyModelOverrides(prepared.manifest, prepared.model.get());
  if (env.render_thread == nullptr) return NoRenderer();
  const mjModel* model = prepared.model.get();
  WP_ASSIGN_OR_RETURN(scene::MjDataPtr data, scene::MakeData(model));
  // Optionally advance the scene first.
  SetPhase(env, "simulating");
  while (data->time < params.at_time_s) {
    if (Cancelled(env)) return CancelledStatus();
    WP_RETURN_IF_ERROR(scene::GuardMujoco(
        "mj_step", [&] { mj_step(model, data.get()); }, absl::StatusCode::kInvalidArgument));
  }
  if (params.distance_m > 0 && model->stat.extent > 0) {
    params.stills.distance_factor = params.distance_m / model->stat.extent;
  }
  params.stills.width = prepared.manifest.render.width;
  params.stills.height = prepared.manifest.render.height;
  SetPhase(env, "rendering");
  const std::vector<render::StillView> views = render::RequestedViews(params.stills);
  render::RenderSettings settings;
  settings.width = params.stills.width;
  settings.height = params.stills.height;
  WP_ASSIGN_OR_RETURN(
      std::vector<render::Still> stills,
      env.render_thread->Call([&]() -> absl::StatusOr<std::vector<render::Still>> {
        if (env.renderers == nullptr) {
          return render::RenderStills(model, data.get(), views, settings);
        }
        bool reused = false;
        WP_ASSIGN_OR_RETURN(std::unique_ptr<render::FrameRenderer> renderer,
                            env.renderers->Take(env.payload_sha256, model, settings, &reused));
        absl::StatusOr<std::vector<render::Still>> rendered =
            render::RenderStillsWith(*renderer, data.get(), views);
        if (rendered.ok()) env.renderers->Give(env.payload_sha256, std::move(renderer));
        return rendered;
      }));
  for (render::Still& still : stills) still.name = StrCat(still.name, ".png");
  return stills;
}

absl::StatusOr<BuildSceneOutput> RunBuildSceneJob(const fs::path& job_dir, bool return_mjcf,
                                                  const JobEnv& env) {
  const absl::Time start = absl::Now();
  WP_ASSIGN_OR_RETURN(JobScene prepared, OpenScene(job_dir, env));
  BuildSceneOutput output;
  output.compile_ms = absl::ToDoubleMilliseconds(absl::Now() - start);
  const mjModel* model = prepared.model.get();
  const JobScene& scene = prepared;
  output.stats = scene::BuildSceneStats(model);
  for (int i = 0; i < model->nbody; ++i) output.total_mass_kg += model->body_mass[i];
  const std::string& named = prepared.manifest.simulation.target_body;
  output.target_body = !named.empty()                    ? named
                       : output.stats.free_bodies.empty() ? std::string()
                                                          : output.stats.free_bodies.front();
  output.warnings = scene.warnings;
  for (const std::string& note : prepared.manifest.adjustments) output.warnings.push_back(note);
  if (return_mjcf && prepared.manifest.assembly) {
    if (!prepared.generated_mjcf.empty()) {
      output.mjcf = prepared.generated_mjcf;
    } else {
      WP_ASSIGN_OR_RETURN(output.mjcf,
                          ReadFileCapped(prepared.root / scene::kGeneratedSceneFileName,
                                         scene::kGeneratedSceneFileName, 16 << 20));
    }
  }
  return output;
}

}  // namespace workerpair::heavy::job
