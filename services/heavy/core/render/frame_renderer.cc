#include "services/heavy/core/render/frame_renderer.h"

#include <EGL/egl.h>

#include <algorithm>
#include <exception>
#include <utility>

#include <opencv2/imgproc.hpp>

#include "libs/common/str_cat.h"

namespace workerpair::heavy::render {
namespace {

absl::Status RequireCurrentContext(const char* what) {
  if (eglGetCurrentContext() == EGL_NO_CONTEXT) {
    return absl::FailedPreconditionError(
        StrCat(what, ": no GL context is current on this thread (use a RenderThread)"));
  }
  return absl::OkStatus();
}

void ApplyFlags(const RenderSettings& settings, mjvScene* scene) {
  scene->flags[mjRND_SHADOW] = settings.shadows ? 1 : 0;
  scene->flags[mjRND_REFLECTION] = settings.reflections ? 1 : 0;
  scene->flags[mjRND_SKYBOX] = settings.skybox ? 1 : 0;
}

}  // namespace

absl::Status ValidateRenderSize(int width, int height) {
  if (width < 16 || height < 16 || width > 8192 || height > 8192) {
    return absl::InvalidArgumentError(
        StrCat("render size ", width, "x", height, " is outside 16..8192"));
  }
  return absl::OkStatus();
}

int SceneMaxGeom(const mjModel* m) { return std::min(20000, std::max(1000, 2 * m->ngeom + 500)); }

absl::StatusOr<mjvCamera> ResolveCamera(const mjModel* m, const CameraSpec& spec) {
  mjvCamera camera;
  mjv_defaultCamera(&camera);
  if (!spec.name.empty()) {
    const int id = mj_name2id(m, mjOBJ_CAMERA, spec.name.c_str());
    if (id < 0) {
      return absl::NotFoundError(StrCat("camera '", spec.name, "' is not in the model (it has ",
                                        m->ncam, " cameras)"));
    }
    camera.type = mjCAMERA_FIXED;
    camera.fixedcamid = id;
    return camera;
  }
  // The free camera looks at the scene's centre from a distance that frames its extent.
  camera.type = mjCAMERA_FREE;
  for (int i = 0; i < 3; ++i) camera.lookat[i] = m->stat.center[i];
  const double extent = m->stat.extent > 0 ? m->stat.extent : 1.0;
  camera.distance = spec.distance_factor * extent;
  camera.azimuth = spec.azimuth_deg.value_or(m->vis.global.azimuth);
  camera.elevation = spec.elevation_deg.value_or(m->vis.global.elevation);
  return camera;
}

absl::StatusOr<std::unique_ptr<FrameRenderer>> FrameRenderer::Create(
    const mjModel* m, const RenderSettings& settings) {
  if (m == nullptr) return absl::InvalidArgumentError("FrameRenderer: no model");
  return CreateOwning(mj_copyModel(nullptr, m), settings);
}

absl::StatusOr<std::unique_ptr<FrameRenderer>> FrameRenderer::CreateOwning(
    mjModel* owned_copy, const RenderSettings& settings) {
  std::unique_ptr<FrameRenderer> r(new FrameRenderer());
  r->model_ = owned_copy;
  r->settings_ = settings;
  if (owned_copy == nullptr) return absl::InternalError("FrameRenderer: model copy failed");
  if (absl::Status s = ValidateRenderSize(settings.width, settings.height); !s.ok()) return s;
  if (absl::Status s = RequireCurrentContext("FrameRenderer"); !s.ok()) return s;

  // Size the offscreen buffer for the frames; mjr_makeContext reads these.
  mjModel* m = r->model_;
  m->vis.global.offwidth = std::max(m->vis.global.offwidth, settings.width);
  m->vis.global.offheight = std::max(m->vis.global.offheight, settings.height);
  m->vis.quality.offsamples = std::max(0, settings.offsamples);

  mjv_defaultOption(&r->option_);
  mjv_defaultPerturb(&r->perturb_);
  mjv_defaultScene(&r->scene_);
  mjr_defaultContext(&r->context_);
  try {
    mjv_makeScene(m, &r->scene_, SceneMaxGeom(m));
    r->scene_made_ = true;
    ApplyFlags(settings, &r->scene_);
    mjr_makeContext(m, &r->context_, mjFONTSCALE_50);
    r->context_made_ = true;
  } catch (const std::exception& e) {
    return absl::InternalError(StrCat("MuJoCo could not make its render context: ", e.what()));
  } catch (...) {
    return absl::InternalError("MuJoCo could not make its render context");
  }
  mjr_setBuffer(mjFB_OFFSCREEN, &r->context_);
  if (r->context_.currentBuffer != mjFB_OFFSCREEN) {
    return absl::InternalError("MuJoCo's offscreen framebuffer is not available");
  }
  if (r->context_.offWidth < settings.width || r->context_.offHeight < settings.height) {
    return absl::InternalError(StrCat("offscreen buffer is ", r->context_.offWidth, "x",
                                      r->context_.offHeight, ", smaller than ", settings.width,
                                      "x", settings.height));
  }
  r->rgb_.resize(static_cast<size_t>(3) * settings.width * settings.height);
  return r;
}

FrameRenderer::~FrameRenderer() {
  if (context_made_) mjr_freeContext(&context_);
  if (scene_made_) mjv_freeScene(&scene_);
  if (model_ != nullptr) mj_deleteModel(model_);
}

void FrameRenderer::MakeScene(mjvScene* scene) const {
  mjv_defaultScene(scene);
  mjv_makeScene(model_, scene, SceneMaxGeom(model_));
  ApplyFlags(settings_, scene);
}

absl::StatusOr<cv::Mat> FrameRenderer::Render(mjData* d, const mjvCamera& camera) {
  mjvCamera cam = camera;
  mjv_updateScene(model_, d, &option_, &perturb_, &cam, mjCAT_ALL, &scene_);
  return RenderScene(&scene_);
}

absl::StatusOr<cv::Mat> FrameRenderer::RenderScene(mjvScene* scene, std::vector<float>* depth) {
  cv::Mat bgr;
  if (absl::Status s = RenderSceneInto(scene, bgr, depth); !s.ok()) return s;
  return bgr;
}

absl::Status FrameRenderer::RenderSceneInto(mjvScene* scene, cv::Mat& bgr,
                                            std::vector<float>* depth) {
  if (absl::Status s = RequireCurrentContext("FrameRenderer::RenderScene"); !s.ok()) return s;
  const mjrRect viewport = {0, 0, settings_.width, settings_.height};
  // Another renderer on this thread may have bound its own framebuffer.
  mjr_setBuffer(mjFB_OFFSCREEN, &context_);
  mjr_render(viewport, scene, &context_);
  if (depth != nullptr) depth->resize(static_cast<size_t>(settings_.width) * settings_.height);
  mjr_readPixels(rgb_.data(), depth != nullptr ? depth->data() : nullptr, viewport, &context_);

  // GL rows come bottom-up in RGB; OpenCV wants top-down BGR.
  cv::Mat rgb(settings_.height, settings_.width, CV_8UC3, rgb_.data());
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  cv::flip(bgr, bgr, 0);
  return absl::OkStatus();
}

}  // namespace workerpair::heavy::render
