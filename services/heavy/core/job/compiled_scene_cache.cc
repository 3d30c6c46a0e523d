#include "services/heavy/core/job/compiled_scene_cache.h"

#include <utility>

namespace workerpair::heavy::job {

std::uint64_t CompiledSceneCache::ModelBytes(const mjModel* model) {
  return sizeof(mjModel) + static_cast<std::uint64_t>(model->nbuffer);
}

const CompiledScene* CompiledSceneCache::Find(std::string_view sha256) {
  return scenes_.Find(sha256);
}

bool CompiledSceneCache::Contains(std::string_view sha256) const {
  return scenes_.Contains(sha256);
}

void CompiledSceneCache::Insert(CompiledScene scene) {
  if (scene.sha256.empty() || !scene.model) return;
  if (observer_) observer_(scene);
  if (!enabled()) return;
  const std::uint64_t bytes =
      ModelBytes(scene.model.get()) + scene.generated_mjcf.size() + scene.manifest_json.size();
  std::string key = scene.sha256;
  scenes_.Insert(std::move(key), std::move(scene), bytes);
}

std::vector<std::string> CompiledSceneCache::Digests() const { return scenes_.Keys(); }

}  // namespace workerpair::heavy::job
