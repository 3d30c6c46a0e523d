// FrameRenderer: renders frames of one MuJoCo model offscreen into BGR cv::Mats.
//
// It must be created, used and destroyed on a thread where a GL context is current (a
// RenderThread task). It keeps its own copy of the model with the offscreen buffer sized for
// the frames, so the caller's model is never modified and the simulation may keep using it.
//
//   rt->Call([&]() -> absl::StatusOr<cv::Mat> {
//     WP_ASSIGN_OR_RETURN(auto renderer, FrameRenderer::Create(model, {.width = 640,
//                                                                      .height = 480}));
//     WP_ASSIGN_OR_RETURN(mjvCamera camera, ResolveCamera(model, {.name = "main"}));
//     return renderer->Render(data, camera);
//   });
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_FRAME_RENDERER_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_FRAME_RENDERER_H_

#include <mujoco/mujoco.h>

#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/heavy/core/render/render_settings.h"

namespace workerpair::heavy::render {

// The mjvCamera for `spec` on model `m`. NOT_FOUND when the named camera is not in the model.
absl::StatusOr<mjvCamera> ResolveCamera(const mjModel* m, const CameraSpec& spec);

// INVALID_ARGUMENT unless 16 <= width, height <= 8192.
absl::Status ValidateRenderSize(int width, int height);

// Owns a copy of an mjModel, an mjvScene and an mjrContext for it.
class FrameRenderer {
 public:
  // Builds the renderer for `m` (copied). FAILED_PRECONDITION when no GL context is current on
  // this thread; INVALID_ARGUMENT for a bad size; INTERNAL when MuJoCo cannot make its context
  // (only when a throwing mju_user_error handler is installed; else MuJoCo exits the process).
  static absl::StatusOr<std::unique_ptr<FrameRenderer>> Create(const mjModel* m,
                                                               const RenderSettings& settings);
  // Same, reusing an already copied model (the renderer takes ownership).
  static absl::StatusOr<std::unique_ptr<FrameRenderer>> CreateOwning(
      mjModel* owned_copy, const RenderSettings& settings);

  FrameRenderer(const FrameRenderer&) = delete;
  FrameRenderer& operator=(const FrameRenderer&) = delete;
  ~FrameRenderer();

  // Updates the scene from `d` (which belongs to this model or one with the same structure)
  // and renders it from `camera`. FAILED_PRECONDITION when the GL context is not current.
  absl::StatusOr<cv::Mat> Render(mjData* d, const mjvCamera& camera);

  // Renders a scene that was filled elsewhere (mjv_updateScene on the simulation thread) for a
  // model with the same structure. The scene's own rendering flags are used as they are. With
  // `depth`, also reads the depth buffer into it (width x height window depths in 0..1, GL's
  // bottom-up row order).
  absl::StatusOr<cv::Mat> RenderScene(mjvScene* scene, std::vector<float>* depth = nullptr);
  // The same into `bgr`, which keeps its buffer when it already has the frame's size and type
  // (a video's frames need no allocation each).
  absl::Status RenderSceneInto(mjvScene* scene, cv::Mat& bgr, std::vector<float>* depth = nullptr);

  // A fresh mjvScene for this model with this renderer's flags; free with mjv_freeScene.
  void MakeScene(mjvScene* scene) const;

  // The copied model: edit its visual data (geom_rgba, ...) before rendering.
  mjModel* model() { return model_; }
  const RenderSettings& settings() const { return settings_; }
  int width() const { return settings_.width; }
  int height() const { return settings_.height; }
  // The scene options (visual categories, frames...) used by Render.
  mjvOption& option() { return option_; }

 private:
  FrameRenderer() = default;

  mjModel* model_ = nullptr;
  RenderSettings settings_;
  mjvScene scene_;
  mjrContext context_;
  mjvOption option_;
  mjvPerturb perturb_;
  bool scene_made_ = false;
  bool context_made_ = false;
  std::vector<unsigned char> rgb_;
};

// The maximum number of geoms a scene is made for, for model `m`.
int SceneMaxGeom(const mjModel* m);

}  // namespace workerpair::heavy::render

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_FRAME_RENDERER_H_
