// The callback reactors behind worker-heavy's payload calls.
//
// Simulate, Verify and RenderViews share one shape: the client streams a header and payload
// chunks; the server streams events. PayloadStreamReactor<Request, Event> implements it once:
//   1. the header is checked (options, size, digest shape, a fail-fast capacity check, the
//      upload budget: UPLOADS_BUSY while the store the payload would use is at its cap);
//   2. chunks are appended to a PayloadAssembler as they arrive (size checked on every chunk,
//      bytes counted in the budget as they arrive, large payloads spilled to a scratch file);
//      an upload with no message for the idle timeout is ended (DEADLINE_EXCEEDED);
//   3. when the declared size is reached the digest is checked and the job is submitted to the
//      Scheduler (partial uploads never hold a slot or a queue place); "accepted" (job id,
//      queue position, load, heartbeat interval) is the first event;
//      with PayloadInfo.ask_cached (heavy.proto, "Payload cache") the header is answered first
//      with `payload_cache`: when the PayloadCache holds exactly that digest and size the entry
//      is pinned, the job submitted at once and no chunk is awaited (any that still come are
//      read and dropped, up to the declared size); otherwise the upload goes on as above. The
//      job puts a verified upload into the cache when it starts (a copy, off the gRPC threads);
//   4. the job runs on a scheduler thread and emits events through the EventSession, which
//      writes them one at a time and adds a Heartbeat whenever the stream was silent for the
//      heartbeat interval (queued or running, whatever the phase); the job's status ends the
//      call.
// Cancellation or the deadline cancels the job (queued or running). Reactions never block on
// jobs: all blocking work (unpack, compile, simulate, render) happens in the job, on the
// scheduler's threads; a spilled chunk is one buffered write to the scratch file.
// BuildSceneReactor is the client-streaming/unary variant for BuildScene: its response is unary,
// so it has no stream to carry heartbeats (a client bounds it with a deadline); the idle
// timeout and the upload budget apply to it too.
#ifndef WORKERPAIR_SERVICES_HEAVY_PAYLOAD_REACTOR_H_
#define WORKERPAIR_SERVICES_HEAVY_PAYLOAD_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "libs/common/error_reason.h"
#include "libs/rpc/grpc_status.h"
#include "libs/common/str_cat.h"
#include "services/heavy/call_ticker.h"
#include "services/heavy/core/admission/scheduler.h"
#include "services/heavy/core/intake/job_payload.h"
#include "services/heavy/core/intake/payload_cache.h"
#include "services/heavy/core/intake/payload_intake.h"
#include "services/heavy/core/intake/received_payload.h"
#include "services/heavy/event_session.h"
#include "services/heavy/job_phase_log.h"
#include "services/heavy/payload_call_hub.h"
#include "workerpair/v1/heavy.grpc.pb.h"

namespace workerpair::heavy {

// Counts live calls so that a drain can wait for their final statuses to go out.
class CallTracker {
 public:
  void Add() {
    std::lock_guard<std::mutex> lock(mu_);
    ++live_;
  }
  void Remove() {
    std::lock_guard<std::mutex> lock(mu_);
    --live_;
    cv_.notify_all();
  }
  // True when no call is live by `deadline`.
  bool WaitNone(absl::Time deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, absl::ToChronoTime(deadline), [this] { return live_ == 0; });
  }
  int live() const {
    std::lock_guard<std::mutex> lock(mu_);
    return live_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int live_ = 0;
};

// The cancellation status for a call that gRPC reports cancelled.
absl::Status CallCancelledStatus(const grpc::CallbackServerContext* context);

// The scheduler's load as the API reports it.
void FillReplicaLoad(const admission::SchedulerStats& stats, v1::ReplicaLoad* load);

// Puts a verified upload into `cache` (null: none) and has `payload` use the kept entry, so that
// the upload's bytes (and its share of the UploadBudget) are freed now. Called at the start of
// the job, on a scheduler thread: the copy never runs on gRPC's threads.
void KeepInCache(intake::PayloadCache* cache, intake::JobPayload& payload);

// Everything a payload call needs from the service.
struct PayloadCallEnv {
  admission::Scheduler* scheduler;
  const intake::IntakeLimits* intake;
  CallTracker* calls;
  // Budget, ticker, spill space; null: no budget, no heartbeats, no idle timeout.
  PayloadCallHub* hub = nullptr;

