// HeavyService: the gRPC adapter of worker-heavy (callback API).
//
// Simulate, Verify and RenderViews are PayloadStreamReactors, BuildScene a BuildSceneReactor
// (payload_reactor.h); their jobs run on the Scheduler's threads (job_runner.h). Info answers
// on the spot from counters, never waiting for a slot.
//
//   Scheduler scheduler({.slots = 4, .queue_capacity = 8});
//   HeavyService heavy(&scheduler, scratch.get(), runners.get(), &config);
//   runner.AddService(&heavy, v1::HeavyService::service_full_name());
//   runner.RunUntilSignal([&](absl::Time deadline) { heavy.Drain(deadline); });
#ifndef WORKERPAIR_SERVICES_HEAVY_HEAVY_SERVICE_H_
#define WORKERPAIR_SERVICES_HEAVY_HEAVY_SERVICE_H_

#include "absl/time/time.h"
#include "services/heavy/core/admission/scheduler.h"
#include "services/heavy/core/intake/scratch.h"
#include "services/heavy/job_runner.h"
#include "services/heavy/payload_call_hub.h"
#include "services/heavy/payload_reactor.h"
#include "workerpair/v1/heavy.grpc.pb.h"

namespace workerpair::heavy {

class HeavyService final : public v1::HeavyService::CallbackService {
 public:
  // `runners` runs the jobs (one runner per slot); it must outlive the service.
  HeavyService(admission::Scheduler* scheduler, intake::ScratchSpace* scratch, RunnerPool* runners,
               const HeavyConfig* config);

  grpc::ServerBidiReactor<v1::SimulateRequest, v1::SimulateResponse>* Simulate(
      grpc::CallbackServerContext* context) override;
  grpc::ServerBidiReactor<v1::VerifyRequest, v1::VerifyResponse>* Verify(
      grpc::CallbackServerContext* context) override;
  grpc::ServerBidiReactor<v1::RenderViewsRequest, v1::RenderViewsResponse>* RenderViews(
      grpc::CallbackServerContext* context) override;
  grpc::ServerReadReactor<v1::BuildSceneRequest>* BuildScene(
      grpc::CallbackServerContext* context, v1::BuildSceneResponse* response) override;
  grpc::ServerUnaryReactor* Info(grpc::CallbackServerContext* context,
                                 const v1::InfoRequest* request,
                                 v1::InfoResponse* response) override;

  // On SIGTERM (after health reports NOT_SERVING): stops admitting, lets running jobs finish
  // until `deadline`, ends the rest with UNAVAILABLE, and waits briefly for their final
  // statuses to reach the callers.
  void Drain(absl::Time deadline);

  // The upload budget (for metrics).
  const intake::UploadBudget& uploads() const { return hub_.budget(); }
  // Payload calls' shared state (the payload cache and chunk counts), for metrics.
  const PayloadCallHub& payloads() const { return hub_; }

 private:
  PayloadCallEnv CallEnv() { return {scheduler_, &config_->intake, &calls_, &hub_}; }

  admission::Scheduler* scheduler_;
  RunnerPool* runners_;
  const HeavyConfig* config_;
  JobEnv env_;
  CallTracker calls_;
  // Upload budget, heartbeat/idle ticker, spill space: shared by the payload calls.
  PayloadCallHub hub_;
  absl::Time started_ = absl::Now();
};

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_HEAVY_SERVICE_H_
