#include "services/heavy/payload_reactor.h"

#include "services/heavy/payload_metrics.h"

namespace workerpair::heavy {

void FillReplicaLoad(const admission::SchedulerStats& stats, v1::ReplicaLoad* load) {
  load->set_slots(static_cast<std::uint32_t>(stats.slots));
  load->set_running(static_cast<std::uint32_t>(stats.running));
  load->set_queued(static_cast<std::uint32_t>(stats.queued));
  load->set_queue_capacity(static_cast<std::uint32_t>(stats.queue_capacity));
  load->set_draining(stats.draining);
}

void KeepInCache(intake::PayloadCache* cache, intake::JobPayload& payload) {
  if (cache == nullptr || !cache->enabled() || payload.cached() || !payload.placeable()) return;
  std::shared_ptr<const intake::CachedPayload> kept = payload.KeepIn(*cache);
  if (kept) payload = intake::JobPayload::Cached(std::move(kept));
}

absl::Status CallCancelledStatus(const grpc::CallbackServerContext* context) {
  if (context != nullptr && context->deadline() <= std::chrono::system_clock::now()) {
    return absl::DeadlineExceededError("the call's deadline passed; the job was cancelled");
  }
  return absl::CancelledError("the call was cancelled; the job was cancelled");
}

void BuildSceneReactor::Shared::Finish(const absl::Status& status,
                                       v1::BuildSceneResponse* value) {
  std::lock_guard<std::mutex> lock(mu);
  if (finished || reactor == nullptr) return;
  finished = true;
  if (status.ok() && value != nullptr) *response = std::move(*value);
  reactor->Finish(ToGrpcStatus(status));
}

void BuildSceneReactor::Shared::Finish(const grpc::Status& status) {
  std::lock_guard<std::mutex> lock(mu);
  if (finished || reactor == nullptr) return;
  finished = true;
  reactor->Finish(status);
}

void BuildSceneReactor::Shared::Read(v1::BuildSceneRequest* request) {
  std::lock_guard<std::mutex> lock(mu);
  if (finished || reactor == nullptr) return;
  reactor->StartRead(request);
}

void BuildSceneReactor::Shared::UploadMessage() {
  std::lock_guard<std::mutex> lock(mu);
  last_upload_message = absl::Now();
}

void BuildSceneReactor::Shared::UploadOver() {
  std::lock_guard<std::mutex> lock(mu);
  upload_open = false;
}

bool BuildSceneReactor::Shared::Tick(absl::Time now) {
  {
    std::lock_guard<std::mutex> lock(mu);
    if (finished || reactor == nullptr || !upload_open) return false;
    if (idle_timeout <= absl::ZeroDuration() || now - last_upload_message < idle_timeout) {
      return true;
    }
    upload_open = false;
  }
  RecordUploadIdleTimeout();
  Finish(UploadIdleStatus(idle_timeout));
  return false;
}

BuildSceneReactor::BuildSceneReactor(grpc::CallbackServerContext* context,
                                     v1::BuildSceneResponse* response, PayloadCallEnv env,
                                     Run run)
    : context_(context),
      env_(env),
      run_(std::move(run)),
      shared_(std::make_shared<Shared>()),
      log_(std::make_shared<JobPhaseLog>(context->client_metadata(), "build_scene")) {
  shared_->reactor = this;
  shared_->response = response;
  shared_->idle_timeout = env_.Clock().idle_timeout;
  env_.calls->Add();
  env_.Watch(shared_);
  shared_->Read(&request_);
}

void BuildSceneReactor::Fail(const absl::Status& status) {
  std::shared_ptr<admission::JobHandle> handle;
  {
    std::lock_guard<std::mutex> lock(mu_);
    handle = handle_;
  }
  if (!handle) log_->Rejected(status);
  if (handle) handle->Cancel(status);
  shared_->Finish(status, nullptr);
}

void BuildSceneReactor::OnReadDone(bool ok) {
  if (!ok) {
    if (!have_header_) {
      return Fail(WithReason(absl::InvalidArgumentError("the stream ended before the header"),
                             ErrorReason::kPayloadInvalid));
    }
    if (assembler_) {
      absl::StatusOr<intake::ReceivedPayload> payload = assembler_->Finish();
      assembler_.reset();
      return Fail(payload.ok() ? absl::InternalError("payload finished twice") : payload.status());
    }
    return;  // submitted: the job finishes the call
  }
  if (!submitted_) shared_->UploadMessage();
  if (!have_header_) {
    if (request_.kind_case() != v1::BuildSceneRequest::kHeader) {
      return Fail(WithReason(absl::InvalidArgumentError("the first message must be the header"),
                             ErrorReason::kPayloadInvalid));
    }
    header_ = request_;
    have_header_ = true;
    if (absl::Status status = env_.scheduler->CheckCapacity(); !status.ok()) return Fail(status);
    const v1::PayloadInfo& info = header_.header().payload();
    log_->log().SetPayloadSha256(info.sha256());
    absl::StatusOr<intake::PayloadAssembler> assembler =
        intake::StartPayload(info.size_bytes(), info.sha256(), *env_.intake, env_.Storage());
    if (!assembler.ok()) return Fail(assembler.status());
    assembler_.emplace(std::move(*assembler));
    return shared_->Read(&request_);
  }
  if (!assembler_) {
    if (request_.kind_case() == v1::BuildSceneRequest::kChunk && request_.chunk().empty()) {
      return shared_->Read(&request_);
    }
    return Fail(WithReason(absl::InvalidArgumentError(
                               "payload has more bytes than declared, or a message followed it"),
                           ErrorReason::kPayloadInvalid));
  }
  if (request_.kind_case() != v1::BuildSceneRequest::kChunk) {
    assembler_.reset();
    return Fail(WithReason(absl::InvalidArgumentError("only payload chunks may follow the header"),
                           ErrorReason::kPayloadInvalid));
  }
  env_.CountChunk();
  if (absl::Status status = assembler_->Append(request_.chunk()); !status.ok()) {
    assembler_.reset();
    return Fail(status);
  }
  request_.clear_chunk();
  if (!assembler_->complete()) return shared_->Read(&request_);
  absl::StatusOr<intake::ReceivedPayload> payload = assembler_->Finish();
  assembler_.reset();
  submitted_ = true;
  shared_->UploadOver();
  if (!payload.ok()) return Fail(payload.status());
  Submit(std::make_shared<intake::JobPayload>(
      intake::JobPayload::Received(header_.header().payload().sha256(), std::move(*payload))));
  shared_->Read(&request_);
}

void BuildSceneReactor::Submit(std::shared_ptr<intake::JobPayload> payload) {
  admission::JobSpec job;
  job.kind = "build_scene";
  job.request_id = log_->log().trace().request_id;
  std::shared_ptr<Shared> shared = shared_;
  std::shared_ptr<JobPhaseLog> log = log_;
  auto header = std::make_shared<const v1::BuildSceneRequest>(header_);
  Run run = run_;
  // The response waits in `result` until the slot is free, then ends the call.
  auto result = std::make_shared<v1::BuildSceneResponse>();
  intake::PayloadCache* cache = env_.Cache();
  job.run = [header, payload, run, result, cache, log](
                admission::JobContext& context) -> absl::Status {
    log->Started(context.id(), static_cast<std::uint64_t>(
                                   absl::ToInt64Milliseconds(context.queued_for())));
    KeepInCache(cache, *payload);
    absl::StatusOr<v1::BuildSceneResponse> response = run(context, *header, *payload);
    absl::Status status = response.status();
    if (context.cancelled() && !status.ok()) status = context.cancel_reason();
    if (status.ok()) *result = std::move(*response);
    return status;
  };
  job.on_finished = [shared, result, log](absl::Status status) {
    if (status.ok()) {
      log->log().Info("outcome", {{"compile_ms", JobLogValue::Number(result->compile_ms())},
                                  {"bodies", JobLogValue::Number(result->stats().bodies())}});
    }
    log->Finished(status);
    shared->Finish(status, status.ok() ? result.get() : nullptr);
  };
  job.abandon = [shared, log](absl::Status why) {
    log->Finished(why);
    shared->Finish(why, nullptr);
  };
  job.on_work_phase = [log](const std::string& previous, const std::string& next) {
    log->Phase(previous, next);
  };
  absl::StatusOr<std::shared_ptr<admission::JobHandle>> handle =
      env_.scheduler->Submit(std::move(job));
  if (!handle.ok()) return Fail(handle.status());
  log_->Accepted((*handle)->id(), (*handle)->admitted_position());
  bool cancelled = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    handle_ = *handle;
    cancelled = cancelled_;
  }
  if (cancelled) (*handle)->Cancel(CallCancelledStatus(context_));
}

void BuildSceneReactor::OnCancel() {
  const absl::Status reason = CallCancelledStatus(context_);
  std::shared_ptr<admission::JobHandle> handle;
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    handle = handle_;
  }
  if (handle) handle->Cancel(reason);
  shared_->Finish(reason, nullptr);
}

void BuildSceneReactor::OnDone() {
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->reactor = nullptr;
    shared_->response = nullptr;
    shared_->finished = true;
  }
  std::shared_ptr<admission::JobHandle> handle;
  {
    std::lock_guard<std::mutex> lock(mu_);
    handle = handle_;
  }
  if (handle) handle->Cancel(absl::CancelledError("the call ended"));
  env_.calls->Remove();
  delete this;
}

}  // namespace workerpair::heavy
