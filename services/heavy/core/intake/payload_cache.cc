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
  const auto* held = payloads_.Find(key);
  if (held == nullptr || (*held)->bytes.size() != size) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  return *held;
}

bool PayloadCache::Contains(std::string_view sha256, std::uint64_t size) const {
  const std::string key = LowercaseDigest(sha256);
  std::lock_guard<std::mutex> lock(mu_);
  const auto* held = payloads_.Peek(key);
  return held != nullptr && (*held)->bytes.size() == size;
}

std::shared_ptr<const CachedPayload> PayloadCache::Insert(std::string_view sha256,
                                                          std::string_view bytes) {
  if (capacity_ == 0 || bytes.size() > capacity_ || bytes.empty()) return nullptr;
  std::string key = LowercaseDigest(sha256);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (const auto* held = payloads_.Find(key)) return *held;
  }
  // The copy is made outside the lock (it may be large).
  auto entry = std::make_shared<CachedPayload>();
  entry->sha256 = key;
  entry->bytes.assign(bytes.data(), bytes.size());
  std::lock_guard<std::mutex> lock(mu_);
  if (const auto* held = payloads_.Find(key)) return *held;  // another call put it in meanwhile
  const std::uint64_t size = entry->bytes.size();
  const auto* kept = payloads_.Insert(std::move(key), std::move(entry), size);
  return kept != nullptr ? *kept : nullptr;
}

PayloadCacheStats PayloadCache::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  PayloadCacheStats stats;
  stats.entries = payloads_.size();
  stats.bytes = payloads_.bytes();
  stats.capacity_bytes = capacity_;
  stats.hits = hits_;
  stats.misses = misses_;
  stats.insertions = payloads_.insertions();
  stats.evictions = payloads_.evictions();
  return stats;
}

}  // namespace workerpair::heavy::intake
