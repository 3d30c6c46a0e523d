// The controller service's metrics (Prometheus, on --metrics_listen): the demand it holds, for
// the heavy autoscaler (KEDA/HPA) to see while the heavy pool is at zero, and job outcomes.
//
//   workerpair_controller_jobs_waiting{kind}        gauge: queued, or started and waiting for a
//                                                   worker-heavy slot (full or empty pool)
//   workerpair_controller_jobs_running{kind}        gauge: started and not waiting
//   workerpair_controller_queue_capacity            gauge: --max_queued_jobs
//   workerpair_controller_running_capacity          gauge: --max_running_jobs
//   workerpair_controller_jobs_finished_total{kind,state}   counter: succeeded|failed|cancelled
//   workerpair_controller_jobs_rejected_total{reason}       counter: queue_full|draining
//
// `kind` is one of JobKinds() (controller_jobs.h); every kind's gauge series exists from the
// start at 0, so a sum over them is defined before the first job.
//
//   JobTableOptions options = ...;
//   AttachControllerMetrics(MetricsRegistry::Default(), options);
//   JobTable jobs(options);
#ifndef WORKERPAIR_SERVICES_CONTROLLER_CONTROLLER_SERVICE_METRICS_H_
#define WORKERPAIR_SERVICES_CONTROLLER_CONTROLLER_SERVICE_METRICS_H_

#include "libs/common/metrics.h"
#include "services/controller/job_table.h"

namespace workerpair::controller {

// Registers the families in `registry` and sets `options`' on_demand / on_outcome to update
// them. The registry must outlive the table.
void AttachControllerMetrics(MetricsRegistry& registry, JobTableOptions& options);

}  // namespace workerpair::controller

#endif  // WORKERPAIR_SERVICES_CONTROLLER_CONTROLLER_SERVICE_METRICS_H_
