#include "services/light/workspace_metrics.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <memory>
#include <mutex>
#include <system_error>

namespace workerpair::light {
namespace {

// The last disk-use count and when it was taken; scrapes inside the interval reuse it.
class DiskUseCache {
 public:
  DiskUseCache(std::filesystem::path root, absl::Duration interval)
      : root_(std::move(root)), interval_(interval) {}

  double Read() {
    std::lock_guard lock(mu_);
    const absl::Time now = absl::Now();
    if (!counted_ || now - counted_at_ >= interval_) {
      bytes_ = DiskUsedBytes(root_);
      counted_at_ = now;
      counted_ = true;
    }
    return static_cast<double>(bytes_);
  }

 private:
  const std::filesystem::path root_;
  const absl::Duration interval_;
  std::mutex mu_;
  bool counted_ = false;
  absl::Time counted_at_;
  std::uint64_t bytes_ = 0;
};

struct VolumeStats {
  double size = 0;
  double available = 0;
};

VolumeStats ReadVolume(const std::filesystem::path& root) {
  struct statvfs stats {};
  if (::statvfs(root.c_str(), &stats) != 0) return {};
  const double block = static_cast<double>(stats.f_frsize);
  return {block * static_cast<double>(stats.f_blocks), block * static_cast<double>(stats.f_bavail)};
}

}  // namespace

std::uint64_t DiskUsedBytes(const std::filesystem::path& root) {
  struct stat root_stat {};
  if (::lstat(root.c_str(), &root_stat) != 0) return 0;
  std::uint64_t bytes = static_cast<std::uint64_t>(root_stat.st_blocks) * 512;
  std::error_code error;
  std::filesystem::recursive_directory_iterator it(
      root, std::filesystem::directory_options::skip_permission_denied, error);
  for (; !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    struct stat entry {};
    if (::lstat(it->path().c_str(), &entry) != 0) continue;  // vanished meanwhile
    if (S_ISDIR(entry.st_mode) && entry.st_dev != root_stat.st_dev) {
      it.disable_recursion_pending();  // a mount point: another filesystem's usage
      continue;
    }
    bytes += static_cast<std::uint64_t>(entry.st_blocks) * 512;
  }
  return bytes;
}

void RegisterWorkspaceMetrics(const WorkspaceStore* store, MetricsRegistry* registry,
                              absl::Duration recount_interval) {
  registry->AddGaugeCallback("workerpair_light_workspaces", "Workspaces this replica holds.",
                             [store] {
                               auto names = store->List();
                               return names.ok() ? static_cast<double>(names->size()) : 0.0;
                             });
  auto disk_use = std::make_shared<DiskUseCache>(store->root(), recount_interval);
  registry->AddGaugeCallback(
      "workerpair_light_disk_used_bytes",
      "Disk used under the workspace root (workspaces, git data, staging), recounted at most "
      "once a minute.",
      [disk_use] { return disk_use->Read(); });
  const std::filesystem::path root = store->root();
  registry->AddGaugeCallback("workerpair_light_volume_size_bytes",
                             "Size of the filesystem holding the workspace root.",
                             [root] { return ReadVolume(root).size; });
  registry->AddGaugeCallback("workerpair_light_volume_available_bytes",
                             "Bytes still available to worker-light on the workspace filesystem.",
                             [root] { return ReadVolume(root).available; });
}

}  // namespace workerpair::light
