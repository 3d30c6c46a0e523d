// Still views of a scene: from named cameras, or a ring of azimuths x elevations around the
// scene's centre (the RenderViews call), as PNG bytes.
//
//   std::vector<StillView> views = RingViews(8, {-15, -35, -60});   // 24 views
//   WP_ASSIGN_OR_RETURN(std::vector<Still> stills,
//                       rt->Call([&] { return RenderStills(model, data, views, {}); }));
//   // stills[i].name == "az045_el-35", stills[i].png is the image
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_STILLS_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_STILLS_H_

#include <mujoco/mujoco.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/heavy/core/render/frame_renderer.h"

namespace workerpair::heavy {

// One view to render and the name its image goes by.
struct StillView {
  std::string name;
  CameraSpec camera;
};

struct Still {
  std::string name;
  std::string png;
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

// Renders every view of the model in state `d` (call mj_forward first) and encodes PNGs.
// Must run with a current GL context (a RenderThread task). INVALID_ARGUMENT for no views or
// more than kMaxStillViews; NOT_FOUND for an unknown camera; errors of FrameRenderer::Create.
absl::StatusOr<std::vector<Still>> RenderStills(const mjModel* m, mjData* d,
                                                const std::vector<StillView>& views,
                                                const RenderSettings& settings);

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_STILLS_H_
