#include "services/heavy/core/render/frame_renderer_cache.h"

#include <utility>

#include "services/heavy/core/render/frame_renderer.h"

namespace workerpair::heavy::render {
namespace {

bool SameSettings(const RenderSettings& a, const RenderSettings& b) {
  return a.width == b.width && a.height == b.height && a.offsamples == b.offsamples &&
         a.shadows == b.shadows && a.reflections == b.reflections && a.skybox == b.skybox;
}

// A second guard behind the key: what the render context was built from has the same shape.
bool SameStructure(const mjModel* a, const mjModel* b) {
  return a->nbody == b->nbody && a->ngeom == b->ngeom && a->nmesh == b->nmesh &&
         a->nmeshvert == b->nmeshvert && a->ntex == b->ntex && a->ntexdata == b->ntexdata &&
         a->nmat == b->nmat && a->nhfield == b->nhfield && a->nskin == b->nskin &&
         a->nsite == b->nsite && a->ncam == b->ncam && a->nlight == b->nlight;
}

}  // namespace

FrameRendererCache::FrameRendererCache(RenderThread& render_thread, int max_entries)
    : render_thread_(render_thread), max_entries_(max_entries < 0 ? 0 : max_entries) {}

FrameRendererCache::~FrameRendererCache() {
  // GL objects are freed on the thread whose context made them.
  render_thread_.Call([this] { entries_.clear(); });
}

absl::StatusOr<std::unique_ptr<FrameRenderer>> FrameRendererCache::Take(
    const std::string& key, const mjModel* m, const RenderSettings& settings, bool* reused) {
  if (reused != nullptr) *reused = false;
  if (!key.empty() && m != nullptr) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->key != key || !SameSettings(it->renderer->settings(), settings) ||
          !SameStructure(it->renderer->model(), m)) {
        continue;
      }
      std::unique_ptr<FrameRenderer> renderer = std::move(it->renderer);
      entries_.erase(it);
      ++hits_;
      if (reused != nullptr) *reused = true;
      return renderer;
    }
  }
  ++misses_;
  return FrameRenderer::Create(m, settings);
}

int FrameRendererCache::size() const { return static_cast<int>(entries_.size()); }

void FrameRendererCache::Give(const std::string& key, std::unique_ptr<FrameRenderer> renderer) {
  if (renderer == nullptr || key.empty() || max_entries_ == 0) return;
  entries_.push_front({key, std::move(renderer)});
  while (static_cast<int>(entries_.size()) > max_entries_) entries_.pop_back();
}

}  // namespace workerpair::heavy::render
