// A server interceptor recording every call's latency and status code in
// `workerpair_rpc_seconds{service,method,code}`, so each service exports RPC metrics without
// touching its handlers.
#ifndef WORKERPAIR_LIBS_COMMON_RPC_METRICS_INTERCEPTOR_H_
#define WORKERPAIR_LIBS_COMMON_RPC_METRICS_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include "libs/common/metrics.h"

namespace workerpair {

class RpcMetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RpcMetricsInterceptorFactory(MetricsRegistry* registry);
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  HistogramFamily* latency_;
};

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_COMMON_RPC_METRICS_INTERCEPTOR_H_
