// Still views of a scene: from named cameras, or a ring of azimuths x elevations around the
// scene's centre (the RenderViews call), as PNG bytes.
//
//   std::vector<StillView> views = RingViews(8, {-15, -35, -60});   // 24 views
//   WP_ASSIGN_OR_RETURN(std::vector<Still> stills,
//                       rt->Call([&] { return RenderStills(model, data, views, {}); }));
//   // stills[i].name == "az045_el-35", stills[i].png is the image
//
// No OpenCV or GL in this header: the job pipeline (and the runner, which includes it) describe
// a RenderViews call with StillsRequest and get Stills back.
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_STILLS_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_STILLS_H_

#include <mujoco/mujoco.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/heavy/core/render/render_settings.h"

namespace workerpair::heavy::render {

class FrameRenderer;

// One view to render and the name its image goes by.
struct StillView {
  std::string name;
  CameraSpec camera;
};

// One rendered view: its name, where it was seen from and its PNG bytes.
struct Still {
  std::string name;
  std::string camera;  // the named camera, empty for a free-camera view
  double azimuth_deg = 0;
  double elevation_deg = 0;
  int width = 0;
  int height = 0;
  std::string png;
};

// What a RenderViews call asks for: one still from a named camera, or a ring of azimuths x
// elevations around the scene's centre.
struct StillsRequest {
  std::string camera;  // non-empty: one still from this camera
  int azimuth_count = 8;
  std::vector<double> elevations_deg = {-15, -35, -60};
  double distance_factor = 1.5;
  int width = 640;
  int height = 480;
};

// The most views one RenderStills call renders.
inline constexpr int kMaxStillViews = 256;

// `azimuths` views evenly spaced from 0 degrees, at each elevation (degrees, negative looks
// down), all looking at the model's centre from `distance_factor` x its extent. Names are
// "az<deg, 3 digits>_el<deg>", e.g. "az045_el-30".
std::vector<StillView> RingViews(int azimuths, const std::vector<double>& elevations_deg,
                                 double distance_factor = 1.5);

// A view from the named camera (empty name: the default free camera), named after it.
StillView CameraView(const std::string& camera_name);

// The views `request` asks for: CameraView(camera) when it names one, else the ring.
std::vector<StillView> RequestedViews(const StillsRequest& request);

// Renders every view of the model in state `d` (call mj_forward first) and encodes PNGs.
// Must run with a current GL context (a RenderThread task). INVALID_ARGUMENT for no views or
// more than kMaxStillViews; NOT_FOUND for an unknown camera; errors of FrameRenderer::Create.
absl::StatusOr<std::vector<Still>> RenderStills(const mjModel* m, mjData* d,
                                                const std::vector<StillView>& views,
                                                const RenderSettings& settings);

// The same with a renderer already made for the model (one a FrameRendererCache kept): the
// stills have the renderer's size.
absl::StatusOr<std::vector<Still>> RenderStillsWith(FrameRenderer& renderer, mjData* d,
                                                    const std::vector<StillView>& views);

}  // namespace workerpair::heavy::render

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_STILLS_H_