  SessionClock Clock() const {
    if (hub == nullptr) return {};
    return {hub->heartbeat_interval(), hub->idle_timeout(), hub->ticker()->period()};
  }
  intake::PayloadStorage Storage() const {
    return hub == nullptr ? intake::PayloadStorage{} : hub->storage();
  }
  intake::PayloadCache* Cache() const { return hub == nullptr ? nullptr : hub->cache(); }
  void CountChunk() const {
    if (hub != nullptr) hub->CountChunk();
  }
  void Watch(std::weak_ptr<TickTarget> target) const {
    if (hub != nullptr) hub->ticker()->Add(std::move(target));
  }
};

// The per-call part: what kind of job, how to check the header, how to run it.
template <typename Request, typename Event>
struct PayloadCallSpec {
  using Emit = std::function<bool(Event)>;
  // "simulate", "verify", "render_views".
  std::string kind;
  // Checks the header's options (not the payload info); an error ends the call.
  std::function<absl::Status(const Request& header)> check_header;
  // Runs the job on a scheduler thread. `payload` is the verified archive (this call's upload,
  // or the cache's entry). Emits events (the final result included) and returns the call's
  // status.
  std::function<absl::Status(admission::JobContext& job, const Request& header,
                             intake::JobPayload& payload, const Emit& emit)>
      run;
};

template <typename Request, typename Event>
class PayloadStreamReactor final : public grpc::ServerBidiReactor<Request, Event> {
 public:
  using Session = EventSession<Request, Event>;
  using Spec = PayloadCallSpec<Request, Event>;

  PayloadStreamReactor(grpc::CallbackServerContext* context, PayloadCallEnv env, Spec spec)
      : context_(context),
        env_(env),
        spec_(std::move(spec)),
        log_(std::make_shared<JobPhaseLog>(context->client_metadata(), spec_.kind)),
        session_(std::make_shared<Session>(this, env_.Clock(),
                                           [context] { context->TryCancel(); })) {
    env_.calls->Add();
    env_.Watch(session_);
    session_->Read(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) return OnClientDone();
    if (stage_ != Stage::kSubmitted) session_->UploadMessage();
    if (stage_ == Stage::kHeader) return OnHeader();
    if (stage_ == Stage::kPayload) return OnChunk();
    // After the payload: only empty chunks may follow; after a cache hit, the chunks of a client
    // that sends them anyway, up to the declared size, are dropped.
    if (request_.kind_case() == Request::kChunk && request_.chunk().size() <= discard_left_) {
      discard_left_ -= request_.chunk().size();
      if (!request_.chunk().empty()) env_.CountChunk();
      request_.clear_chunk();
      return session_->Read(&request_);
    }
    Fail(WithReason(absl::InvalidArgumentError(
                        StrCat("payload has more bytes than the declared ", declared_size_,
                               ", or a message followed it")),
                    ErrorReason::kPayloadInvalid));
  }

  void OnWriteDone(bool ok) override { session_->WriteDone(ok); }

  void OnCancel() override {
    const absl::Status reason = CallCancelledStatus(context_);
    std::shared_ptr<admission::JobHandle> handle;
    {
      std::lock_guard<std::mutex> lock(mu_);
      cancelled_ = true;
      handle = handle_;
    }
    if (handle) handle->Cancel(reason);
    session_->Finish(ToGrpcStatus(reason), /*drop_pending=*/true);
  }

  void OnDone() override {
    session_->Done();
    std::shared_ptr<admission::JobHandle> handle;
    {
      std::lock_guard<std::mutex> lock(mu_);
      handle = handle_;
    }
    // The call is over however it ended: a job still queued or running is not wanted.
    if (handle) handle->Cancel(absl::CancelledError("the call ended"));
    env_.calls->Remove();
    delete this;
  }

 private:
  enum class Stage { kHeader, kPayload, kSubmitted };

  void Fail(const absl::Status& status) {
    std::shared_ptr<admission::JobHandle> handle;
    {
      std::lock_guard<std::mutex> lock(mu_);
      handle = handle_;
    }
    if (!handle) log_->Rejected(status);
    if (handle) handle->Cancel(status);
    session_->Finish(ToGrpcStatus(status), /*drop_pending=*/true);
  }

