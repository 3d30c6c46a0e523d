#include "services/controller/core/placement.h"

#include <set>

#include "libs/common/sha256.h"
#include "libs/common/str_cat.h"

namespace workerpair::controller {

std::uint64_t PlacementWeight(std::string_view pod, std::string_view workspace) {
  const std::string hex = Sha256Hex(StrCat(pod, "\n", workspace));
  return std::stoull(hex.substr(0, 16), nullptr, 16);
}

std::size_t PlaceWorkspace(std::string_view workspace, const std::vector<LightTarget>& pods) {
  std::size_t best = 0;
  std::uint64_t best_weight = 0;
  for (std::size_t i = 0; i < pods.size(); ++i) {
    const std::uint64_t weight = PlacementWeight(pods[i].name, workspace);
    if (i == 0 || weight > best_weight ||
        (weight == best_weight && pods[i].name < pods[best].name)) {
      best = i;
      best_weight = weight;
    }
  }
  return best;
}

absl::StatusOr<std::vector<LightTarget>> ParseLightTargets(std::string_view value) {
  std::vector<LightTarget> targets;
  std::set<std::string> seen;
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    std::string address(value.substr(start, comma - start));
    while (!address.empty() && address.front() == ' ') address.erase(address.begin());
    while (!address.empty() && address.back() == ' ') address.pop_back();
    if (address.empty()) {
      return absl::InvalidArgumentError(
          StrCat("--light '", value, "' has an empty address; give host:port[,host:port...]"));
    }
    if (!seen.insert(address).second) {
      return absl::InvalidArgumentError(StrCat("--light names '", address, "' twice"));
    }
    targets.push_back({address, address});
    start = comma + 1;
  }
  return targets;
}

absl::StatusOr<std::vector<LightTarget>> StatefulSetTargets(std::string_view statefulset,
                                                            int replicas,
                                                            std::string_view service) {
  if (statefulset.empty()) return absl::InvalidArgumentError("--light_statefulset is empty");
  if (replicas < 1 || replicas > 1000) {
    return absl::InvalidArgumentError(
        StrCat("--light_replicas must be in [1, 1000], not ", replicas));
  }
  const std::size_t colon = service.rfind(':');
  if (service.empty() || colon == std::string_view::npos || colon == 0 ||
      colon + 1 == service.size()) {
    return absl::InvalidArgumentError(StrCat(
        "--light_service must be the headless service as host:port "
        "(e.g. worker-light.ns.svc:50051), not '", service, "'"));
  }
  std::vector<LightTarget> targets;
  for (int i = 0; i < replicas; ++i) {
    std::string name = StrCat(statefulset, "-", i);
    std::string address = StrCat(name, ".", service);
    targets.push_back({std::move(name), std::move(address)});
  }
  return targets;
}

}  // namespace workerpair::controller
