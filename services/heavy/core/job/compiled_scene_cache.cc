#include "services/heavy/core/job/compiled_scene_cache.h"

#include <utility>

namespace workerpair::heavy::job {

std::uint64_t CompiledSceneCache::ModelBytes(const mjModel* model) {
  return sizeof(mjModel) + static_cast<std::uint64_t>(model->nbuffer);
}

const CompiledScene* CompiledSceneCache::Find(std::string_view sha256) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->scene.sha256 != sha256) continue;
    entries_.splice(entries_.begin(), entries_, it);
    return &entries_.front().scene;
  }
  return nullptr;
}

bool CompiledSceneCache::Contains(std::string_view sha256) const {
  for (const Entry& entry : entries_) {
    if (entry.scene.sha256 == sha256) return true;
  }
  return false;
}

void CompiledSceneCache::Insert(CompiledScene scene) {
  if (scene.sha256.empty() || !scene.model) return;
  if (observer_) observer_(scene);
  if (!enabled()) return;
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->scene.sha256 == scene.sha256) {
      bytes_ -= it->bytes;
      entries_.erase(it);
      break;
    }
  }
  const std::uint64_t bytes =
      ModelBytes(scene.model.get()) + scene.generated_mjcf.size() + scene.manifest_json.size();
  if (bytes > max_bytes_) return;
  while (!entries_.empty() && (static_cast<int>(entries_.size()) >= max_entries_ ||
                               bytes_ + bytes > max_bytes_)) {
    bytes_ -= entries_.back().bytes;
    entries_.pop_back();
  }
  entries_.push_front(Entry{std::move(scene), bytes});
  bytes_ += bytes;
}

std::vector<std::string> CompiledSceneCache::Digests() const {
  std::vector<std::string> digests;
  for (const Entry& entry : entries_) digests.push_back(entry.scene.sha256);
  return digests;
}

}  // namespace workerpair::heavy::job
