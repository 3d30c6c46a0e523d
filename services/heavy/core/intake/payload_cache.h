// PayloadCache: the payloads a replica received recently, kept by SHA-256 so that a caller that
// sends the same payload again (PayloadInfo.ask_cached, heavy.proto) need not upload it. Only
// payloads whose bytes matched their declared digest go in (the assembler checked them), and
// a lookup hits only on exactly the same digest and size, so a caller never gets another
// caller's scene unless it named that scene's SHA-256 exactly. Bounded by bytes: the least
// recently used entries go first; a payload larger than the whole capacity is not kept.
// Entries are immutable and shared: a job that holds one keeps it alive even after it was
// evicted (its bytes then no longer count against the capacity). Thread-safe.
//
//   PayloadCache cache(256 << 20);
//   std::shared_ptr<const CachedPayload> held = cache.Find(sha256, size);   // null: a miss
//   held = cache.Insert(sha256, received.bytes());                          // after an upload
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_INTAKE_PAYLOAD_CACHE_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_INTAKE_PAYLOAD_CACHE_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "libs/common/lru_by_bytes.h"

namespace workerpair::heavy::intake {

// One kept payload: its digest (lowercase hex) and bytes.
struct CachedPayload {
  std::string sha256;
  std::string bytes;
};

struct PayloadCacheStats {
  std::uint64_t entries = 0;
  std::uint64_t bytes = 0;
  std::uint64_t capacity_bytes = 0;
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t insertions = 0;
  std::uint64_t evictions = 0;
};

class PayloadCache {
 public:
  // `capacity_bytes` 0 turns the cache off (every Find misses, Insert keeps nothing).
  explicit PayloadCache(std::uint64_t capacity_bytes)
      : capacity_(capacity_bytes), payloads_(capacity_bytes) {}
  PayloadCache(const PayloadCache&) = delete;
  PayloadCache& operator=(const PayloadCache&) = delete;

  // The payload with exactly this digest (any case) and size, made the most recently used;
  // null when none is held. Counts a hit or a miss.
  std::shared_ptr<const CachedPayload> Find(std::string_view sha256, std::uint64_t size);
  // Without counting (routing decisions, tests).
  bool Contains(std::string_view sha256, std::uint64_t size) const;

  // Keeps a copy of `bytes` under `sha256` (whose match the caller checked), evicting the least
  // recently used entries beyond the capacity. Returns the entry (the one already held when
  // the digest was there), or null when it is not kept (off, or larger than the capacity).
  std::shared_ptr<const CachedPayload> Insert(std::string_view sha256, std::string_view bytes);

  PayloadCacheStats Stats() const;
  bool enabled() const { return capacity_ > 0; }

 private:
  const std::uint64_t capacity_;
  mutable std::mutex mu_;
  // By lowercase digest; guarded by mu_.
  LruByBytes<std::shared_ptr<const CachedPayload>> payloads_;
  std::uint64_t hits_ = 0;    // guarded by mu_
  std::uint64_t misses_ = 0;  // guarded by mu_
};

// "AbC..." -> "abc...".
std::string LowercaseDigest(std::string_view sha256);

}  // namespace workerpair::heavy::intake

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_INTAKE_PAYLOAD_CACHE_H_
