// The controller service's jobs: a workerpair.v1 job spec (controller.proto) turned into a
// JobTable function over the same library calls the CLI makes (RunFlow, HeavyClient), and the
// result into its proto. No gRPC here; controller_service.cc is the adapter.
//
//   auto work = MakeJobWork(spec, light_pool, heavy);   // INVALID_ARGUMENT for a bad spec
//   jobs.Submit(JobKind(spec), caller, priority, *work);
#ifndef WORKERPAIR_SERVICES_CONTROLLER_CONTROLLER_JOBS_H_
#define WORKERPAIR_SERVICES_CONTROLLER_CONTROLLER_JOBS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/controller/heavy_client.h"
#include "services/controller/job_table.h"
#include "services/controller/light_pool.h"
#include "workerpair/v1/controller.pb.h"

namespace workerpair::controller {

// Largest scene payload a job takes (bundled or sent), as the CLI.
inline constexpr std::size_t kMaxJobPayloadBytes = std::size_t{256} << 20;

// "flow", "simulation", "verify", "render_views" or "build_scene"; empty for an empty spec.
std::string JobKind(const v1::JobSpec& spec);
// Every kind JobKind returns (the metrics' known label set).
const std::vector<std::string>& JobKinds();

// Checks the spec and returns its function. INVALID_ARGUMENT naming the field for a bad spec.
absl::StatusOr<JobWork> MakeJobWork(const v1::JobSpec& spec, LightPool& light,
                                    HeavyClient& heavy);

// The result a job function stored (JobOutcome::result); null when it has none.
std::shared_ptr<const v1::JobResult> JobResultOf(const std::any& result);

}  // namespace workerpair::controller

#endif  // WORKERPAIR_SERVICES_CONTROLLER_CONTROLLER_JOBS_H_
