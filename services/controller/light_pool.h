// LightPool: the worker-light pods, and which one holds each workspace.
//
// A workspace lives on exactly one pod, chosen by rendezvous hashing of its name over the pods'
// names (core/placement.h): every caller configured with the same pods agrees, with no
// coordination. Calls about a workspace go to For(workspace); ListWorkspaces asks every pod.
// worker-light itself knows nothing of placement: a call that reaches the wrong pod (after the
// pool was resized, before `controller ws move`) gets worker-light's NOT_FOUND, which Explain()
// turns into one that says where the workspace was looked for and what to do.
//
//   WP_ASSIGN_OR_RETURN(auto pods, ParseLightTargets("a:50051,b:50051,c:50051"));
//   LightPool pool(pods, [](const std::string& a) { return CreateChannel(a); });
//   absl::Status status = pool.For("agent-7").CreateWorkspace("agent-7", true).status();
//   status = pool.Explain(status, "agent-7");
#ifndef WORKERPAIR_SERVICES_CONTROLLER_LIGHT_POOL_H_
#define WORKERPAIR_SERVICES_CONTROLLER_LIGHT_POOL_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/controller/core/placement.h"
#include "services/controller/light_client.h"

namespace workerpair::controller {

// A workspace found by ListWorkspaces: the pods that hold it (indices into targets()) and the
// one placement says should.
struct PooledWorkspace {
  std::string name;
  std::vector<std::size_t> found_on;
  std::size_t placed_on = 0;
  // True unless it is exactly on its placed pod.
  bool misplaced() const { return found_on.size() != 1 || found_on[0] != placed_on; }
};

class LightPool {
 public:
  using ChannelFactory =
      std::function<absl::StatusOr<std::shared_ptr<grpc::Channel>>(const std::string& address)>;

  // Makes one channel per pod (nothing is dialled yet). The factory's first error is returned.
  static absl::StatusOr<std::unique_ptr<LightPool>> Create(
      std::vector<LightTarget> targets, const ChannelFactory& make_channel,
      absl::Duration deadline = absl::Seconds(30));

  const std::vector<LightTarget>& targets() const { return targets_; }
  std::size_t size() const { return targets_.size(); }

  // The pod that holds `workspace`, and its client.
  std::size_t IndexFor(std::string_view workspace) const;
  LightClient& For(std::string_view workspace) { return *clients_[IndexFor(workspace)]; }
  LightClient& At(std::size_t index) { return *clients_[index]; }

  // Every workspace on every pod, sorted by name. UNAVAILABLE (naming the pod) when a pod does
  // not answer: a partial list would hide workspaces.
  absl::StatusOr<std::vector<PooledWorkspace>> ListWorkspaces();

  // Before creating `workspace` (ws create, run): FAILED_PRECONDITION when it already exists on
  // a pod other than its placed one (a resized pool not yet rebalanced), so that no empty twin
  // is made beside the real one. OK with one pod (nothing is asked). UNAVAILABLE as
  // ListWorkspaces.
  absl::Status RefuseMisplaced(std::string_view workspace);

  // `status` from a call about `workspace`; when it is worker-light's "workspace does not
  // exist" and the pool has several pods, the same NOT_FOUND with a hint: which pod was asked,
  // that placement chose it, and `controller ws move` for a resized pool.
  absl::Status Explain(const absl::Status& status, std::string_view workspace) const;

 private:
  LightPool() = default;

  std::vector<LightTarget> targets_;
  std::vector<std::unique_ptr<LightClient>> clients_;
};

}  // namespace workerpair::controller

#endif  // WORKERPAIR_SERVICES_CONTROLLER_LIGHT_POOL_H_
