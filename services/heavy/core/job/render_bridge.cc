// The only translation unit of the adapter that includes heavy_render_core's headers.
#include "services/heavy/core/job/render_bridge.h"

#include <algorithm>

#include "libs/scene/scene_limits.h"
#include "libs/common/status_macros.h"
#include "services/heavy/core/render/heatmap.h"
#include "services/heavy/core/render/render_thread.h"
#include "services/heavy/core/render/stills.h"
#include "services/heavy/core/render/video_recorder.h"

namespace workerpair::heavy {
absl::StatusOr<std::unique_ptr<Renderer>> Renderer::Start() {
  WP_ASSIGN_OR_RETURN(std::unique_ptr<RenderThread> thread,
                      RenderThread::Start(GlContextOptions{}));
  return std::unique_ptr<Renderer>(new Renderer(std::move(thread)));
}

Renderer::Renderer(std::unique_ptr<RenderThread> thread) : thread_(std::move(thread)) {}
Renderer::~Renderer() = default;
std::string Renderer::name() const { return thread_->RendererName(); }
std::string Renderer::platform() const { return thread_->Platform(); }

struct VideoSession::Impl {
  std::unique_ptr<VideoRecorder> recorder;
  std::string camera;
};

VideoSession::VideoSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VideoSession::~VideoSession() = default;

absl::StatusOr<std::unique_ptr<VideoSession>> VideoSession::Start(Renderer& renderer,
                                                                  const mjModel* model,
                                                                  const VideoRequest& request) {
  RenderThread* thread = &renderer.thread();
  VideoRecorderOptions options;
  options.path = request.path;
  options.format = {request.width, request.height, request.fps};
  options.camera.name = request.camera;
  options.limits.max_width = request.max_width;
  options.limits.max_height = request.max_height;
  options.limits.max_fps = request.max_fps;
  auto impl = std::make_unique<Impl>();
  impl->camera = request.camera;
  WP_ASSIGN_OR_RETURN(impl->recorder, VideoRecorder::Start(*thread, model, options));
  return std::unique_ptr<VideoSession>(new VideoSession(std::move(impl)));
}

absl::Status VideoSession::OnStep(const mjModel* model, mjData* data, double sim_time) {
  return impl_->recorder->OnStep(model, data, sim_time);
}

absl::StatusOr<std::string> VideoSession::PartHeatmapPng(
    mjData* data, const std::vector<std::pair<std::string, double>>& peaks, double yield_newtons,
    const std::vector<std::array<float, 4>>& contacts) {
  std::vector<BodyForce> forces;
  for (const auto& [body, peak] : peaks) forces.push_back({body, peak});
  PartHeatmapOptions options;
  options.camera.name = impl_->camera;
  options.yield_newtons = yield_newtons;
  for (const auto& c : contacts) options.contacts.push_back({{c[0], c[1], c[2]}, c[3]});
  WP_ASSIGN_OR_RETURN(cv::Mat image, impl_->recorder->RenderWith([&](FrameRenderer& renderer) {
    return RenderPartHeatmapWith(renderer, data, forces, options);
  }));
  return EncodePng(image);
}

absl::StatusOr<std::int64_t> VideoSession::Finish() {
  WP_ASSIGN_OR_RETURN(VideoStats stats, impl_->recorder->Finish());
  return stats.frames;
}

std::int64_t VideoSession::frames_written() const { return impl_->recorder->frames_written(); }

absl::StatusOr<std::string> GridHeatmapPng(const GridPlot& plot) {
  ForceGrid grid;
  grid.width = plot.width;
  grid.height = plot.height;
  grid.x_min = plot.x_min;
  grid.x_max = plot.x_max;
  grid.y_min = plot.y_min;
  grid.y_max = plot.y_max;
  grid.values = plot.values;
  for (const GridPlot::Outline& outline : plot.outlines) {
    grid.outlines.push_back({outline.label, static_cast<ForceGrid::Outline::Kind>(
                                                std::clamp(outline.kind, 0, 3)),
                             outline.points});
  }
  GridHeatmapOptions options;
  options.unit = plot.unit;
  WP_ASSIGN_OR_RETURN(cv::Mat image, RenderForceGridImage(grid, options));
  return EncodePng(image);
}

absl::StatusOr<std::vector<StillImage>> RenderStillImages(Renderer& renderer,
                                                          const mjModel* model, mjData* data,
                                                          const StillsRequest& request) {
  RenderThread* thread = &renderer.thread();
  std::vector<StillView> views;
  if (!request.camera.empty()) {
    views.push_back(CameraView(request.camera));
  } else {
    views = RingViews(request.azimuth_count, request.elevations_deg, request.distance_factor);
  }
  RenderSettings settings;
  settings.width = request.width;
  settings.height = request.height;
  WP_ASSIGN_OR_RETURN(std::vector<Still> stills, thread->Call([&] {
                        return RenderStills(model, data, views, settings);
                      }));
  std::vector<StillImage> images;
  for (std::size_t i = 0; i < stills.size() && i < views.size(); ++i) {
    StillImage image;
    image.name = stills[i].name + ".png";
    image.camera = views[i].camera.name;
    image.azimuth_deg = views[i].camera.azimuth_deg.value_or(0);
    image.elevation_deg = views[i].camera.elevation_deg.value_or(0);
    image.width = request.width;
    image.height = request.height;
    image.png = std::move(stills[i].png);
    images.push_back(std::move(image));
  }
  return images;
}

}  // namespace workerpair::heavy
