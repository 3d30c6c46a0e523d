// LruByBytes: values kept by key (a payload digest), bounded by bytes and by count, the least
// recently used dropped first. The one eviction rule behind worker-heavy's payload cache, its
// shared compiled scenes and a runner's compiled scenes. Not thread-safe: a caller that shares
// one across threads holds its own lock.
//
//   LruByBytes<std::string> lru(/*max_bytes=*/64 << 20);
//   lru.Insert(sha256, std::move(bytes), bytes_size);   // may evict older entries
//   if (std::string* held = lru.Find(sha256)) { ... }    // now the most recently used
#ifndef WORKERPAIR_LIBS_COMMON_LRU_BY_BYTES_H_
#define WORKERPAIR_LIBS_COMMON_LRU_BY_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace workerpair {

template <typename Value>
class LruByBytes {
 public:
  explicit LruByBytes(std::uint64_t max_bytes,
                      std::size_t max_entries = std::numeric_limits<std::size_t>::max())
      : max_bytes_(max_bytes), max_entries_(max_entries) {}

  // Off when either bound is 0: nothing is ever kept.
  bool enabled() const { return max_bytes_ > 0 && max_entries_ > 0; }
  std::uint64_t max_bytes() const { return max_bytes_; }

  // The value kept for exactly `key`, made the most recently used; null if none.
  Value* Find(std::string_view key) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->key != key) continue;
      entries_.splice(entries_.begin(), entries_, it);
      return &entries_.front().value;
    }
    return nullptr;
  }
  // The same without changing the order.
  const Value* Peek(std::string_view key) const {
    for (const Entry& entry : entries_) {
      if (entry.key == key) return &entry.value;
    }
    return nullptr;
  }
  bool Contains(std::string_view key) const { return Peek(key) != nullptr; }

  // Keeps `value` (which takes `bytes`) under `key`, replacing what was kept for it, then drops
  // the least recently used entries beyond the bounds. A value larger than max_bytes is not
  // kept (and what `key` held before is gone). Returns the kept value or null.
  Value* Insert(std::string key, Value value, std::uint64_t bytes) {
    Erase(key);
    if (!enabled() || bytes > max_bytes_) return nullptr;
    while (!entries_.empty() &&
           (entries_.size() >= max_entries_ || bytes_ + bytes > max_bytes_)) {
      bytes_ -= entries_.back().bytes;
      entries_.pop_back();
      ++evictions_;
    }
    entries_.push_front(Entry{std::move(key), std::move(value), bytes});
    bytes_ += bytes;
    ++insertions_;
    return &entries_.front().value;
  }

  // Drops what `key` holds; false when it held nothing.
  bool Erase(std::string_view key) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->key != key) continue;
      bytes_ -= it->bytes;
      entries_.erase(it);
      return true;
    }
    return false;
  }

  // Keys, most recently used first.
  std::vector<std::string> Keys() const {
    std::vector<std::string> keys;
    for (const Entry& entry : entries_) keys.push_back(entry.key);
    return keys;
  }
  std::size_t size() const { return entries_.size(); }
  std::uint64_t bytes() const { return bytes_; }
  std::uint64_t insertions() const { return insertions_; }
  std::uint64_t evictions() const { return evictions_; }

 private:
  struct Entry {
    std::string key;
    Value value;
    std::uint64_t bytes = 0;
  };
  const std::uint64_t max_bytes_;
  const std::size_t max_entries_;
  std::list<Entry> entries_;  // most recently used first
  std::uint64_t bytes_ = 0;
  std::uint64_t insertions_ = 0;
  std::uint64_t evictions_ = 0;
};

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_COMMON_LRU_BY_BYTES_H_