  void OnClientDone() {
    // The client half-closed (or the call broke). Before the payload is complete that is a
    // truncated payload; afterwards the job goes on.
    if (stage_ == Stage::kHeader) {
      return Fail(WithReason(absl::InvalidArgumentError("the stream ended before the header"),
                             ErrorReason::kPayloadInvalid));
    }
    if (stage_ == Stage::kPayload) {
      // Finish frees what the upload held (a call the ticker ended for idleness lands here
      // too; its status is already set and wins).
      absl::StatusOr<intake::ReceivedPayload> payload = assembler_->Finish();
      assembler_.reset();
      return Fail(payload.ok() ? absl::InternalError("payload finished twice") : payload.status());
    }
  }

  void OnHeader() {
    if (request_.kind_case() != Request::kHeader) {
      return Fail(WithReason(absl::InvalidArgumentError("the first message must be the header"),
                             ErrorReason::kPayloadInvalid));
    }
    header_ = request_;
    if (absl::Status status = spec_.check_header(header_); !status.ok()) return Fail(status);
    // Fail fast, before the payload travels, when this replica cannot take the job.
    if (absl::Status status = env_.scheduler->CheckCapacity(); !status.ok()) return Fail(status);
    const v1::PayloadInfo& info = header_.header().payload();
    log_->log().SetPayloadSha256(info.sha256());
    declared_size_ = info.size_bytes();
    intake::PayloadCache* cache = env_.Cache();
    if (info.ask_cached() && cache != nullptr) {
      if (std::shared_ptr<const intake::CachedPayload> held =
              cache->Find(info.sha256(), info.size_bytes())) {
        AnswerCached(true);
        stage_ = Stage::kSubmitted;
        discard_left_ = declared_size_;
        session_->UploadOver();
        Submit(intake::JobPayload::Cached(std::move(held)));
        return session_->Read(&request_);
      }
    }
    absl::StatusOr<intake::PayloadAssembler> assembler =
        intake::StartPayload(info.size_bytes(), info.sha256(), *env_.intake, env_.Storage());
    if (!assembler.ok()) return Fail(assembler.status());
    assembler_.emplace(std::move(*assembler));
    stage_ = Stage::kPayload;
    if (info.ask_cached()) AnswerCached(false);
    session_->Read(&request_);
  }

  void AnswerCached(bool cached) {
    Event answer;
    answer.mutable_payload_cache()->set_cached(cached);
    session_->EmitFirst(std::move(answer));
  }

  void OnChunk() {
    if (request_.kind_case() != Request::kChunk) {
      assembler_.reset();
      return Fail(WithReason(
          absl::InvalidArgumentError("only payload chunks may follow the header"),
          ErrorReason::kPayloadInvalid));
    }
    env_.CountChunk();
    if (absl::Status status = assembler_->Append(request_.chunk()); !status.ok()) {
      assembler_.reset();
      return Fail(status);
    }
    request_.clear_chunk();
    if (!assembler_->complete()) return session_->Read(&request_);
    absl::StatusOr<intake::ReceivedPayload> payload = assembler_->Finish();
    assembler_.reset();
    session_->UploadOver();
    if (!payload.ok()) return Fail(payload.status());
    stage_ = Stage::kSubmitted;
    Submit(intake::JobPayload::Received(header_.header().payload().sha256(), std::move(*payload)));
    session_->Read(&request_);
  }

