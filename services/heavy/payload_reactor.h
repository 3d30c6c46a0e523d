// The callback reactors behind worker-heavy's payload calls.
//
// Simulate, Verify and RenderViews share one shape: the client streams a header and payload
// chunks; the server streams events. PayloadStreamReactor<Request, Event> implements it once:
//   1. the header is checked (options, size, digest shape, a fail-fast capacity check);
//   2. chunks are appended to a PayloadAssembler as they arrive (size checked on every chunk);
//   3. when the declared size is reached the digest is checked and the job is submitted to the
//      Scheduler; "accepted" (job id, queue position) is the first event;
//   4. the job runs on a scheduler thread and emits events through the Session, which writes
//      them one at a time; the job's status ends the call.
// Cancellation or the deadline cancels the job (queued or running). Reactions never block: all
// blocking work (unpack, compile, simulate, render) happens in the job, on the scheduler's
// threads. BuildSceneReactor is the client-streaming/unary variant for BuildScene.
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
#include "libs/common/grpc_status.h"
#include "libs/common/str_cat.h"
#include "services/heavy/core/admission/scheduler.h"
#include "services/heavy/core/intake/payload_intake.h"
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

// Writes a bidi call's events one at a time and finishes it, from any thread. Every
// StartWrite/Finish happens under the session's lock, and only while the call is not finished;
// gRPC runs the reactions of these operations on its own threads (never inline), so no
// reaction re-enters the lock.
template <typename Request, typename Event>
class EventSession {
 public:
  using Reactor = grpc::ServerBidiReactor<Request, Event>;

  explicit EventSession(Reactor* reactor) : reactor_(reactor) {}

  // Queues an event; blocks (job threads only) while more than kMaxQueued wait to be written.
  // Events emitted before MarkAccepted are held back so that "accepted" is always first.
  // Returns false once the call is finishing (the event is dropped).
  bool Emit(Event event) {
    std::unique_lock<std::mutex> lock(mu_);
    space_cv_.wait(lock, [this] { return finish_requested_ || queue_.size() < kMaxQueued; });
    if (finish_requested_) return false;
    if (!accepted_) {
      held_.push_back(std::move(event));
      return true;
    }
    queue_.push_back(std::move(event));
    PumpLocked();
    return true;
  }

  // Queues `accepted` first, then what was held back.
  void MarkAccepted(Event accepted) {
    std::lock_guard<std::mutex> lock(mu_);
    if (finish_requested_) return;
    accepted_ = true;
    queue_.push_back(std::move(accepted));
    for (Event& event : held_) queue_.push_back(std::move(event));
    held_.clear();
    PumpLocked();
  }

  // Ends the call with `status` after the queued events (or at once, dropping them, when
  // `drop_pending`). Idempotent: the first status wins.
  void Finish(const grpc::Status& status, bool drop_pending = false) {
    std::lock_guard<std::mutex> lock(mu_);
    if (finish_requested_) return;
    finish_requested_ = true;
    final_status_ = status;
    if (drop_pending) queue_.clear();
    held_.clear();
    space_cv_.notify_all();
    PumpLocked();
  }

  // Starts the next read, unless the call is finishing.
  void Read(Request* request) {
    std::lock_guard<std::mutex> lock(mu_);
    if (finished_ || finish_requested_) return;
    reactor_->StartRead(request);
  }

  // From OnWriteDone.
  void WriteDone(bool ok) {
    std::lock_guard<std::mutex> lock(mu_);
    write_in_flight_ = false;
    if (!ok) {
      // The stream is broken (cancelled): nothing more can be written.
      queue_.clear();
      if (!finish_requested_) {
        finish_requested_ = true;
        final_status_ = grpc::Status(grpc::StatusCode::CANCELLED, "the stream broke");
      }
    }
    space_cv_.notify_all();
    PumpLocked();
  }

  // From OnDone: the reactor is gone.
  void Done() {
    std::lock_guard<std::mutex> lock(mu_);
    finished_ = true;
    finish_requested_ = true;
    reactor_ = nullptr;
    queue_.clear();
    held_.clear();
    space_cv_.notify_all();
  }

  bool finishing() const {
    std::lock_guard<std::mutex> lock(mu_);
    return finish_requested_;
  }

