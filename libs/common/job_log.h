// One structured log line per job phase (accepted, started, compiled, outcome, artifacts,
// finished, rejected, ...), the same fields on every service, so that an operator can take a job
// id or a request id from any output and find every line of that job:
//
//   plain:  2026-12-01T14:02:03.100 info  [12] job accepted job_id=3 request_id=9f0c... ...
//   --log_json: {"ts":"...","level":"info","logger":"job","thread":12,"msg":"job accepted",
//                "event":"accepted","service":"worker-heavy","job_id":"3","request_id":"9f0c...",
//                "trace_id":"4bf9...","workspace":"agent-7","payload_sha256":"ab12...",
//                "replica":"worker-heavy-7d9f","kind":"simulate","queue_position":0}
//
// job_id, request_id, trace_id, workspace, payload_sha256 and replica are on every line ("" when
// not known to that service); the event adds its own fields.
//
//   JobLog log({.service = "worker-heavy", .request_id = ..., .replica = Hostname()});
//   log.Set("job_id", id);
//   log.Info("accepted", {{"queue_position", JobLogValue::Number(0)}});
#ifndef WORKERPAIR_LIBS_COMMON_JOB_LOG_H_
#define WORKERPAIR_LIBS_COMMON_JOB_LOG_H_

#include <spdlog/common.h>

#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "libs/common/request_trace.h"

namespace workerpair {

// The name of the spdlog logger job lines go through; logging.cc's formatters expand its
// payloads into fields.
inline constexpr char kJobLoggerName[] = "job";

struct JobLogValue {
  std::string text;
  bool number = false;  // written as a JSON number (text holds its decimal form)

  static JobLogValue Number(double value);
  static JobLogValue Number(std::int64_t value);
  static JobLogValue Number(std::uint64_t value);
  static JobLogValue Number(int value) { return Number(static_cast<std::int64_t>(value)); }
  static JobLogValue Number(unsigned value) { return Number(static_cast<std::uint64_t>(value)); }
  JobLogValue() = default;
  JobLogValue(std::string value) : text(std::move(value)) {}  // NOLINT: a string by default
  JobLogValue(std::string_view value) : text(value) {}        // NOLINT
  JobLogValue(const char* value) : text(value) {}             // NOLINT
};
using JobLogField = std::pair<std::string, JobLogValue>;

// The fields every line of one job carries. Thread-safe: a job's phases are logged from the
// gRPC threads and its worker thread.
class JobLog {
 public:
  struct Identity {
    std::string service;  // "worker-heavy", "worker-light", "controller"
    RequestTrace trace;
    std::string job_id;
    std::string payload_sha256;
    std::string replica;
    std::string kind;  // "simulate", "verify", "flow", "UploadFiles", ...
  };
  explicit JobLog(Identity identity);

  void SetJobId(std::string job_id);
  void SetPayloadSha256(std::string sha256);
  void SetReplica(std::string replica);
  void SetWorkspace(std::string workspace);
  // The trace as made (SetWorkspace does not change what this returns).
  const RequestTrace& trace() const { return trace_; }
  // Time since this JobLog was made (the job's duration so far).
  absl::Duration elapsed() const { return absl::Now() - started_; }

  void Log(spdlog::level::level_enum level, std::string_view event,
           std::initializer_list<JobLogField> fields = {}) const;
  void Log(spdlog::level::level_enum level, std::string_view event,
           const std::vector<JobLogField>& fields) const;
  void Info(std::string_view event, std::initializer_list<JobLogField> fields = {}) const {
    Log(spdlog::level::info, event, fields);
  }
  // "finished" with seconds (since this JobLog was made) and, for an error, code, reason and
  // message; at info for OK, else at warn.
  void Finished(const absl::Status& status, std::initializer_list<JobLogField> fields = {}) const;

 private:
  mutable std::mutex mu_;
  const RequestTrace trace_;
  Identity identity_;
  absl::Time started_ = absl::Now();
};

// The fields of a status: code (its name), message and reason (libs/common/error_reason.h).
std::vector<JobLogField> StatusFields(const absl::Status& status);

// This host's name (a pod's name in Kubernetes), for `replica` on a server's own lines.
std::string HostName();

// ---- for logging.cc's formatters -----------------------------------------------------------
// A job line's spdlog payload: the message, then each field as \x1f key \x1e value (string) or
// \x1f key \x1d value (number). Field values never contain those bytes (they are replaced).
std::string EncodeJobLine(std::string_view message, const std::vector<JobLogField>& fields);
struct DecodedJobLine {
  std::string_view message;
  std::vector<std::pair<std::string_view, JobLogValue>> fields;
};
DecodedJobLine DecodeJobLine(std::string_view payload);

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_COMMON_JOB_LOG_H_
