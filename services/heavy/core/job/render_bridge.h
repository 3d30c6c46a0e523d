// RenderBridge: the renderer as the job pipeline sees it, through plain types (no OpenCV, no
// render-core headers in the job pipeline's or the runner's includes).
//
// It began as a workaround: frame_renderer.h and the manifest both declared
// heavy::RenderSettings. They no longer collide (the manifest's section is
// scene::ManifestRender, libs/scene/manifest.h; RenderSettings is only the frame renderer's),
// so the job pipeline may use the render core directly; folding this file into it is left to
// the owners of job_pipeline.* and runner/*. A Renderer owns one render thread and its GL
// context; a runner process makes one at start-up and hands it to every job it runs, so the
// context stays warm across jobs. There is no process-wide renderer.
//
//   WP_ASSIGN_OR_RETURN(std::unique_ptr<Renderer> renderer, Renderer::Start());  // once
//   WP_ASSIGN_OR_RETURN(auto video, VideoSession::Start(*renderer, model, {.path = ...}));
//   ... video->OnStep(model, data, data->time) after each step ...
//   WP_ASSIGN_OR_RETURN(std::int64_t frames, video->Finish());
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_JOB_RENDER_BRIDGE_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_JOB_RENDER_BRIDGE_H_

#include <mujoco/mujoco.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace workerpair::heavy {

class RenderThread;

// One render thread with its GL context, made current once and reused by every job.
class Renderer {
 public:
  // UNAVAILABLE when no EGL context can be made.
  static absl::StatusOr<std::unique_ptr<Renderer>> Start();
  ~Renderer();
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;
  // GL_RENDERER, and the EGL platform in words.
  std::string name() const;
  std::string platform() const;
  RenderThread& thread() { return *thread_; }

 private:
  explicit Renderer(std::unique_ptr<RenderThread> thread);
  std::unique_ptr<RenderThread> thread_;
};

struct VideoRequest {
  std::filesystem::path path;
  int width = 640;
  int height = 480;
  int fps = 30;
  std::string camera;  // empty: the free camera
  int max_width = 1920;
  int max_height = 1080;
  int max_fps = 60;
};

// An H.264 recording of one run.
class VideoSession {
 public:
  // INVALID_ARGUMENT for a bad format, NOT_FOUND for an unknown camera, UNAVAILABLE without
  // a renderer or H.264 encoder.
  static absl::StatusOr<std::unique_ptr<VideoSession>> Start(Renderer& renderer,
                                                             const mjModel* model,
                                                             const VideoRequest& request);
  ~VideoSession();
  absl::Status OnStep(const mjModel* model, mjData* data, double sim_time);
  // PNG of the model in state `data` with each named part (a body, or a geom of the world body)
  // painted by its peak total contact force on a scale anchored to `yield_newtons`, the contact
  // points {x, y, z, force} as dots, drawn with the video's renderer (same size and camera).
  // Call before Finish.
  absl::StatusOr<std::string> PartHeatmapPng(
      mjData* data, const std::vector<std::pair<std::string, double>>& peaks,
      double yield_newtons = 0, const std::vector<std::array<float, 4>>& contacts = {});
  // Returns the number of frames written.
  absl::StatusOr<std::int64_t> Finish();
  std::int64_t frames_written() const;

 private:
  struct Impl;
  explicit VideoSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// PNG of a top-down grid (row-major, row 0 at y_min) of accumulated contact force.
struct GridPlot {
  int width = 0;
  int height = 0;
  double x_min = 0, x_max = 0, y_min = 0, y_max = 0;
  std::vector<float> values;
  std::string unit = "N s";
  // Outlines of parts and zones drawn over the map; kind: 0 moving part, 1 static part,
  // 2 goal zone, 3 forbidden zone.
  struct Outline {
    std::string label;
    int kind = 0;
    std::vector<std::array<double, 2>> points;
  };
  std::vector<Outline> outlines;
};
absl::StatusOr<std::string> GridHeatmapPng(const GridPlot& grid);

// Stills: from a named camera (one image), or a ring of azimuths x elevations.
struct StillsRequest {
  std::string camera;  // non-empty: one still from this camera
  int azimuth_count = 8;
  std::vector<double> elevations_deg = {-15, -35, -60};
  double distance_factor = 1.5;
  int width = 640;
  int height = 480;
};
struct StillImage {
  std::string name;
  std::string camera;
  double azimuth_deg = 0;
  double elevation_deg = 0;
  int width = 0;
  int height = 0;
  std::string png;
};
absl::StatusOr<std::vector<StillImage>> RenderStillImages(Renderer& renderer,
                                                          const mjModel* model, mjData* data,
                                                          const StillsRequest& request);

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_JOB_RENDER_BRIDGE_H_
