// LightBundleService: the gRPC adapter that packs a workspace into a payload bundle and streams
// it back in chunks (at most kBundleChunkBytes each), closed by a summary with its SHA-256.
//
// The packing itself is PackDirectory (libs/common/bundle.h); errors are mapped to gRPC codes once.
//
//   light::LightBundleService bundle_service(store);
//   runner.AddService(&bundle_service, v1::LightBundleService::service_full_name());
#ifndef WORKERPAIR_SERVICES_LIGHT_LIGHT_BUNDLE_SERVICE_H_
#define WORKERPAIR_SERVICES_LIGHT_LIGHT_BUNDLE_SERVICE_H_

#include <cstddef>

#include "libs/common/bundle.h"
#include "services/light/core/files/workspace_store.h"
#include "services/light/light_call_policy.h"
#include "workerpair/v1/light_bundle.grpc.pb.h"

namespace workerpair::light {

// Largest `data` chunk of a BundleWorkspace stream.
inline constexpr std::size_t kBundleChunkBytes = 1 << 20;

class LightBundleService final : public workerpair::v1::LightBundleService::Service {
 public:
  LightBundleService(WorkspaceStore* store, LightCallPolicy* policy, PackOptions options = {})
      : store_(store), policy_(policy), options_(options) {}

  grpc::Status BundleWorkspace(grpc::ServerContext* context,
                               const v1::BundleWorkspaceRequest* request,
                               grpc::ServerWriter<v1::BundleWorkspaceResponse>* writer) override;

 private:
  WorkspaceStore* store_;
  LightCallPolicy* policy_;
  PackOptions options_;
};

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_LIGHT_BUNDLE_SERVICE_H_
