// PathLocks: per-file mutual exclusion for read-modify-write calls.
//
// Writes are atomic on their own (rename), but an edit or a write with an expected hash reads,
// decides, then writes; two of those on one file must not interleave or one would silently undo
// the other. A fixed array of mutexes, picked by the path's hash, keeps memory bounded.
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_FILES_PATH_LOCKS_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_FILES_PATH_LOCKS_H_

#include <array>
#include <filesystem>
#include <functional>
#include <mutex>

namespace workerpair::light {

class PathLocks {
 public:
  // Returns the mutex guarding `path` (shared with the few paths that hash alike).
  std::mutex& For(const std::filesystem::path& path) {
    return stripes_[std::hash<std::string>{}(path.native()) % stripes_.size()];
  }

 private:
  std::array<std::mutex, 256> stripes_;
};

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_FILES_PATH_LOCKS_H_
