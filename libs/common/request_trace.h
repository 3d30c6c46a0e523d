// What ties one job together across processes: a request id (the caller's, or made here) and a
// W3C trace context (https://www.w3.org/TR/trace-context/), plus the workspace the job is
// about. The controller makes one per job and every call it makes for that job carries it as
// gRPC metadata (libs/rpc/trace_metadata.h): `x-request-id`, `traceparent` (a new span id
// per call, so a server's span names the call as its parent) and `baggage`
// (workerpair.workspace=NAME). Servers log it on every job-phase line (libs/common/job_log.h)
// and the controller writes the ids into every JSON result.
//
// The trace of the job a thread works on is that thread's "current" trace, the way
// OpenTelemetry keeps its context: set it with a ScopedRequestTrace for the job's duration;
// work handed to another thread takes it along (RequestTrace copy + its own scope).
//
//   ScopedRequestTrace scope(NewRequestTrace(/*request_id=*/"", "agent-7"));
//   light.WriteFile(...);          // metadata added by the channel's interceptor
//   CurrentRequestTrace()->request_id;
#ifndef WORKERPAIR_LIBS_COMMON_REQUEST_TRACE_H_
#define WORKERPAIR_LIBS_COMMON_REQUEST_TRACE_H_

#include <optional>
#include <string>
#include <string_view>

namespace workerpair {

struct RequestTrace {
  // The caller's request id, or a made one (32 lowercase hex digits, like a trace id).
  std::string request_id;
  // W3C trace-id: 32 lowercase hex digits, not all zero.
  std::string trace_id;
  // W3C parent-id of the span that made this call (16 hex digits); empty at the root.
  std::string parent_span_id;
  // This process's span for the work (16 hex digits); what its outgoing calls name as parent.
  std::string span_id;
  // The workspace the job is about ("" when none), carried as W3C baggage.
  std::string workspace;
  // The controller's job id when the work is one of its jobs (ControllerService), carried as
  // x-job-id; "" otherwise (a worker-heavy job has its own id, JobAccepted.job_id).
  std::string job_id;
};

// A fresh trace: a new trace id and span id; `request_id` when it is a valid one
// (ValidRequestId), else a new one.
RequestTrace NewRequestTrace(std::string_view request_id = {}, std::string_view workspace = {});

// True for 1..128 characters of [A-Za-z0-9._:/-]: what a request id may hold so that it is safe
// in a log line, a metric-free label and a file name. Anything else is replaced, not trusted.
bool ValidRequestId(std::string_view id);

// `length` random lowercase hex digits (not all zero).
std::string RandomHex(std::size_t length);

// "00-<trace_id>-<span_id>-01" (version 00, sampled).
std::string FormatTraceparent(std::string_view trace_id, std::string_view span_id);

struct ParsedTraceparent {
  std::string trace_id;
  std::string parent_span_id;
};
// The trace id and parent id of a W3C traceparent header; nullopt when it is malformed, all
// zero, or of version ff (the spec says: start a new trace then).
std::optional<ParsedTraceparent> ParseTraceparent(std::string_view header);

// "workerpair.workspace=NAME" for W3C baggage (NAME percent-encoded), and back: the workspace
// entry of a baggage header ("" when absent or not a valid value).
std::string FormatWorkspaceBaggage(std::string_view workspace);
std::string WorkspaceFromBaggage(std::string_view baggage);

// The trace the calling thread works on, or null.
const RequestTrace* CurrentRequestTrace();

// Makes `trace` the calling thread's current trace until the scope ends (scopes nest).
class ScopedRequestTrace {
 public:
  explicit ScopedRequestTrace(RequestTrace trace);
  ~ScopedRequestTrace();
  ScopedRequestTrace(const ScopedRequestTrace&) = delete;
  ScopedRequestTrace& operator=(const ScopedRequestTrace&) = delete;
  const RequestTrace& trace() const { return trace_; }

 private:
  RequestTrace trace_;
  const RequestTrace* previous_;
};

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_COMMON_REQUEST_TRACE_H_
