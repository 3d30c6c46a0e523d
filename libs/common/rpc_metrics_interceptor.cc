#include "libs/common/rpc_metrics_interceptor.h"

#include <chrono>
#include <string>

namespace workerpair {
namespace {

const char* CodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {
      "OK",           "CANCELLED",         "UNKNOWN",        "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND",    "ALREADY_EXISTS", "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",         "UNAVAILABLE",    "DATA_LOSS",
      "UNAUTHENTICATED"};
  const int index = static_cast<int>(code);
  return index >= 0 && index <= 16 ? kNames[index] : "UNKNOWN";
}

class RpcMetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  RpcMetricsInterceptor(HistogramFamily* latency, const char* method) : latency_(latency) {
    // "/pkg.Service/Method" -> service, method
    std::string full = method != nullptr ? method : "";
    const std::size_t slash = full.rfind('/');
    service_ = slash != std::string::npos && slash > 0 ? full.substr(1, slash - 1) : full;
    method_ = slash != std::string::npos ? full.substr(slash + 1) : full;
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    // Sending the status is the end of the call as the server sees it.
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      latency_->Observe({service_, method_, CodeName(methods->GetSendStatus().error_code())},
                        seconds);
    }
    methods->Proceed();
  }

 private:
  HistogramFamily* latency_;
  std::string service_, method_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace

RpcMetricsInterceptorFactory::RpcMetricsInterceptorFactory(MetricsRegistry* registry)
    : latency_(registry->AddHistogram("workerpair_rpc_seconds",
                                      "gRPC call latency by service, method and status code.",
                                      {"service", "method", "code"},
                                      MetricsRegistry::LatencyBuckets())) {}

grpc::experimental::Interceptor* RpcMetricsInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new RpcMetricsInterceptor(latency_, info->method());
}

}  // namespace workerpair
