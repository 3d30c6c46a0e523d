// A server interceptor recording every call's latency and status code in
// `workerpair_rpc_seconds{service,method,code}`, so each service exports RPC metrics without
// touching its handlers.
//
// Label values come only from known sets, never from the caller: the services registered with
// AddKnownService (their methods read from the compiled-in proto descriptors) and the 17 status
// codes. A call to any other path (a made-up or mistyped method, a service this server does not
// serve) is counted under service="unknown", method="unknown".
#ifndef WORKERPAIR_LIBS_RPC_RPC_METRICS_INTERCEPTOR_H_
#define WORKERPAIR_LIBS_RPC_RPC_METRICS_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "libs/common/metrics.h"

namespace workerpair {

class RpcMetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // The label values of a call: {service, method}.
  using MethodLabels = std::pair<std::string, std::string>;

  explicit RpcMetricsInterceptorFactory(MetricsRegistry* registry);

  // Makes every method of `service_full_name` (e.g. "workerpair.v1.LightFilesService") a label value.
  // Returns false when the generated descriptor pool does not know the service (its calls then
  // count as unknown). Call before the server starts: calls read the set without a lock.
  bool AddKnownService(std::string_view service_full_name);

  // The labels a call to `path` ("/pkg.Service/Method") is recorded under.
  const MethodLabels& LabelsFor(std::string_view path) const;

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  HistogramFamily* latency_;
  // "/pkg.Service/Method" -> {"pkg.Service", "Method"}.
  std::map<std::string, MethodLabels, std::less<>> known_;
};

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_RPC_RPC_METRICS_INTERCEPTOR_H_