 private:
  static constexpr std::size_t kMaxQueued = 16;

  void PumpLocked() {
    if (finished_ || write_in_flight_ || reactor_ == nullptr) return;
    if (!queue_.empty()) {
      current_ = std::move(queue_.front());
      queue_.pop_front();
      write_in_flight_ = true;
      reactor_->StartWrite(&current_);
      space_cv_.notify_all();
      return;
    }
    if (finish_requested_) {
      finished_ = true;
      reactor_->Finish(final_status_);
    }
  }

  mutable std::mutex mu_;
  std::condition_variable space_cv_;
  Reactor* reactor_;
  std::deque<Event> queue_;
  std::vector<Event> held_;
  Event current_;
  bool accepted_ = false;
  bool write_in_flight_ = false;
  bool finish_requested_ = false;
  bool finished_ = false;
  grpc::Status final_status_;
};

// Everything a payload call needs from the service.
struct PayloadCallEnv {
  Scheduler* scheduler;
  const IntakeLimits* intake;
  CallTracker* calls;
};

// The per-call part: what kind of job, how to check the header, how to run it.
template <typename Request, typename Event>
struct PayloadCallSpec {
  using Emit = std::function<bool(Event)>;
  // "simulate", "verify", "render_views".
  std::string kind;
  // Checks the header's options (not the payload info); an error ends the call.
  std::function<absl::Status(const Request& header)> check_header;
  // Runs the job on a scheduler thread. `payload` is the verified archive. Emits events
  // (the final result included) and returns the call's status.
  std::function<absl::Status(JobContext& job, const Request& header, const std::string& payload,
                             const Emit& emit)>
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
        session_(std::make_shared<Session>(this)) {
    env_.calls->Add();
    session_->Read(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) return OnClientDone();
    if (stage_ == Stage::kHeader) return OnHeader();
    if (stage_ == Stage::kPayload) return OnChunk();
    // After the payload: only empty chunks may follow.
    if (request_.kind_case() == Request::kChunk && request_.chunk().empty()) {
      return session_->Read(&request_);
    }
    Fail(absl::InvalidArgumentError(
        StrCat("payload has more bytes than the declared ", declared_size_,
               ", or a message followed it")));
  }

  void OnWriteDone(bool ok) override { session_->WriteDone(ok); }

  void OnCancel() override {
    const absl::Status reason = CallCancelledStatus(context_);
    std::shared_ptr<JobHandle> handle;
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
    std::shared_ptr<JobHandle> handle;
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
    std::shared_ptr<JobHandle> handle;
    {
      std::lock_guard<std::mutex> lock(mu_);
      handle = handle_;
    }
    if (handle) handle->Cancel(status);
    session_->Finish(ToGrpcStatus(status), /*drop_pending=*/true);
  }

  void OnClientDone() {
    // The client half-closed (or the call broke). Before the payload is complete that is a
    // truncated payload; afterwards the job goes on.
    if (stage_ == Stage::kHeader) {
      return Fail(absl::InvalidArgumentError("the stream ended before the header"));
    }
    if (stage_ == Stage::kPayload) {
      absl::StatusOr<std::string> payload = assembler_->Finish();
      return Fail(payload.ok() ? absl::InternalError("payload finished twice") : payload.status());
    }
  }

  void OnHeader() {
    if (request_.kind_case() != Request::kHeader) {
      return Fail(absl::InvalidArgumentError("the first message must be the header"));
    }
    header_ = request_;
    if (absl::Status status = spec_.check_header(header_); !status.ok()) return Fail(status);
    // Fail fast, before the payload travels, when this replica cannot take the job.
    if (absl::Status status = env_.scheduler->CheckCapacity(); !status.ok()) return Fail(status);
    const v1::PayloadInfo& info = header_.header().payload();
    absl::StatusOr<PayloadAssembler> assembler =
        StartPayload(info.size_bytes(), info.sha256(), *env_.intake);
    if (!assembler.ok()) return Fail(assembler.status());
    declared_size_ = info.size_bytes();
    assembler_.emplace(std::move(*assembler));
    stage_ = Stage::kPayload;
    session_->Read(&request_);
  }

