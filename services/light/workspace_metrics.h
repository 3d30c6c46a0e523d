// worker-light's storage series: how many workspaces the replica holds and how much disk they
// use, for capacity alerts and placement decisions.
//
//   RegisterWorkspaceMetrics(store.get(), &MetricsRegistry::Default());
//
// workerpair_light_workspaces            workspaces under --root
// workerpair_light_disk_used_bytes       disk blocks used by everything under --root (workspaces,
//                                        their git data, the staging area); recounted at most
//                                        once per `recount_interval`, since it walks the tree
// workerpair_light_volume_size_bytes     size of the filesystem holding --root
// workerpair_light_volume_available_bytes  bytes a non-root writer may still use there
#ifndef WORKERPAIR_SERVICES_LIGHT_WORKSPACE_METRICS_H_
#define WORKERPAIR_SERVICES_LIGHT_WORKSPACE_METRICS_H_

#include <cstdint>
#include <filesystem>

#include "absl/time/time.h"
#include "libs/common/metrics.h"
#include "services/light/core/files/workspace_store.h"

namespace workerpair::light {

// Disk blocks (st_blocks * 512) of every entry under `root`, symbolic links not followed and
// other filesystems not entered. Files that vanish during the walk are skipped; a directory
// removed while it is being read ends the walk early (the count is then low until the next
// recount). Hard-linked files count once per link.
std::uint64_t DiskUsedBytes(const std::filesystem::path& root);

// `store` must outlive the metrics endpoint.
void RegisterWorkspaceMetrics(const WorkspaceStore* store, MetricsRegistry* registry,
                              absl::Duration recount_interval = absl::Seconds(60));

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_WORKSPACE_METRICS_H_
