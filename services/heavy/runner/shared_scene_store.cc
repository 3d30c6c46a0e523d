#include "services/heavy/runner/shared_scene_store.h"

#include <utility>

namespace workerpair::heavy {

void SharedSceneStore::Insert(const std::string& sha256, std::string pack) {
  if (!enabled() || sha256.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->sha256 != sha256) continue;
    stats_.bytes -= it->pack->size();
    entries_.erase(it);
    break;
  }
  if (pack.size() > max_bytes_) {
    stats_.entries = static_cast<std::uint32_t>(entries_.size());
    return;
  }
  while (!entries_.empty() && stats_.bytes + pack.size() > max_bytes_) {
    stats_.bytes -= entries_.back().pack->size();
    entries_.pop_back();
    ++stats_.evictions;
  }
  stats_.bytes += pack.size();
  entries_.push_front(Entry{sha256, std::make_shared<const std::string>(std::move(pack))});
  ++stats_.insertions;
  stats_.entries = static_cast<std::uint32_t>(entries_.size());
}

std::shared_ptr<const std::string> SharedSceneStore::Find(const std::string& sha256) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->sha256 != sha256) continue;
    entries_.splice(entries_.begin(), entries_, it);
    return entries_.front().pack;
  }
  return nullptr;
}

bool SharedSceneStore::Contains(const std::string& sha256) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Entry& entry : entries_) {
    if (entry.sha256 == sha256) return true;
  }
  return false;
}

void SharedSceneStore::Erase(const std::string& sha256) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->sha256 != sha256) continue;
    stats_.bytes -= it->pack->size();
    entries_.erase(it);
    stats_.entries = static_cast<std::uint32_t>(entries_.size());
    return;
  }
}

void SharedSceneStore::NoteDeclined() {
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.declined;
}

SharedSceneStats SharedSceneStore::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  SharedSceneStats stats = stats_;
  stats.capacity_bytes = max_bytes_;
  return stats;
}

}  // namespace workerpair::heavy
