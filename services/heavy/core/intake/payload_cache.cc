#include "services/heavy/core/intake/payload_cache.h"

#include <utility>

namespace workerpair::heavy::intake {

std::string LowercaseDigest(std::string_view sha256) {
  std::string lower(sha256);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

std::shared_ptr<const CachedPayload> PayloadCache::Find(std::string_view sha256,
                                                        std::uint64_t size) {
  const std::string key = LowercaseDigest(sha256);
  std::lock_guard<std::mutex> lock(mu_);
  auto found = by_digest_.find(key);
  if (found == by_digest_.end() || (*found->second)->bytes.size() != size) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, found->second);
  return *found->second;
}

bool PayloadCache::Contains(std::string_view sha256, std::uint64_t size) const {
  const std::string key = LowercaseDigest(sha256);
  std::lock_guard<std::mutex> lock(mu_);
  auto found = by_digest_.find(key);
  return found != by_digest_.end() && (*found->second)->bytes.size() == size;
}

std::shared_ptr<const CachedPayload> PayloadCache::Insert(std::string_view sha256,
                                                          std::string_view bytes) {
  if (capacity_ == 0 || bytes.size() > capacity_ || bytes.empty()) return nullptr;
  std::string key = LowercaseDigest(sha256);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto found = by_digest_.find(key);
    if (found != by_digest_.end()) {
      lru_.splice(lru_.begin(), lru_, found->second);
      return *found->second;
    }
  }
  // The copy is made outside the lock (it may be large).
  auto entry = std::make_shared<CachedPayload>();
  entry->sha256 = key;
  entry->bytes.assign(bytes.data(), bytes.size());
  std::lock_guard<std::mutex> lock(mu_);
  auto found = by_digest_.find(key);
  if (found != by_digest_.end()) return *found->second;  // another call put it in meanwhile
  while (!lru_.empty() && bytes_ + entry->bytes.size() > capacity_) {
    const std::shared_ptr<const CachedPayload>& oldest = lru_.back();
    bytes_ -= oldest->bytes.size();
    by_digest_.erase(oldest->sha256);
    lru_.pop_back();
    ++evictions_;
  }
  lru_.push_front(entry);
  by_digest_.emplace(std::move(key), lru_.begin());
  bytes_ += entry->bytes.size();
  ++insertions_;
  return entry;
}

PayloadCacheStats PayloadCache::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  PayloadCacheStats stats;
  stats.entries = lru_.size();
  stats.bytes = bytes_;
  stats.capacity_bytes = capacity_;
  stats.hits = hits_;
  stats.misses = misses_;
  stats.insertions = insertions_;
  stats.evictions = evictions_;
  return stats;
}

}  // namespace workerpair::heavy::intake
