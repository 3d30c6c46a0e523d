#include "services/heavy/runner/shared_scene_store.h"

#include <utility>

namespace workerpair::heavy {

void SharedSceneStore::Insert(const std::string& sha256, std::string pack) {
  if (!enabled() || sha256.empty()) return;
  const std::uint64_t bytes = pack.size();
  auto shared = std::make_shared<const std::string>(std::move(pack));
  std::lock_guard<std::mutex> lock(mu_);
  packs_.Insert(sha256, std::move(shared), bytes);
}

std::shared_ptr<const std::string> SharedSceneStore::Find(const std::string& sha256) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::shared_ptr<const std::string>* pack = packs_.Find(sha256);
  return pack != nullptr ? *pack : nullptr;
}

bool SharedSceneStore::Contains(const std::string& sha256) const {
  std::lock_guard<std::mutex> lock(mu_);
  return packs_.Contains(sha256);
}

void SharedSceneStore::Erase(const std::string& sha256) {
  std::lock_guard<std::mutex> lock(mu_);
  packs_.Erase(sha256);
}

void SharedSceneStore::NoteDeclined() {
  std::lock_guard<std::mutex> lock(mu_);
  ++declined_;
}

SharedSceneStats SharedSceneStore::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  SharedSceneStats stats;
  stats.entries = static_cast<std::uint32_t>(packs_.size());
  stats.bytes = packs_.bytes();
  stats.capacity_bytes = max_bytes_;
  stats.insertions = packs_.insertions();
  stats.evictions = packs_.evictions();
  stats.declined = declined_;
  return stats;
}

}  // namespace workerpair::heavy
