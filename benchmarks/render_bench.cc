// render_bench: frames per second of a bare render + read-pixels loop vs the VideoRecorder
// (render on the render thread, H.264 encoding, simulation overlapping), same model, same run.
//
//   render_bench [--bodies=50] [--frames=150] [--width=640] [--height=480] [--fps=30]
//                [--backend=auto|nvidia|surfaceless] [--quality=fast|default]
//
// The model is a pile of `bodies` boxes and spheres falling onto a plane (generated MJCF).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

#include <mujoco/mujoco.h>

#include "services/heavy/core/render/frame_renderer.h"
#include "services/heavy/core/render/render_thread.h"
#include "services/heavy/core/render/video_recorder.h"

namespace {

using workerpair::heavy::render::CameraSpec;
using workerpair::heavy::render::FrameRenderer;
using workerpair::heavy::render::GlBackend;
using workerpair::heavy::render::RenderSettings;
using workerpair::heavy::render::RenderThread;
using workerpair::heavy::render::VideoRecorder;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string PileXml(int bodies) {
  std::string xml =
      "<mujoco><size nconmax=\"2000\" njmax=\"5000\"/><option timestep=\"0.002\"/>"
      "<asset><texture name=\"g\" type=\"2d\" builtin=\"checker\" rgb1=\".2 .3 .4\" "
      "rgb2=\".3 .4 .5\" width=\"256\" height=\"256\"/>"
      "<material name=\"g\" texture=\"g\" texrepeat=\"4 4\" reflectance=\"0.2\"/></asset>"
      "<worldbody><light pos=\"0 0 5\" dir=\"0 0 -1\" castshadow=\"true\"/>"
      "<geom type=\"plane\" size=\"4 4 0.1\" material=\"g\"/>";
  for (int i = 0; i < bodies; ++i) {
    const double x = -0.6 + 0.3 * (i % 5);
    const double y = -0.6 + 0.3 * ((i / 5) % 5);
    const double z = 0.3 + 0.3 * (i / 25);
    char body[400];
    std::snprintf(body, sizeof(body),
                  "<body pos=\"%.3f %.3f %.3f\"><freejoint/><geom type=\"%s\" size=\"0.1 0.1 "
                  "0.1\" rgba=\"%.2f .5 %.2f 1\"/></body>",
                  x, y, z, i % 2 ? "box" : "sphere", (i % 7) / 7.0, (i % 3) / 3.0);
    xml += body;
  }
  xml += "</worldbody></mujoco>";
  return xml;
}

mjModel* LoadXml(const std::string& xml) {
  auto vfs = std::make_unique<mjVFS>();
  mj_defaultVFS(vfs.get());
  mj_makeEmptyFileVFS(vfs.get(), "pile.xml", static_cast<int>(xml.size()));
  std::memcpy(vfs->filedata[vfs->nfile - 1], xml.data(), xml.size());
  char error[1000] = "";
  mjModel* m = mj_loadXML("pile.xml", vfs.get(), error, sizeof(error));
  mj_deleteVFS(vfs.get());
  if (m == nullptr) std::fprintf(stderr, "load failed: %s\n", error);
  return m;
}

int IntFlag(int argc, char** argv, const char* name, int fallback) {
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
      return std::atoi(argv[i] + prefix.size());
    }
  }
  return fallback;
}

