// RequestTrace (libs/common/request_trace.h) on the wire, as gRPC metadata:
//   x-request-id: <request id>
//   traceparent:  00-<trace id>-<span id of this call>-01      (W3C Trace Context)
//   baggage:      workerpair.workspace=<workspace>             (W3C Baggage; when set)
//   x-job-id:     <the controller's job id>                    (when set)
//
// Client side: every channel made by MakeClientChannel (libs/rpc/client_channel.h) carries
// TraceClientInterceptorFactory, which adds the calling thread's current trace to each call it
// starts (a new span id per call). Server side: TraceFromServerMetadata continues the caller's
// trace, or starts one when the caller sent none (or sent something malformed: replaced, never
// trusted as is).
//
//   RequestTrace trace = TraceFromServerMetadata(context->client_metadata());
#ifndef WORKERPAIR_LIBS_RPC_TRACE_METADATA_H_
#define WORKERPAIR_LIBS_RPC_TRACE_METADATA_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/client_interceptor.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "libs/common/request_trace.h"

namespace workerpair {

inline constexpr char kRequestIdHeader[] = "x-request-id";
inline constexpr char kTraceparentHeader[] = "traceparent";
inline constexpr char kBaggageHeader[] = "baggage";
inline constexpr char kJobIdHeader[] = "x-job-id";

// The caller's trace continued: its request id, trace id and span (as our parent), a new span
// id for this server's work, and the workspace from baggage.
RequestTrace TraceFromServerMetadata(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata);

// The three headers for one outgoing call of `trace` (a new span id each time).
std::vector<std::pair<std::string, std::string>> TraceHeaders(const RequestTrace& trace);

// Adds the calling thread's current trace (if any) to every call of a channel.
class TraceClientInterceptorFactory final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override;
};

// What to pass to grpc::experimental::CreateCustomChannelWithInterceptors.
std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
TraceInterceptors();

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_RPC_TRACE_METADATA_H_
