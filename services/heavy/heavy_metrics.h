// worker-heavy's Prometheus series (names in docs/PORTS_AND_METRICS.md): load and capacity read
// from the scheduler at scrape time, job outcomes, job latency and payload bytes recorded as
// jobs end. The autoscaler reads running + queued.
#ifndef WORKERPAIR_SERVICES_HEAVY_HEAVY_METRICS_H_
#define WORKERPAIR_SERVICES_HEAVY_HEAVY_METRICS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/heavy/core/admission/scheduler.h"
#include "services/heavy/runner/runner_pool.h"

namespace workerpair::heavy {

// Registers the scheduler-backed series; `scheduler` must outlive the metrics endpoint.
void RegisterSchedulerMetrics(const admission::Scheduler* scheduler);

// Registers the runner series (alive, busy, sandbox mechanisms in force, scene compiles, reuses
// and shared loads, the shared scenes kept); `runners` must outlive the metrics endpoint.
void RegisterRunnerMetrics(RunnerPool* runners);

// True for a hardware renderer; false for none or a software rasteriser (llvmpipe, softpipe,
// swrast): what a GPU pod falls back to when it did not get its GPU.
bool IsGpuRenderer(const std::string& renderer);

// Counts a runner replaced for `reason` (RunnerPoolOptions::on_restart).
void RecordRunnerRestart(RestartReason reason);

// Records a job that ran: its latency, and "error" or "cancelled" as its outcome when it did not
// end OK (OK jobs record their simulation outcome through RecordOutcome).
void RecordJobEnd(const std::string& kind, const absl::Status& status, absl::Duration ran_for);

// Records a simulation outcome: "success" or a failure reason such as "timeout".
void RecordOutcome(std::string_view outcome);

// Adds to the payload bytes received.
void RecordPayloadBytes(std::uint64_t bytes);

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_HEAVY_METRICS_H_
