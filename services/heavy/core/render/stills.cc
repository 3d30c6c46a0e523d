#include "services/heavy/core/render/stills.h"

#include <cmath>
#include <cstdio>

#include "libs/common/str_cat.h"
#include "services/heavy/core/render/frame_renderer.h"
#include "services/heavy/core/render/heatmap.h"

namespace workerpair::heavy::render {

std::vector<StillView> RingViews(int azimuths, const std::vector<double>& elevations_deg,
                                 double distance_factor) {
  std::vector<StillView> views;
  if (azimuths <= 0) return views;
  for (double elevation : elevations_deg) {
    for (int i = 0; i < azimuths; ++i) {
      const double azimuth = 360.0 * i / azimuths;
      char name[48];
      std::snprintf(name, sizeof(name), "az%03d_el%d", static_cast<int>(std::lround(azimuth)),
                    static_cast<int>(std::lround(elevation)));
      views.push_back({name, CameraSpec{.name = "",
                                        .azimuth_deg = azimuth,
                                        .elevation_deg = elevation,
                                        .distance_factor = distance_factor}});
    }
  }
  return views;
}

StillView CameraView(const std::string& camera_name) {
  return {camera_name.empty() ? std::string("default") : camera_name,
          CameraSpec{.name = camera_name}};
}

std::vector<StillView> RequestedViews(const StillsRequest& request) {
  if (!request.camera.empty()) return {CameraView(request.camera)};
  return RingViews(request.azimuth_count, request.elevations_deg, request.distance_factor);
}

namespace {

// Every view's camera, INVALID_ARGUMENT / NOT_FOUND as RenderStills says.
absl::StatusOr<std::vector<mjvCamera>> ResolveViews(const mjModel* m,
                                                    const std::vector<StillView>& views) {
  if (views.empty() || views.size() > static_cast<size_t>(kMaxStillViews)) {
    return absl::InvalidArgumentError(
        StrCat(views.size(), " views requested; expected 1..", kMaxStillViews));
  }
  std::vector<mjvCamera> cameras;
  for (const StillView& view : views) {
    absl::StatusOr<mjvCamera> camera = ResolveCamera(m, view.camera);
    if (!camera.ok()) return camera.status();
    cameras.push_back(*camera);
  }
  return cameras;
}

}  // namespace

absl::StatusOr<std::vector<Still>> RenderStills(const mjModel* m, mjData* d,
                                                const std::vector<StillView>& views,
                                                const RenderSettings& settings) {
  // Every camera is resolved before the (costlier) GL setup.
  if (absl::Status s = ResolveViews(m, views).status(); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<FrameRenderer>> renderer = FrameRenderer::Create(m, settings);
  if (!renderer.ok()) return renderer.status();
  return RenderStillsWith(**renderer, d, views);
}

absl::StatusOr<std::vector<Still>> RenderStillsWith(FrameRenderer& renderer, mjData* d,
                                                    const std::vector<StillView>& views) {
  absl::StatusOr<std::vector<mjvCamera>> cameras = ResolveViews(renderer.model(), views);
  if (!cameras.ok()) return cameras.status();
  const RenderSettings& settings = renderer.settings();
  std::vector<Still> stills;
  stills.reserve(views.size());
  for (size_t i = 0; i < views.size(); ++i) {
    absl::StatusOr<cv::Mat> frame = renderer.Render(d, (*cameras)[i]);
    if (!frame.ok()) return frame.status();
    absl::StatusOr<std::string> png = EncodePng(*frame);
    if (!png.ok()) return png.status();
    Still still;
    still.name = views[i].name;
    still.camera = views[i].camera.name;
    still.azimuth_deg = views[i].camera.azimuth_deg.value_or(0);
    still.elevation_deg = views[i].camera.elevation_deg.value_or(0);
    still.width = settings.width;
    still.height = settings.height;
    still.png = std::move(*png);
    stills.push_back(std::move(still));
  }
  return stills;
}

}  // namespace workerpair::heavy::render
