// One job-phase line (libs/common/job_log.h, event "call") per gRPC call a server answers: the
// method, the caller's request id, trace and workspace (from the trace metadata,
// libs/rpc/trace_metadata.h, or the request's `workspace` field), the status and the
// seconds. At info for calls that carry an x-request-id (a job's calls: the controller sends
// one on each), at debug for the rest (probes, ad-hoc calls), so a job can be followed through
// worker-light's adapters without logging every health check.
//
//   creators.push_back(std::make_unique<CallLogInterceptorFactory>("worker-light", metrics));
#ifndef WORKERPAIR_LIBS_RPC_CALL_LOG_INTERCEPTOR_H_
#define WORKERPAIR_LIBS_RPC_CALL_LOG_INTERCEPTOR_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_interceptor.h>

#include <string>

#include "libs/rpc/rpc_metrics_interceptor.h"

namespace workerpair {

class CallLogInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // `methods` names the calls (unknown paths are logged as service and method "unknown", as
  // in the metrics); it must outlive the factory.
  CallLogInterceptorFactory(std::string service, const RpcMetricsInterceptorFactory* methods)
      : service_(std::move(service)), methods_(methods) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  std::string service_;
  const RpcMetricsInterceptorFactory* methods_;
};

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_RPC_CALL_LOG_INTERCEPTOR_H_
