// Workspace placement: which worker-light pod holds a workspace, decided by rendezvous (highest
// random weight) hashing of the workspace's name over the pods' names. Every caller with the
// same set of pods computes the same answer, with no coordination and no shared state; adding or
// removing one pod moves only the workspaces that land on it (about 1/N of them).
//
//   WP_ASSIGN_OR_RETURN(std::vector<LightTarget> pods,
//                       ParseLightTargets("a:50051,b:50051,c:50051"));
//   const LightTarget& home = pods[PlaceWorkspace("agent-7", pods)];
//
//   // A StatefulSet behind a headless service:
//   WP_ASSIGN_OR_RETURN(pods, StatefulSetTargets("worker-light", 4, "worker-light.ns.svc:50051"));
//   // pods[2] = {name "worker-light-2", address "worker-light-2.worker-light.ns.svc:50051"}
//
// Plain C++; no gRPC.
#ifndef WORKERPAIR_SERVICES_CONTROLLER_CORE_PLACEMENT_H_
#define WORKERPAIR_SERVICES_CONTROLLER_CORE_PLACEMENT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace workerpair::controller {

// One worker-light pod: `name` is what placement hashes (stable across callers: the pod name
// for a StatefulSet, the address as written for a list), `address` what is dialled.
struct LightTarget {
  std::string name;
  std::string address;
};

// The weight of `workspace` on the pod named `pod`: the first 8 bytes of
// SHA-256(pod "\n" workspace), big-endian. Stable across machines, builds and versions.
std::uint64_t PlacementWeight(std::string_view pod, std::string_view workspace);

// Index into `pods` of the pod holding `workspace`: the highest weight, ties broken by the
// smaller name, so the order of `pods` does not matter. `pods` must not be empty.
std::size_t PlaceWorkspace(std::string_view workspace, const std::vector<LightTarget>& pods);

// Comma-separated addresses ("a:1,b:2"), each its own name. INVALID_ARGUMENT when empty, when
// an address is empty or when one is named twice.
absl::StatusOr<std::vector<LightTarget>> ParseLightTargets(std::string_view value);

// `replicas` pods of StatefulSet `statefulset` behind headless service `service`
// ("svc.ns.svc:50051"): names "<statefulset>-<i>", addresses "<statefulset>-<i>.<service>".
// INVALID_ARGUMENT for an empty name, a service without ":port", or replicas outside [1, 1000].
absl::StatusOr<std::vector<LightTarget>> StatefulSetTargets(std::string_view statefulset,
                                                            int replicas,
                                                            std::string_view service);

}  // namespace workerpair::controller

#endif  // WORKERPAIR_SERVICES_CONTROLLER_CORE_PLACEMENT_H_
