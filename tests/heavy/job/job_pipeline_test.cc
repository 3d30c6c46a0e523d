// The job pipeline with a render thread, a compiled-scene cache and a renderer cache, as a
// runner process holds them: a repeated rendered job on the same payload makes no new render
// context, gets the same video and heatmaps; render views after it reuse the context too; a
// different payload gets its own.
#include "services/heavy/core/job/job_pipeline.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

#include "libs/common/bundle.h"
#include "services/heavy/core/render/frame_renderer_cache.h"
#include "services/heavy/core/render/render_thread.h"

namespace workerpair::heavy::job {
namespace {
namespace fs = std::filesystem;

constexpr char kScene[] = R"(<mujoco>
  <worldbody>
    <light pos="0 0 3"/>
    <geom name="floor" type="plane" size="2 2 0.1"/>
    <body name="box" pos="0 0 0.3"><freejoint/><geom type="box" size="0.1 0.1 0.1"/></body>
  </worldbody>
</mujoco>)";

std::string Manifest(int width) {
  return R"({"version": 1, "scene": "scene.xml",
    "simulation": {"duration_s": 0.5, "target_body": "box"},
    "render": {"enabled": true, "width": )" +
         std::to_string(width) + R"(, "height": 96, "fps": 20}})";
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("wp_job_test_" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

void Write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// A job directory holding the payload's archive; returns the payload's digest.
std::string PlacePayload(const fs::path& source, const fs::path& job_dir, int width) {
  Write(source / "scene.xml", kScene);
  Write(source / "manifest.json", Manifest(width));
  absl::StatusOr<PackResult> packed = PackDirectory(source, {}, PackOptions{});
  REQUIRE(packed.ok());
  Write(job_dir / kPayloadArchiveName, packed->archive);
  return packed->sha256;
}

class CollectSink : public SimulateSink {
 public:
  void OnProgress(const sim::SimProgress&, std::int64_t) override {}
  bool OnArtifact(const Artifact& artifact) override {
    sizes.push_back(artifact.bytes.size());
    return true;
  }
  std::vector<std::size_t> sizes;
};

TEST_CASE("A repeated rendered job on the same payload reuses the model's render context") {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<render::RenderThread>> thread = render::RenderThread::Start({});
  INFO(thread.status().ToString());
  REQUIRE(thread.ok());
  const JobLimits limits;
  CompiledSceneCache scenes(4, 64 << 20);
  render::FrameRendererCache renderers(**thread, 2);
  const std::string digest = PlacePayload(dir.path / "source", dir.path / "job1", 128);
  JobEnv env;
  env.limits = &limits;
  env.render_thread = thread->get();
  env.renderers = &renderers;
  env.scenes = &scenes;
  env.payload_sha256 = digest;

  std::vector<SimulateOutput> outputs;
  for (const char* job : {"job1", "job2"}) {
    CollectSink sink;
    absl::StatusOr<SimulateOutput> output =
        RunSimulateJob(dir.path / job, SimulateOverrides{}, env, &sink);
    INFO(output.status().ToString());
    REQUIRE(output.ok());
    CHECK(output->artifacts ==
          std::vector<std::string>{"video.mp4", "heatmap_parts.png", "heatmap_topdown.png"});
    for (std::size_t size : sink.sizes) CHECK(size > 0);
    outputs.push_back(std::move(*output));
  }
  // 0.5 s at 20 fps: 11 frames each; the second job made no render context of its own.
  CHECK(outputs[0].frames_rendered == 11);
  CHECK(outputs[1].frames_rendered == 11);
  CHECK(renderers.misses() == 1);
  CHECK(renderers.hits() == 1);

  // Render views at the video's size (0: the manifest's) after it: the same kept context.
  RenderViewsParams views;
  views.stills.width = 0;
  views.stills.height = 0;
  views.stills.azimuth_count = 2;
  views.stills.elevations_deg = {-30};
  absl::StatusOr<std::vector<render::Still>> stills =
      RunRenderViewsJob(dir.path / "job3", views, env);
  INFO(stills.status().ToString());
  REQUIRE(stills.ok());
  REQUIRE(stills->size() == 2);
  CHECK((*stills)[0].name == "az000_el-30.png");
  CHECK((*stills)[1].name == "az180_el-30.png");
  CHECK((*stills)[0].width == 128);
  CHECK((*stills)[0].height == 96);
  CHECK_FALSE((*stills)[0].png.empty());
  CHECK(renderers.hits() == 2);

  // Another payload (another digest) never gets this one's context.
  env.payload_sha256 = PlacePayload(dir.path / "source2", dir.path / "job4", 160);
  CollectSink sink;
  absl::StatusOr<SimulateOutput> other =
      RunSimulateJob(dir.path / "job4", SimulateOverrides{}, env, &sink);
  INFO(other.status().ToString());
  REQUIRE(other.ok());
  CHECK(other->frames_rendered == 11);
  CHECK(renderers.hits() == 2);
  CHECK(renderers.misses() == 2);
}

TEST_CASE("A rendered job without a render thread is UNAVAILABLE") {
  TempDir dir;
  const JobLimits limits;
  PlacePayload(dir.path / "source", dir.path / "job", 128);
  JobEnv env;
  env.limits = &limits;
  CollectSink sink;
  absl::StatusOr<SimulateOutput> output =
      RunSimulateJob(dir.path / "job", SimulateOverrides{}, env, &sink);
  REQUIRE_FALSE(output.ok());
  CHECK(output.status().code() == absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace workerpair::heavy::job
