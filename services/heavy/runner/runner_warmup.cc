#include "services/heavy/runner/runner_warmup.h"

#include <fstream>
#include <system_error>

#include "libs/common/bundle.h"
#include "libs/common/status_macros.h"

namespace workerpair::heavy {
namespace fs = std::filesystem;
using sim::SimProgress;
namespace {

constexpr char kManifest[] = R"({"version": 1, "scene": "scene.xml",
  "simulation": {"duration_s": 0.2, "target_body": "box"},
  "render": {"enabled": true, "width": 64, "height": 48, "fps": 10}})";

// A box on a plane, with a mesh, a texture and a material, so the compiler, the mesh code and
// the renderer's texture path all run once.
constexpr char kScene[] = R"(<mujoco>
  <asset>
    <texture name="grid" type="2d" builtin="checker" width="32" height="32"/>
    <material name="grid" texture="grid"/>
    <mesh name="tetra" vertex="0 0 0  0.1 0 0  0 0.1 0  0 0 0.1"/>
  </asset>
  <worldbody>
    <light pos="0 0 3"/>
    <geom type="plane" size="1 1 0.1" material="grid"/>
    <body name="box" pos="0 0 0.2"><freejoint/><geom type="box" size="0.05 0.05 0.05"/>
      <geom type="mesh" mesh="tetra" pos="0.1 0 0"/></body>
  </worldbody>
</mujoco>)";

class DiscardSink : public job::SimulateSink {
 public:
  void OnProgress(const SimProgress&, std::int64_t) override {}
  bool OnArtifact(const job::Artifact&) override { return true; }
};

absl::Status WriteText(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  return out ? absl::OkStatus() : absl::InternalError("cannot write the warm-up scene");
}

}  // namespace

absl::Status WarmUpRunner(const fs::path& runner_dir, const job::JobLimits& limits,
                          render::RenderThread* render_thread) {
  const fs::path root = runner_dir / "warmup";
  const fs::path source = root / "source";
  const fs::path job_dir = root / "job";
  std::error_code ec;
  fs::create_directories(source, ec);
  fs::create_directories(job_dir, ec);
  if (ec) return absl::InternalError("cannot create the warm-up directory");
  WP_RETURN_IF_ERROR(WriteText(source / "manifest.json", kManifest));
  WP_RETURN_IF_ERROR(WriteText(source / "scene.xml", kScene));
  WP_ASSIGN_OR_RETURN(PackResult packed, PackDirectory(source, {}, PackOptions{}));
  WP_RETURN_IF_ERROR(WriteText(job_dir / job::kPayloadArchiveName, packed.archive));
  job::JobEnv env;
  env.limits = &limits;
  env.render_thread = render_thread;
  job::SimulateOverrides overrides;
  overrides.render = render_thread != nullptr;
  DiscardSink sink;
  absl::Status status = job::RunSimulateJob(job_dir, overrides, env, &sink).status();
  if (status.ok() && render_thread != nullptr) {
    fs::remove_all(job_dir / "payload", ec);
    fs::remove_all(job_dir / "out", ec);
    job::RenderViewsParams views;
    views.stills.azimuth_count = 1;
    views.stills.elevations_deg = {-30};
    views.stills.width = 64;
    views.stills.height = 48;
    status = job::RunRenderViewsJob(job_dir, views, env).status();
  }
  fs::remove_all(root, ec);
  return status;
}

}  // namespace workerpair::heavy
