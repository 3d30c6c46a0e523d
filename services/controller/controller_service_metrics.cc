#include "services/controller/controller_service_metrics.h"

#include <string>

#include "services/controller/controller_jobs.h"

namespace workerpair::controller {

void AttachControllerMetrics(MetricsRegistry& registry, JobTableOptions& options) {
  GaugeFamily* waiting = registry.AddGauge(
      "workerpair_controller_jobs_waiting",
      "Jobs waiting for capacity: queued in the controller, or started and waiting for a "
      "worker-heavy slot (every replica full, or none yet).",
      {"kind"});
  GaugeFamily* running = registry.AddGauge(
      "workerpair_controller_jobs_running", "Jobs running (started, not waiting for capacity).",
      {"kind"});
  CounterFamily* finished = registry.AddCounter(
      "workerpair_controller_jobs_finished_total", "Jobs finished, by kind and final state.",
      {"kind", "state"});
  CounterFamily* rejected = registry.AddCounter(
      "workerpair_controller_jobs_rejected_total",
      "Submissions refused: queue_full (RESOURCE_EXHAUSTED) or draining (UNAVAILABLE).",
      {"reason"});
  const double queue_capacity = static_cast<double>(options.max_queued);
  const double running_capacity = static_cast<double>(options.max_running);
  registry.AddGaugeCallback("workerpair_controller_queue_capacity",
                            "Jobs the controller's queue holds at most (--max_queued_jobs).",
                            [queue_capacity] { return queue_capacity; });
  registry.AddGaugeCallback("workerpair_controller_running_capacity",
                            "Jobs the controller runs at once (--max_running_jobs).",
                            [running_capacity] { return running_capacity; });
  for (const std::string& kind : JobKinds()) {
    waiting->Set({kind}, 0);
    running->Set({kind}, 0);
  }
  options.on_demand = [waiting, running](const std::string& kind, const JobDemand& demand) {
    waiting->Set({kind}, demand.waiting);
    running->Set({kind}, demand.running);
  };
  options.on_outcome = [finished, rejected](const std::string& kind, std::string_view outcome) {
    if (outcome == "queue_full" || outcome == "draining") {
      rejected->Increment({std::string(outcome)});
    } else {
      finished->Increment({kind, std::string(outcome)});
    }
  };
}

}  // namespace workerpair::controller