std::string StringFlag(int argc, char** argv, const char* name, const char* fallback) {
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) return argv[i] + prefix.size();
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const int bodies = IntFlag(argc, argv, "bodies", 50);
  const int frames = IntFlag(argc, argv, "frames", 150);
  const int width = IntFlag(argc, argv, "width", 640);
  const int height = IntFlag(argc, argv, "height", 480);
  const int fps = IntFlag(argc, argv, "fps", 30);
  const std::string backend_name = StringFlag(argc, argv, "backend", "auto");
  const std::string quality = StringFlag(argc, argv, "quality", "fast");

  workerpair::heavy::render::GlContextOptions gl_options;
  if (backend_name == "nvidia") gl_options.backend = GlBackend::kNvidiaDevice;
  if (backend_name == "surfaceless") gl_options.backend = GlBackend::kSurfaceless;
  RenderSettings settings{.width = width, .height = height};
  if (quality == "default") {  // MuJoCo's own defaults: 4x multisampling, shadows, reflections
    settings.offsamples = 4;
    settings.shadows = settings.reflections = settings.skybox = true;
  }

  auto started = RenderThread::Start(gl_options);
  if (!started.ok()) {
    std::fprintf(stderr, "render thread: %s\n", started.status().ToString().c_str());
    return 1;
  }
  RenderThread& rt = **started;
  mjModel* m = LoadXml(PileXml(bodies));
  if (m == nullptr) return 1;
  // Simulate exactly (frames - 1) / fps seconds, so the recorder makes `frames` frames.
  const int total_steps =
      static_cast<int>(std::ceil((frames - 1) / static_cast<double>(fps) / m->opt.timestep - 1e-6));

  // 1. Simulation alone, for reference (same steps as the runs below).
  mjData* d = mj_makeData(m);
  auto sim_start = Clock::now();
  for (int i = 0; i < total_steps; ++i) mj_step(m, d);
  const double sim_seconds = Seconds(sim_start);

  // 2. Bare render + read pixels on the render thread, state advanced between frames
  //    (only the render calls are timed; setup is reported apart).
  mj_resetData(m, d);
  mj_forward(m, d);
  double setup_seconds = 0;
  double bare_seconds = 0;
  const int rc = rt.Call([&]() -> int {
    auto setup_start = Clock::now();
    auto renderer = FrameRenderer::Create(m, settings);
    if (!renderer.ok()) {
      std::fprintf(stderr, "renderer: %s\n", renderer.status().ToString().c_str());
      return 1;
    }
    auto camera = workerpair::heavy::render::ResolveCamera(m, CameraSpec{});
    setup_seconds = Seconds(setup_start);
    for (int f = 0; f < frames; ++f) {
      auto render_start = Clock::now();
      auto frame = (*renderer)->Render(d, *camera);
      bare_seconds += Seconds(render_start);
      if (!frame.ok()) return 1;
      while (f + 1 < frames && d->time < (f + 1) / static_cast<double>(fps) - 1e-9) mj_step(m, d);
    }
    return 0;
  });
  if (rc != 0) return rc;

  // 3. Simulation with the recorder: wall time of the whole run, encoding and Finish included.
  mj_resetData(m, d);
  mj_forward(m, d);
  const std::filesystem::path video =
      std::filesystem::temp_directory_path() / ("render_bench_" + std::to_string(getpid()) + ".mp4");
  auto run_start = Clock::now();
  auto recorder = VideoRecorder::Start(
      rt, m, {.path = video, .format = {width, height, fps}, .settings = settings});
  if (!recorder.ok()) {
    std::fprintf(stderr, "recorder: %s\n", recorder.status().ToString().c_str());
    return 1;
  }
  const double start_seconds = Seconds(run_start);
  auto loop_start = Clock::now();
  (void)(*recorder)->OnStep(m, d, d->time);
  for (int i = 0; i < total_steps; ++i) {
    mj_step(m, d);
    if (auto s = (*recorder)->OnStep(m, d, d->time); !s.ok()) {
      std::fprintf(stderr, "OnStep: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  const double loop_seconds = Seconds(loop_start);
  auto stats = (*recorder)->Finish();
  const double recorder_seconds = Seconds(loop_start);
  if (!stats.ok()) {
    std::fprintf(stderr, "finish: %s\n", stats.status().ToString().c_str());
    return 1;
  }
  const auto video_bytes = std::filesystem::file_size(video);
  std::filesystem::remove(video);

  std::printf("renderer: %s (%s)\n", rt.RendererName().c_str(), rt.Platform().c_str());
  std::printf("model: %d-body pile, %d geoms; %dx%d, %d fps, quality %s; %d frames, %d steps\n",
              bodies, m->ngeom, width, height, fps, quality.c_str(), frames, total_steps);
  std::printf("| measure | value |\n|---|---|\n");
  std::printf("| bare render + readPixels | %.1f frames/s |\n", frames / bare_seconds);
  std::printf("| recorder (sim + render + H.264 encode, wall) | %.1f frames/s |\n",
              stats->frames / recorder_seconds);
  std::printf("| recorder / bare | %.2f |\n",
              (stats->frames / recorder_seconds) / (frames / bare_seconds));
  std::printf("| simulation alone, same steps | %.3f s |\n", sim_seconds);
  std::printf("| simulation loop with OnStep (until last frame queued) | %.3f s |\n",
              loop_seconds);
  std::printf("| OnStep capture (mjv_updateScene) total | %.3f s (%.2f ms/frame) |\n",
              stats->capture_seconds, 1000 * stats->capture_seconds / stats->frames);
  std::printf("| OnStep waiting for a free scene total | %.3f s |\n", stats->stall_seconds);
  std::printf("| render thread: render+read / encode | %.3f s / %.3f s |\n",
              stats->render_seconds, stats->encode_seconds);
  std::printf("| renderer setup (mjr_makeContext), recorder start | %.3f s, %.3f s |\n",
              setup_seconds, start_seconds);
  std::printf("| video | %lld frames, %.1f KiB |\n", static_cast<long long>(stats->frames),
              video_bytes / 1024.0);
  mj_deleteData(d);
  mj_deleteModel(m);
  return 0;
}
