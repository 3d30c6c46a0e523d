// ControllerService (proto/workerpair/v1/controller.proto): the thin gRPC adapter over the job
// table (job_table.h) and the job functions (controller_jobs.h), which run the same library
// calls as the `controller` CLI. Errors are mapped to gRPC once, here.
//
//   JobTable jobs(options);
//   ControllerServiceImpl service(light_pool, heavy, jobs);
//   runner.AddService(&service, v1::ControllerService::service_full_name());
#ifndef WORKERPAIR_SERVICES_CONTROLLER_CONTROLLER_SERVICE_H_
#define WORKERPAIR_SERVICES_CONTROLLER_CONTROLLER_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "services/controller/heavy_client.h"
#include "services/controller/job_table.h"
#include "services/controller/light_pool.h"
#include "workerpair/v1/controller.grpc.pb.h"

namespace workerpair::controller {

class ControllerServiceImpl final : public v1::ControllerService::Service {
 public:
  ControllerServiceImpl(LightPool& light, HeavyClient& heavy, JobTable& jobs)
      : light_(light), heavy_(heavy), jobs_(jobs) {}

  grpc::Status RunFlow(grpc::ServerContext* context, const v1::RunFlowRequest* request,
                       grpc::ServerWriter<v1::RunFlowResponse>* writer) override;
  grpc::Status RunSimulation(grpc::ServerContext* context, const v1::RunSimulationRequest* request,
                             grpc::ServerWriter<v1::RunSimulationResponse>* writer) override;
  grpc::Status SubmitJob(grpc::ServerContext* context, const v1::SubmitJobRequest* request,
                         v1::SubmitJobResponse* response) override;
  grpc::Status WatchJob(grpc::ServerContext* context, const v1::WatchJobRequest* request,
                        grpc::ServerWriter<v1::WatchJobResponse>* writer) override;
  grpc::Status GetJob(grpc::ServerContext* context, const v1::GetJobRequest* request,
                      v1::GetJobResponse* response) override;
  grpc::Status CancelJob(grpc::ServerContext* context, const v1::CancelJobRequest* request,
                         v1::CancelJobResponse* response) override;
  grpc::Status ListJobs(grpc::ServerContext* context, const v1::ListJobsRequest* request,
                        v1::ListJobsResponse* response) override;
  grpc::Status GetPoolStatus(grpc::ServerContext* context, const v1::GetPoolStatusRequest* request,
                             v1::GetPoolStatusResponse* response) override;

 private:
  // The job runs under the caller's request trace (x-request-id, traceparent from
  // `context`'s metadata, else new ones): every call it makes to the workers carries it.
  absl::StatusOr<JobSnapshot> Submit(const grpc::ServerContext& context, const v1::JobSpec& spec,
                                     const std::string& caller, v1::JobPriority priority,
                                     double max_wait_s);

  LightPool& light_;
  HeavyClient& heavy_;
  JobTable& jobs_;
};

// A job snapshot as the API's Job; the result's artifacts only with `include_artifacts`.
v1::Job ToProtoJob(const JobSnapshot& snapshot, bool include_result, bool include_artifacts);

}  // namespace workerpair::controller

#endif  // WORKERPAIR_SERVICES_CONTROLLER_CONTROLLER_SERVICE_H_
