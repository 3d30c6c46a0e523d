// LightTopologyService: the gRPC adapter for mesh topology and assembly validation.
//
// Each handler resolves the workspace, is admitted by the LightCallPolicy (time limit, client
// cancellation, per-workspace concurrency cap), calls TopologyAnalyzer
// (services/light/core/topology) with the call's budget and converts the result to its
// response; errors are mapped to gRPC codes once.
//
//   light::TopologyAnalyzer analyzer(light::TopologyOptions{});
//   light::LightTopologyService topology_service(store, &analyzer, &policy);
//   runner.AddService(&topology_service, v1::LightTopologyService::service_full_name());
#ifndef WORKERPAIR_SERVICES_LIGHT_LIGHT_TOPOLOGY_SERVICE_H_
#define WORKERPAIR_SERVICES_LIGHT_LIGHT_TOPOLOGY_SERVICE_H_

#include "services/light/core/files/workspace_store.h"
#include "services/light/core/topology/topology_analyzer.h"
#include "services/light/light_call_policy.h"
#include "workerpair/v1/light_topology.grpc.pb.h"

namespace workerpair::light {

class LightTopologyService final : public workerpair::v1::LightTopologyService::Service {
 public:
  LightTopologyService(WorkspaceStore* store, const TopologyAnalyzer* analyzer,
                       LightCallPolicy* policy)
      : store_(store), analyzer_(analyzer), policy_(policy) {}

  grpc::Status AnalyzeMesh(grpc::ServerContext*, const v1::AnalyzeMeshRequest*,
                           v1::AnalyzeMeshResponse*) override;
  grpc::Status InspectFace(grpc::ServerContext*, const v1::InspectFaceRequest*,
                           v1::InspectFaceResponse*) override;
  grpc::Status InspectEdge(grpc::ServerContext*, const v1::InspectEdgeRequest*,
                           v1::InspectEdgeResponse*) override;
  grpc::Status ValidateAssembly(grpc::ServerContext*, const v1::ValidateAssemblyRequest*,
                                v1::ValidateAssemblyResponse*) override;

 private:
  WorkspaceStore* store_;
  const TopologyAnalyzer* analyzer_;
  LightCallPolicy* policy_;
};

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_LIGHT_TOPOLOGY_SERVICE_H_
