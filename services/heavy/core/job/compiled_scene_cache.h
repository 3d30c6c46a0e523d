// CompiledSceneCache: the scenes one runner process compiled, kept by payload SHA-256 so that
// the next job on the same payload (simulate after build, render views after simulate, a
// verify's next share) skips unpacking and compiling. A job never runs on a kept model itself:
// it gets a copy (mj_copyModel) plus a copy of the payload's own manifest, and applies its
// call's overrides to those, so nothing one job does reaches the next. The key is the digest
// the parent checked the archive against; an entry is only made from a scene that compiled.
// Bounded by entries and by bytes (mjModel buffers); least recently used first out. One job at
// a time uses it (a runner runs one job at a time): not thread-safe. An insert observer lets
// the runner hand a freshly compiled scene to its siblings (runner/shared_scene.h) the moment
// the pipeline keeps it, without the pipeline knowing about sharing.
//
//   CompiledSceneCache scenes(/*max_entries=*/4, /*max_bytes=*/256 << 20);
//   if (const CompiledScene* held = scenes.Find(sha256)) { ... held->model ... }
//   scenes.Insert(std::move(compiled));
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_JOB_COMPILED_SCENE_CACHE_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_JOB_COMPILED_SCENE_CACHE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "libs/common/lru_by_bytes.h"
#include "services/heavy/core/scene/manifest.h"
#include "services/heavy/core/scene/scene_loader.h"

namespace workerpair::heavy::job {

// One kept scene, as compiled for the payload's own manifest (no call's overrides).
struct CompiledScene {
  std::string sha256;  // lowercase hex
  scene::MjModelPtr model;
  scene::Manifest manifest;
  std::vector<std::string> warnings;  // the compiler's
  std::string generated_mjcf;         // an assembly's generated MJCF; empty otherwise
  // The payload's manifest.json text, when its keeper has it (set by the insert observer):
  // what a sibling runner parses to get `manifest` back (runner/shared_scene.h).
  std::string manifest_json;
};

class CompiledSceneCache {
 public:
  CompiledSceneCache(int max_entries, std::uint64_t max_bytes)
      : scenes_(max_bytes, static_cast<std::size_t>(std::max(0, max_entries))) {}
  CompiledSceneCache(const CompiledSceneCache&) = delete;
  CompiledSceneCache& operator=(const CompiledSceneCache&) = delete;

  bool enabled() const { return scenes_.enabled(); }
  // The scene kept for exactly `sha256` (lowercase), made the most recently used; null if none.
  const CompiledScene* Find(std::string_view sha256);
  bool Contains(std::string_view sha256) const;
  // Keeps `scene` (replacing one with the same digest), evicting the least recently used
  // beyond the bounds; a scene larger than max_bytes is not kept.
  void Insert(CompiledScene scene);
  // The digests held, most recently used first.
  std::vector<std::string> Digests() const;

  // Told of every scene Insert is given, before it is kept (kept or not: it may be over the
  // bounds); it may fill in what the pipeline does not know (manifest_json). Empty: none.
  using InsertObserver = std::function<void(CompiledScene& scene)>;
  void set_insert_observer(InsertObserver observer) { observer_ = std::move(observer); }

  // What a model takes: its buffer and the struct.
  static std::uint64_t ModelBytes(const mjModel* model);

 private:
  LruByBytes<CompiledScene> scenes_;  // by sha256
  InsertObserver observer_;
};

}  // namespace workerpair::heavy::job

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_JOB_COMPILED_SCENE_CACHE_H_
