#include "services/heavy/heavy_metrics.h"

#include <cctype>

#include "libs/common/metrics.h"

namespace workerpair::heavy {
namespace {

MetricsRegistry& Registry() { return MetricsRegistry::Default(); }

CounterFamily* Completed() {
  static CounterFamily* family = Registry().AddCounter(
      "workerpair_heavy_jobs_completed_total",
      "Jobs and verify runs that ended, by outcome (success, a failure reason, error, cancelled).",
      {"outcome"});
  return family;
}

CounterFamily* RunnerRestarts() {
  static CounterFamily* family = Registry().AddCounter(
      "workerpair_heavy_runner_restarts_total",
      "Runner processes replaced, by reason (crash, memory, wall_time, cpu_time, recycle, "
      "cancel, lost, start_failed).",
      {"reason"});
  return family;
}

}  // namespace

// True for a hardware renderer; false for none or a software rasteriser (Mesa's llvmpipe,
// softpipe, swrast), which is what a GPU pod falls back to when it did not get its GPU.
bool IsGpuRenderer(const std::string& renderer) {
  if (renderer.empty()) return false;
  std::string lower;
  for (char c : renderer) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* software : {"llvmpipe", "softpipe", "swrast", "software"}) {
    if (lower.find(software) != std::string::npos) return false;
  }
  return true;
}

void RegisterRunnerMetrics(RunnerPool* runners) {
  Registry().AddGaugeCallback("workerpair_heavy_runners_alive",
                              "Runner processes up (idle or running a job).",
                              [runners] { return runners->Stats().alive; });
  Registry().AddGaugeCallback("workerpair_heavy_runners_busy", "Runner processes running a job.",
                              [runners] { return runners->Stats().busy; });
  Registry().AddGaugeCallback("workerpair_heavy_runner_landlock",
                              "1 when the runners are confined by Landlock.",
                              [runners] { return runners->Stats().landlock ? 1 : 0; });
  Registry().AddGaugeCallback("workerpair_heavy_runner_seccomp",
                              "1 when the runners are confined by a seccomp filter.",
                              [runners] { return runners->Stats().seccomp ? 1 : 0; });
  Registry().AddGaugeCallback(
      "workerpair_heavy_render_gpu",
      "1 when the runners render on a GPU; 0 on a software renderer (llvmpipe) or none.",
      [runners] { return IsGpuRenderer(runners->Stats().gl_renderer) ? 1 : 0; });
  // Compiled scenes (heavy.proto SceneCacheStats): how each job came by its model.
  Registry().AddCounterCallback(
      "workerpair_heavy_scene_compiles_total",
      "Jobs that unpacked and compiled their payload's scene.",
      [runners] { return static_cast<double>(runners->Stats().scene_compiles); });
  Registry().AddCounterCallback(
      "workerpair_heavy_scene_reuses_total",
      "Jobs that ran on a model their runner kept from an earlier job on the same payload.",
      [runners] { return static_cast<double>(runners->Stats().scene_reuses); });
  Registry().AddCounterCallback(
      "workerpair_heavy_scene_shared_loads_total",
      "Jobs that ran on a model another runner of this replica compiled (same payload).",
      [runners] { return static_cast<double>(runners->Stats().scene_loads); });
  Registry().AddGaugeCallback(
      "workerpair_heavy_shared_scenes", "Compiled models kept for the runners now.",
      [runners] { return static_cast<double>(runners->shared_scenes().Stats().entries); });
  Registry().AddGaugeCallback(
      "workerpair_heavy_shared_scene_bytes", "Bytes of the compiled models kept for the runners.",
      [runners] { return static_cast<double>(runners->shared_scenes().Stats().bytes); });
  for (int reason = 0; reason < kRestartReasonCount; ++reason) {
    RunnerRestarts()->Increment({std::string(RestartReasonName(static_cast<RestartReason>(reason)))},
                                0);
  }
}

void RecordRunnerRestart(RestartReason reason) {
  RunnerRestarts()->Increment({std::string(RestartReasonName(reason))});
}

void RegisterSchedulerMetrics(const admission::Scheduler* scheduler) {
  Registry().AddGaugeCallback("workerpair_heavy_jobs_running", "Slots in use now.",
                              [scheduler] { return scheduler->Stats().running; });
  Registry().AddGaugeCallback("workerpair_heavy_jobs_queued", "Jobs waiting for a slot.",
                              [scheduler] { return scheduler->Stats().queued; });
  Registry().AddGaugeCallback("workerpair_heavy_slots", "Jobs this replica runs at once.",
                              [scheduler] { return scheduler->Stats().slots; });
  Registry().AddGaugeCallback("workerpair_heavy_queue_capacity",
                              "Jobs that may wait for a slot; beyond it jobs are refused.",
                              [scheduler] { return scheduler->Stats().queue_capacity; });
  Registry().AddCounterCallback(
      "workerpair_heavy_admission_rejections_total",
      "Jobs refused with RESOURCE_EXHAUSTED because every slot and the queue were full.",
      [scheduler] { return static_cast<double>(scheduler->Stats().rejected); });
  Completed();
}

void RecordJobEnd(const std::string& kind, const absl::Status& status, absl::Duration ran_for) {
  static HistogramFamily* latency = Registry().AddHistogram(
      "workerpair_heavy_job_seconds", "Wall time of jobs from start to end (queue excluded).",
      {"kind"}, MetricsRegistry::LatencyBuckets());
  latency->Observe({kind}, absl::ToDoubleSeconds(ran_for));
  if (!status.ok()) {
    Completed()->Increment({absl::IsCancelled(status) || absl::IsDeadlineExceeded(status) ||
                                    absl::IsUnavailable(status)
                                ? "cancelled"
                                : "error"});
  }
}

void RecordOutcome(std::string_view outcome) {
  std::string lower(outcome);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  Completed()->Increment({lower});
}

void RecordPayloadBytes(std::uint64_t bytes) {
  static CounterFamily* total = Registry().AddCounter(
      "workerpair_heavy_payload_bytes_total", "Payload bytes received and accepted.", {});
  total->Increment({}, static_cast<double>(bytes));
}

}  // namespace workerpair::heavy
