#include "libs/rpc/trace_metadata.h"

#include <string_view>
#include <utility>

namespace workerpair {
namespace {

std::string_view Value(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
                       std::string_view key) {
  auto found = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (found == metadata.end()) return {};
  return std::string_view(found->second.data(), found->second.size());
}

// Holds the trace of the thread that started the call (interceptors are made on that thread,
// when the call is created) and adds it before the initial metadata goes out.
class TraceClientInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit TraceClientInterceptor(std::vector<std::pair<std::string, std::string>> headers)
      : headers_(std::move(headers)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      std::multimap<std::string, std::string>* metadata = methods->GetSendInitialMetadata();
      for (auto& [key, value] : headers_) {
        // A caller that set its own (ClientContext::AddMetadata) wins.
        if (metadata->find(key) == metadata->end()) metadata->emplace(key, value);
      }
    }
    methods->Proceed();
  }

 private:
  std::vector<std::pair<std::string, std::string>> headers_;
};

}  // namespace

RequestTrace TraceFromServerMetadata(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
  RequestTrace trace = NewRequestTrace(Value(metadata, kRequestIdHeader),
                                       WorkspaceFromBaggage(Value(metadata, kBaggageHeader)));
  if (auto parent = ParseTraceparent(Value(metadata, kTraceparentHeader))) {
    trace.trace_id = std::move(parent->trace_id);
    trace.parent_span_id = std::move(parent->parent_span_id);
  }
  if (std::string_view job = Value(metadata, kJobIdHeader); ValidRequestId(job)) {
    trace.job_id = std::string(job);
  }
  return trace;
}

std::vector<std::pair<std::string, std::string>> TraceHeaders(const RequestTrace& trace) {
  std::vector<std::pair<std::string, std::string>> headers;
  headers.emplace_back(kRequestIdHeader, trace.request_id);
  headers.emplace_back(kTraceparentHeader, FormatTraceparent(trace.trace_id, RandomHex(16)));
  if (!trace.workspace.empty()) {
    headers.emplace_back(kBaggageHeader, FormatWorkspaceBaggage(trace.workspace));
  }
  if (!trace.job_id.empty()) headers.emplace_back(kJobIdHeader, trace.job_id);
  return headers;
}

grpc::experimental::Interceptor* TraceClientInterceptorFactory::CreateClientInterceptor(
    grpc::experimental::ClientRpcInfo* /*info*/) {
  const RequestTrace* trace = CurrentRequestTrace();
  if (trace == nullptr) return nullptr;  // no job on this thread: nothing to add
  return new TraceClientInterceptor(TraceHeaders(*trace));
}

std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
TraceInterceptors() {
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> out;
  out.push_back(std::make_unique<TraceClientInterceptorFactory>());
  return out;
}

}  // namespace workerpair
