// worker-heavy's job-phase lines (libs/common/job_log.h) for the payload calls: what each
// call's events say, written once per phase. PayloadStreamReactor owns one per call:
//   rejected (before a job exists: the header, capacity, the payload's size or digest), accepted
//   (job id, queue position), started (queued_ms), compiled (the phase after "compiling"),
//   artifacts (names and bytes, Simulate), outcome, finished (seconds, code, error, reason).
//
//   JobPhaseLog log(context->client_metadata(), "simulate");
//   log.Observe(event);   // every event the job emits
#ifndef WORKERPAIR_SERVICES_HEAVY_JOB_PHASE_LOG_H_
#define WORKERPAIR_SERVICES_HEAVY_JOB_PHASE_LOG_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "libs/common/job_log.h"
#include "libs/rpc/trace_metadata.h"
#include "workerpair/v1/heavy.pb.h"

namespace workerpair::heavy {

class JobPhaseLog {
 public:
  JobPhaseLog(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
              std::string kind)
      : log_({.service = "worker-heavy",
              .trace = TraceFromServerMetadata(metadata),
              .replica = HostName(),
              .kind = std::move(kind)}) {}

  JobLog& log() { return log_; }

  void Accepted(const std::string& job_id, int queue_position) {
    log_.SetJobId(job_id);
    log_.Info("accepted", {{"queue_position", JobLogValue::Number(queue_position)}});
  }
  // On the job's thread; it may run before Submit returned (and Accepted was logged).
  void Started(const std::string& job_id, std::uint64_t queued_ms) {
    log_.SetJobId(job_id);
    log_.Info("started", {{"queued_ms", JobLogValue::Number(queued_ms)}});
  }
  // "compiled" once the scene is ready: after "compiling", or at the first simulating /
  // rendering phase when the runner kept the compiled model of this payload (no compile).
  void Phase(const std::string& previous, const std::string& next) {
    log_.Log(spdlog::level::debug, "phase", {{"phase", next}});
    const bool ready = previous == "compiling" || next == "simulating" || next == "rendering";
    if (ready && !std::exchange(compiled_, true)) {
      log_.Info("compiled", {{"model", previous == "compiling" ? "compiled" : "kept"},
                             {"next_phase", next}});
    }
  }
  // A call that ends before its job was admitted, or a job that ended: once either way.
  void Rejected(const absl::Status& status) {
    if (Once()) log_.Log(spdlog::level::info, "rejected", StatusFields(status));
  }
  void Finished(const absl::Status& status) {
    if (Once()) log_.Finished(status);
  }

  void Observe(const v1::SimulateResponse& event) {
    if (event.has_artifact()) {
      std::lock_guard lock(mu_);
      artifact_bytes_[event.artifact().name()] += event.artifact().data().size();
    } else if (event.has_result()) {
      const v1::SimulateResult& result = event.result();
      std::string names;
      std::uint64_t bytes = 0;
      {
        std::lock_guard lock(mu_);
        for (const auto& [name, size] : artifact_bytes_) {
          names += names.empty() ? name : "," + name;
          bytes += size;
        }
      }
      log_.Info("artifacts", {{"artifacts", names},
                              {"artifact_count", JobLogValue::Number(result.artifacts_size())},
                              {"artifact_bytes", JobLogValue::Number(bytes)}});
      log_.Info("outcome", {{"outcome", v1::Outcome_Name(result.outcome())},
                            {"fail_reason", v1::FailReason_Name(result.fail_reason())},
                            {"sim_time_s", JobLogValue::Number(result.metrics().sim_time_s())},
                            {"seed", std::to_string(result.seed())}});
    }
  }
  void Observe(const v1::VerifyResponse& event) {
    if (!event.has_result()) return;
    const v1::VerifyResult& result = event.result();
    log_.Info("outcome", {{"runs", JobLogValue::Number(result.runs_size())},
                          {"successes", JobLogValue::Number(result.successes())},
                          {"success_rate", JobLogValue::Number(result.success_rate())},
                          {"parallelism", JobLogValue::Number(result.parallelism())}});
  }
  void Observe(const v1::RenderViewsResponse& event) {
    if (!event.has_result()) return;
    log_.Info("outcome", {{"view_count", JobLogValue::Number(event.result().view_count())},
                          {"gl_renderer", event.result().gl_renderer()}});
  }

 private:
  bool Once() {
    std::lock_guard lock(mu_);
    return !std::exchange(ended_, true);
  }

  JobLog log_;
  std::mutex mu_;
  std::map<std::string, std::uint64_t> artifact_bytes_;  // guarded by mu_
  bool ended_ = false;                                   // guarded by mu_
  bool compiled_ = false;  // only on the job's thread (phases come from its runner call)
};

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_JOB_PHASE_LOG_H_