  void Submit(intake::JobPayload job_payload) {
    admission::JobSpec job;
    job.kind = spec_.kind;
    job.request_id = log_->log().trace().request_id;
    std::shared_ptr<Session> session = session_;
    auto header = std::make_shared<const Request>(header_);
    auto run = spec_.run;
    auto payload = std::make_shared<intake::JobPayload>(std::move(job_payload));
    intake::PayloadCache* cache = env_.Cache();
    std::shared_ptr<JobPhaseLog> log = log_;
    job.run = [session, header, payload, run, cache, log](
                  admission::JobContext& context) -> absl::Status {
      KeepInCache(cache, *payload);
      Event started;
      const auto queued_ms =
          static_cast<std::uint64_t>(absl::ToInt64Milliseconds(context.queued_for()));
      started.mutable_started()->set_queued_ms(queued_ms);
      log->Started(context.id(), queued_ms);
      session->Emit(std::move(started));
      typename Spec::Emit emit = [session, log](Event event) {
        log->Observe(event);
        return session->Emit(std::move(event));
      };
      absl::Status status = run(context, *header, *payload, emit);
      if (context.cancelled() && !status.ok()) status = context.cancel_reason();
      return status;
    };
    // The call ends once the slot is free (and the scratch directory gone).
    job.on_finished = [session, log](absl::Status status) {
      log->Finished(status);
      session->Finish(ToGrpcStatus(status));
    };
    job.abandon = [session, log](absl::Status why) {
      log->Finished(why);
      session->Finish(ToGrpcStatus(why), /*drop_pending=*/true);
    };
    job.on_work_phase = [log](const std::string& previous, const std::string& next) {
      log->Phase(previous, next);
    };
    job.on_queue_position = [session](int position) {
      Event update;
      update.mutable_queue()->set_queue_position(static_cast<std::uint32_t>(position));
      session->Emit(std::move(update));
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
    Event accepted;
    v1::JobAccepted* info = accepted.mutable_accepted();
    info->set_job_id((*handle)->id());
    info->set_queue_position(static_cast<std::uint32_t>((*handle)->admitted_position()));
    info->set_slots(static_cast<std::uint32_t>(env_.scheduler->slots()));
    FillReplicaLoad(env_.scheduler->Stats(), info->mutable_load());
    const SessionClock clock = env_.Clock();
    info->set_heartbeat_interval_ms(
        static_cast<std::uint32_t>(absl::ToInt64Milliseconds(clock.heartbeat_interval)));
    admission::Scheduler* scheduler = env_.scheduler;
    std::weak_ptr<admission::JobHandle> weak_handle = *handle;
    session_->MarkAccepted(std::move(accepted), [scheduler, weak_handle](v1::Heartbeat* beat) {
      std::shared_ptr<admission::JobHandle> admitted = weak_handle.lock();
      beat->set_phase(admitted ? admitted->work_phase() : "finishing");
      FillReplicaLoad(scheduler->Stats(), beat->mutable_load());
    });
  }

  grpc::CallbackServerContext* context_;
  PayloadCallEnv env_;
  Spec spec_;
  std::shared_ptr<JobPhaseLog> log_;  // shared with the job's callbacks
  std::shared_ptr<Session> session_;
  // Touched only by the read chain (one reaction at a time).
  Request request_;
  Request header_;
  Stage stage_ = Stage::kHeader;
  std::optional<intake::PayloadAssembler> assembler_;
  std::uint64_t declared_size_ = 0;
  std::uint64_t discard_left_ = 0;  // after a cache hit: chunk bytes still dropped
  // Shared with OnCancel / OnDone.
  std::mutex mu_;
  std::shared_ptr<admission::JobHandle> handle_;
  bool cancelled_ = false;
};

// BuildScene: the same header-and-chunks client stream, answered with one response.
class BuildSceneReactor final : public grpc::ServerReadReactor<v1::BuildSceneRequest> {
 public:
  using Run = std::function<absl::StatusOr<v1::BuildSceneResponse>(
      admission::JobContext& job, const v1::BuildSceneRequest& header,
      intake::JobPayload& payload)>;

  BuildSceneReactor(grpc::CallbackServerContext* context, v1::BuildSceneResponse* response,
                    PayloadCallEnv env, Run run);

  void OnReadDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // Shared with the job and the ticker: finishes the call once, while the reactor exists, and
  // ends an upload idle for the timeout.
  struct Shared final : TickTarget {
    std::mutex mu;
    BuildSceneReactor* reactor = nullptr;
    v1::BuildSceneResponse* response = nullptr;
    bool finished = false;
    absl::Duration idle_timeout;
    absl::Time last_upload_message = absl::Now();
    bool upload_open = true;
    void Finish(const absl::Status& status, v1::BuildSceneResponse* value);
    void Finish(const grpc::Status& status);
    void Read(v1::BuildSceneRequest* request);
    void UploadMessage();
    void UploadOver();
    bool Tick(absl::Time now) override;
  };

  void Fail(const absl::Status& status);
  void Submit(std::shared_ptr<intake::JobPayload> payload);

  grpc::CallbackServerContext* context_;
  PayloadCallEnv env_;
  Run run_;
  std::shared_ptr<Shared> shared_;
  v1::BuildSceneRequest request_;
  v1::BuildSceneRequest header_;
  bool have_header_ = false;
  bool submitted_ = false;
  std::optional<intake::PayloadAssembler> assembler_;
  std::mutex mu_;
  std::shared_ptr<admission::JobHandle> handle_;
  bool cancelled_ = false;
  std::shared_ptr<JobPhaseLog> log_;  // shared with the job's callbacks
};

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_PAYLOAD_REACTOR_H_
