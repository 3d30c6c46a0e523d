#include "services/controller/light_pool.h"

#include <algorithm>
#include <map>

#include "libs/common/str_cat.h"

namespace workerpair::controller {

absl::StatusOr<std::unique_ptr<LightPool>> LightPool::Create(std::vector<LightTarget> targets,
                                                             const ChannelFactory& make_channel,
                                                             absl::Duration deadline) {
  if (targets.empty()) return absl::InvalidArgumentError("no worker-light pod configured");
  std::unique_ptr<LightPool> pool(new LightPool());
  for (const LightTarget& target : targets) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = make_channel(target.address);
    if (!channel.ok()) return channel.status();
    pool->clients_.push_back(std::make_unique<LightClient>(*std::move(channel), deadline));
  }
  pool->targets_ = std::move(targets);
  return pool;
}

std::size_t LightPool::IndexFor(std::string_view workspace) const {
  return PlaceWorkspace(workspace, targets_);
}

absl::StatusOr<std::vector<PooledWorkspace>> LightPool::ListWorkspaces() {
  std::map<std::string, PooledWorkspace> found;
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    absl::StatusOr<std::vector<std::string>> names = clients_[i]->ListWorkspaces();
    if (!names.ok()) {
      return absl::Status(names.status().code(),
                          StrCat("worker-light ", targets_[i].name, ": ", std::string(names.status().message())));
    }
    for (const std::string& name : *names) {
      PooledWorkspace& entry = found[name];
      entry.name = name;
      entry.found_on.push_back(i);
      entry.placed_on = IndexFor(name);
    }
  }
  std::vector<PooledWorkspace> out;
  for (auto& [name, entry] : found) out.push_back(std::move(entry));
  return out;
}

absl::Status LightPool::RefuseMisplaced(std::string_view workspace) {
  if (targets_.size() < 2) return absl::OkStatus();
  absl::StatusOr<std::vector<PooledWorkspace>> all = ListWorkspaces();
  if (!all.ok()) return all.status();
  for (const PooledWorkspace& found : *all) {
    if (found.name != workspace || !found.misplaced()) continue;
    std::string where;
    for (std::size_t i : found.found_on) {
      where += StrCat(where.empty() ? "" : ", ", targets_[i].name);
    }
    return absl::FailedPreconditionError(StrCat(
        "workspace '", workspace, "' exists on ", where, ", not (only) on ",
        targets_[found.placed_on].name, " where placement puts it; run `controller ws move ",
        workspace, "` first"));
  }
  return absl::OkStatus();
}

absl::Status LightPool::Explain(const absl::Status& status, std::string_view workspace) const {
  if (!absl::IsNotFound(status) || targets_.size() < 2 || workspace.empty()) return status;
  if (status.message().find(StrCat("workspace '", workspace, "' does not exist")) ==
      std::string_view::npos) {
    return status;
  }
  const LightTarget& placed = targets_[IndexFor(workspace)];
  return absl::NotFoundError(StrCat(
      "workspace '", workspace, "' is not on ", placed.name, ", the worker-light placement picks "
      "for it among ", targets_.size(), " pods; if the pool was resized, run `controller ws "
      "rebalance` (or `controller ws move ", workspace, "`); `controller ws list` shows where "
      "each workspace is"));
}

}  // namespace workerpair::controller