  void OnChunk() {
    if (request_.kind_case() != Request::kChunk) {
      return Fail(absl::InvalidArgumentError("only payload chunks may follow the header"));
    }
    if (absl::Status status = assembler_->Append(request_.chunk()); !status.ok()) {
      return Fail(status);
    }
    request_.clear_chunk();
    if (!assembler_->complete()) return session_->Read(&request_);
    absl::StatusOr<std::string> payload = assembler_->Finish();
    assembler_.reset();
    if (!payload.ok()) return Fail(payload.status());
    stage_ = Stage::kSubmitted;
    Submit(std::make_shared<const std::string>(std::move(*payload)));
    session_->Read(&request_);
  }

  void Submit(std::shared_ptr<const std::string> payload) {
    JobSpec job;
    job.kind = spec_.kind;
    std::shared_ptr<Session> session = session_;
    auto header = std::make_shared<const Request>(header_);
    auto run = spec_.run;
    job.run = [session, header, payload, run](JobContext& context) -> absl::Status {
      Event started;
      started.mutable_started()->set_queued_ms(
          static_cast<std::uint64_t>(absl::ToInt64Milliseconds(context.queued_for())));
      session->Emit(std::move(started));
      typename Spec::Emit emit = [session](Event event) { return session->Emit(std::move(event)); };
      absl::Status status = run(context, *header, *payload, emit);
      if (context.cancelled() && !status.ok()) status = context.cancel_reason();
      return status;
    };
    // The call ends once the slot is free (and the scratch directory gone).
    job.on_finished = [session](absl::Status status) { session->Finish(ToGrpcStatus(status)); };
    job.abandon = [session](absl::Status why) {
      session->Finish(ToGrpcStatus(why), /*drop_pending=*/true);
    };
    job.on_queue_position = [session](int position) {
      Event update;
      update.mutable_queue()->set_queue_position(static_cast<std::uint32_t>(position));
      session->Emit(std::move(update));
    };
    absl::StatusOr<std::shared_ptr<JobHandle>> handle = env_.scheduler->Submit(std::move(job));
    if (!handle.ok()) return Fail(handle.status());
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
    session_->MarkAccepted(std::move(accepted));
  }

  grpc::CallbackServerContext* context_;
  PayloadCallEnv env_;
  Spec spec_;
  std::shared_ptr<Session> session_;
  // Touched only by the read chain (one reaction at a time).
  Request request_;
  Request header_;
  Stage stage_ = Stage::kHeader;
  std::optional<PayloadAssembler> assembler_;
  std::uint64_t declared_size_ = 0;
  // Shared with OnCancel / OnDone.
  std::mutex mu_;
  std::shared_ptr<JobHandle> handle_;
  bool cancelled_ = false;
};

// BuildScene: the same header-and-chunks client stream, answered with one response.
class BuildSceneReactor final : public grpc::ServerReadReactor<v1::BuildSceneRequest> {
 public:
  using Run = std::function<absl::StatusOr<v1::BuildSceneResponse>(
      JobContext& job, const v1::BuildSceneRequest& header, const std::string& payload)>;

  BuildSceneReactor(grpc::CallbackServerContext* context, v1::BuildSceneResponse* response,
                    PayloadCallEnv env, Run run);

  void OnReadDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // Shared with the job: finishes the call once, while the reactor exists.
  struct Shared {
    std::mutex mu;
    BuildSceneReactor* reactor = nullptr;
    v1::BuildSceneResponse* response = nullptr;
    bool finished = false;
    void Finish(const absl::Status& status, v1::BuildSceneResponse* value);
    void Read(v1::BuildSceneRequest* request);
  };

  void Fail(const absl::Status& status);
  void Submit(std::shared_ptr<const std::string> payload);

  grpc::CallbackServerContext* context_;
  PayloadCallEnv env_;
  Run run_;
  std::shared_ptr<Shared> shared_;
  v1::BuildSceneRequest request_;
  v1::BuildSceneRequest header_;
  bool have_header_ = false;
  std::optional<PayloadAssembler> assembler_;
  std::mutex mu_;
  std::shared_ptr<JobHandle> handle_;
  bool cancelled_ = false;
};

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_PAYLOAD_REACTOR_H_
