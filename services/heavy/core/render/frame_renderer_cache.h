// FrameRendererCache: FrameRenderers kept across jobs on one render thread, by model key.
//
// A FrameRenderer is a copy of the model plus MuJoCo's render context for it (meshes, textures,
// fonts, the offscreen buffer): mjr_makeContext costs 100-300 ms on llvmpipe, more than the
// rest of a short rendered job's setup. The GL context itself already lives as long as the
// RenderThread; this keeps the per-model part too, so that the next job on the same compiled
// scene (simulate after simulate, render views after a rendered simulate) renders at once.
//
// The key is the compiled scene's digest (the payload's SHA-256): one key, one model, so a
// renderer is only ever handed to a job on exactly the model it was made for, never to another
// caller's scene. A renderer also matches on its RenderSettings (size, multisampling, flags).
// A renderer in use is out of the cache (Take removes it, Give puts it back), so two
// recordings never share one. Bounded by entries, least recently used first out.
//
// Take and Give run on the render thread (they make and free GL objects); the destructor frees
// what is kept on the render thread, so destroy the cache before its RenderThread. No OpenCV in
// this header (the job pipeline's and the runner's includes stay free of it).
//
//   FrameRendererCache renderers(*render_thread, /*max_entries=*/2);
//   render_thread->Call([&] {
//     bool reused = false;
//     WP_ASSIGN_OR_RETURN(auto renderer, renderers.Take(sha256, model, settings, &reused));
//     ... render ...
//     renderers.Give(sha256, std::move(renderer));
//   });
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_FRAME_RENDERER_CACHE_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_FRAME_RENDERER_CACHE_H_

#include <mujoco/mujoco.h>

#include <cstdint>
#include <list>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/heavy/core/render/render_settings.h"
#include "services/heavy/core/render/render_thread.h"

namespace workerpair::heavy::render {

class FrameRenderer;

class FrameRendererCache {
 public:
  // Keeps at most `max_entries` renderers (0: keeps none; Take always makes one).
  FrameRendererCache(RenderThread& render_thread, int max_entries);
  ~FrameRendererCache();
  FrameRendererCache(const FrameRendererCache&) = delete;
  FrameRendererCache& operator=(const FrameRendererCache&) = delete;

  // On the render thread: the kept renderer for `key` and `settings` (taken out of the cache;
  // *reused = true), or a new one for `m` (FrameRenderer::Create). An empty key never matches.
  absl::StatusOr<std::unique_ptr<FrameRenderer>> Take(const std::string& key, const mjModel* m,
                                                      const RenderSettings& settings,
                                                      bool* reused);
  // On the render thread: keeps `renderer` under `key` as the most recently used, freeing the
  // least recently used beyond max_entries. With an empty key the renderer is freed.
  void Give(const std::string& key, std::unique_ptr<FrameRenderer> renderer);

  // Renderers kept now; Takes that found one and Takes that made one.
  int size() const;
  std::int64_t hits() const { return hits_; }
  std::int64_t misses() const { return misses_; }

 private:
  struct Entry {
    std::string key;
    std::unique_ptr<FrameRenderer> renderer;
  };
  RenderThread& render_thread_;
  const int max_entries_;
  std::list<Entry> entries_;  // most recently used first
  std::int64_t hits_ = 0;
  std::int64_t misses_ = 0;
};

}  // namespace workerpair::heavy::render

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_FRAME_RENDERER_CACHE_H_
