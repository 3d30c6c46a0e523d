#include "libs/rpc/rpc_metrics_interceptor.h"

#include <google/protobuf/descriptor.h>

#include <chrono>
#include <string>

#include "libs/common/str_cat.h"

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

const RpcMetricsInterceptorFactory::MethodLabels& UnknownLabels() {
  static const auto* labels = new RpcMetricsInterceptorFactory::MethodLabels("unknown", "unknown");
  return *labels;
}

class RpcMetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  RpcMetricsInterceptor(HistogramFamily* latency,
                        const RpcMetricsInterceptorFactory::MethodLabels& labels)
      : latency_(latency), labels_(labels) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    // Sending the status is the end of the call as the server sees it.
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      latency_->Observe(
          {labels_.first, labels_.second, CodeName(methods->GetSendStatus().error_code())},
          seconds);
    }
    methods->Proceed();
  }

 private:
  HistogramFamily* latency_;
  const RpcMetricsInterceptorFactory::MethodLabels& labels_;  // owned by the factory
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace

RpcMetricsInterceptorFactory::RpcMetricsInterceptorFactory(MetricsRegistry* registry)
    : latency_(registry->AddHistogram(
          "workerpair_rpc_seconds",
          "gRPC call latency by service, method and status code; calls to paths this server "
          "does not serve count as service and method \"unknown\".",
          {"service", "method", "code"}, MetricsRegistry::LatencyBuckets())) {}

bool RpcMetricsInterceptorFactory::AddKnownService(std::string_view service_full_name) {
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          std::string(service_full_name));
  if (service == nullptr) return false;
  for (int i = 0; i < service->method_count(); ++i) {
    const std::string& method = service->method(i)->name();
    known_.emplace(StrCat("/", service->full_name(), "/", method),
                   MethodLabels(service->full_name(), method));
  }
  return true;
}

const RpcMetricsInterceptorFactory::MethodLabels& RpcMetricsInterceptorFactory::LabelsFor(
    std::string_view path) const {
  const auto it = known_.find(path);
  return it == known_.end() ? UnknownLabels() : it->second;
}

grpc::experimental::Interceptor* RpcMetricsInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  const char* method = info->method();
  return new RpcMetricsInterceptor(latency_,
                                   LabelsFor(method != nullptr ? method : std::string_view()));
}

}  // namespace workerpair
