// SharedSceneStore: the compiled scenes worker-heavy keeps for its runners, by payload
// SHA-256, so that a payload is compiled once per replica rather than once per runner: the
// first runner that compiles a payload sends its scene (runner.proto SharedScene, MuJoCo's
// binary model), the parent keeps the serialised bytes here, and a runner that does not hold
// the model gets them placed in its job directory and loads them instead of compiling
// (runner_call.h). The parent never parses or loads these bytes: they are the runners' to
// check, inside their sandbox. The key is always the digest the parent checked the payload
// against, never one a runner names, so a scene only ever serves the exact same payload.
// Bounded by bytes (least recently used first out); 0 bytes: off. Thread-safe.
//
//   SharedSceneStore store(/*max_bytes=*/128 << 20);
//   store.Insert(sha256, std::move(serialised));
//   if (std::shared_ptr<const std::string> pack = store.Find(sha256)) { ... }
#ifndef WORKERPAIR_SERVICES_HEAVY_RUNNER_SHARED_SCENE_STORE_H_
#define WORKERPAIR_SERVICES_HEAVY_RUNNER_SHARED_SCENE_STORE_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "libs/common/lru_by_bytes.h"
#include "services/heavy/runner/job_dir_files.h"

namespace workerpair::heavy {

struct SharedSceneStats {
  std::uint32_t entries = 0;
  std::uint64_t bytes = 0;
  std::uint64_t capacity_bytes = 0;
  std::uint64_t insertions = 0;
  std::uint64_t evictions = 0;
  // Scenes a runner declined to share (over the size bound, not savable).
  std::uint64_t declined = 0;
};

class SharedSceneStore {
 public:
  explicit SharedSceneStore(std::uint64_t max_bytes)
      : max_bytes_(max_bytes), packs_(max_bytes) {}
  SharedSceneStore(const SharedSceneStore&) = delete;
  SharedSceneStore& operator=(const SharedSceneStore&) = delete;

  bool enabled() const { return max_bytes_ > 0; }
  std::uint64_t max_bytes() const { return max_bytes_; }
  // Keeps `pack` for `sha256` (replacing one), evicting the least recently used beyond the
  // bound; a pack larger than the bound is not kept.
  void Insert(const std::string& sha256, std::string pack);
  // The pack kept for exactly `sha256`, made the most recently used; null if none.
  std::shared_ptr<const std::string> Find(const std::string& sha256);
  bool Contains(const std::string& sha256) const;
  // Drops the pack of `sha256` (a job that ran on it failed: the next one compiles afresh).
  void Erase(const std::string& sha256);
  void NoteDeclined();
  SharedSceneStats Stats() const;

 private:
  const std::uint64_t max_bytes_;
  mutable std::mutex mu_;
  LruByBytes<std::shared_ptr<const std::string>> packs_;  // by sha256; guarded by mu_
  std::uint64_t declined_ = 0;                            // guarded by mu_
};

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_RUNNER_SHARED_SCENE_STORE_H_
