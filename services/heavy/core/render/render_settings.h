// What a render looks like, without OpenCV or GL in the include: the frame size and quality
// knobs (RenderSettings) and where to look from (CameraSpec). The job pipeline and the runner
// describe renders with these; frame_renderer.h turns them into frames.
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_RENDER_SETTINGS_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_RENDER_SETTINGS_H_

#include <optional>
#include <string>

namespace workerpair::heavy::render {

// Frame size and the quality knobs that matter on llvmpipe (PLATFORM.md: a 50-body pile at
// 640x480 renders 16-18 fps with MuJoCo's defaults, 27 with offsamples 0, ~69 with shadows,
// reflections and skybox off as well). The defaults favour speed.
struct RenderSettings {
  int width = 640;
  int height = 480;
  int offsamples = 0;  // multisampling of the offscreen buffer
  bool shadows = false;
  bool reflections = false;
  bool skybox = false;
};

// Where to look from. An empty `name` is the free camera: it looks at the model's centre
// (stat.center) from `distance_factor` x stat.extent away, at the azimuth and elevation given,
// or the model's visual/global defaults when unset.
struct CameraSpec {
  std::string name;  // named MJCF camera
  std::optional<double> azimuth_deg;
  std::optional<double> elevation_deg;
  double distance_factor = 1.5;
};

}  // namespace workerpair::heavy::render

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_RENDER_SETTINGS_H_
