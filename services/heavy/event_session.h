// EventSession: the write side of a payload call's bidi stream, and its clock.
//
// It writes the call's events one at a time and finishes the call, from any thread. It is also
// the call's TickTarget (call_ticker.h): while the upload is open it ends a call that receives
// no message for the idle timeout (DEADLINE_EXCEEDED, the upload's bytes freed with the
// reactor); once the job is admitted it sends a Heartbeat{phase, load} whenever no other event
// went out for the heartbeat interval. A heartbeat never waits behind other events: when a
// write is in flight or events are queued the stream is not silent, and none is sent. A client
// that takes no event for the idle timeout (one write in flight all that time: it stopped
// reading) has its call cancelled, so that its job does not hold a slot while it blocks.
//
// Every StartWrite/Finish happens under the session's lock, and only while the call is not
// finished; gRPC runs the reactions of these operations on its own threads (never inline), so
// no reaction re-enters the lock.
#ifndef WORKERPAIR_SERVICES_HEAVY_EVENT_SESSION_H_
#define WORKERPAIR_SERVICES_HEAVY_EVENT_SESSION_H_

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/common/str_cat.h"
#include "services/heavy/call_ticker.h"
#include "services/heavy/payload_metrics.h"
#include "workerpair/v1/heavy.pb.h"

namespace workerpair::heavy {

// The status that ends an upload idle for `timeout`.
grpc::Status UploadIdleStatus(absl::Duration timeout);

// How a session keeps time. Zero durations turn the feature off.
struct SessionClock {
  absl::Duration heartbeat_interval;
  absl::Duration idle_timeout;
  // The ticker's period: a heartbeat goes out once the silence is within a period of the
  // interval, so the gap between two events stays under the interval.
  absl::Duration tick_period;
};

template <typename Request, typename Event>
class EventSession final : public TickTarget {
 public:
  using Reactor = grpc::ServerBidiReactor<Request, Event>;
  // Fills a heartbeat's phase and load; called on the ticker thread, outside the session lock.
  using HeartbeatSource = std::function<void(v1::Heartbeat*)>;

  // `cancel_call` cancels the call (the context's TryCancel); it is called only while the
  // reactor lives, never under the session's lock.
  EventSession(Reactor* reactor, SessionClock clock, std::function<void()> cancel_call)
      : reactor_(reactor),
        clock_(clock),
        cancel_call_(std::move(cancel_call)),
        last_upload_message_(absl::Now()) {}

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

  // Queues `event` ahead of "accepted" (the payload cache's answer to the header, which comes
  // before the job exists). From the read chain only, before MarkAccepted.
  void EmitFirst(Event event) {
    std::lock_guard<std::mutex> lock(mu_);
    if (finish_requested_) return;
    queue_.push_back(std::move(event));
    PumpLocked();
  }

  // Queues `accepted` first, then what was held back; heartbeats start from here, from
  // `heartbeat` (may be empty: none).
  void MarkAccepted(Event accepted, HeartbeatSource heartbeat) {
    std::lock_guard<std::mutex> lock(mu_);
    if (finish_requested_) return;
    accepted_ = true;
    heartbeat_ = std::move(heartbeat);
    queue_.push_back(std::move(accepted));
    for (Event& event : held_) queue_.push_back(std::move(event));
    held_.clear();
    PumpLocked();
  }

  // Ends the call with `status` after the queued events (or at once, dropping them, when
  // `drop_pending`). Idempotent: the first status wins.
  void Finish(const grpc::Status& status, bool drop_pending = false) {
    std::lock_guard<std::mutex> lock(mu_);
    FinishLocked(status, drop_pending);
  }

  // Starts the next read, unless the call is finishing.
  void Read(Request* request) {
    std::lock_guard<std::mutex> lock(mu_);
    if (finished_ || finish_requested_) return;
    reactor_->StartRead(request);
  }

  // From the read chain: a message of the upload arrived (restarts the idle clock), or the
  // upload is over (the clock stops).
  void UploadMessage() {
    std::lock_guard<std::mutex> lock(mu_);
    last_upload_message_ = absl::Now();
  }
  void UploadOver() {
    std::lock_guard<std::mutex> lock(mu_);
    upload_open_ = false;
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

  // From OnDone: the reactor is gone (after a cancellation the ticker may still be making).
  void Done() {
    std::unique_lock<std::mutex> lock(mu_);
    if (cancelling_ && cancelling_thread_ != std::this_thread::get_id()) {
      space_cv_.wait(lock, [this] { return !cancelling_; });
    }
    finished_ = true;
    finish_requested_ = true;
    reactor_ = nullptr;
    queue_.clear();
    held_.clear();
    heartbeat_ = nullptr;
    space_cv_.notify_all();
  }

  bool finishing() const {
    std::lock_guard<std::mutex> lock(mu_);
    return finish_requested_;
  }

  // The ticker's call: idle uploads end, clients that stopped reading are cut off, silent
  // streams get a heartbeat.
  bool Tick(absl::Time now) override {
    HeartbeatSource source;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (finished_) return false;
      if (write_in_flight_ && clock_.idle_timeout > absl::ZeroDuration() && cancel_call_ &&
          now - last_write_ >= clock_.idle_timeout) {
        cancelling_ = true;
        cancelling_thread_ = std::this_thread::get_id();
        lock.unlock();
        RecordSendStallTimeout();
        cancel_call_();  // OnCancel ends the job and finishes the call
        lock.lock();
        cancelling_ = false;
        space_cv_.notify_all();
        return false;
      }
      if (finish_requested_) return !finished_ && write_in_flight_;
      if (upload_open_) {
        if (clock_.idle_timeout > absl::ZeroDuration() &&
            now - last_upload_message_ >= clock_.idle_timeout) {
          upload_open_ = false;
          RecordUploadIdleTimeout();
          FinishLocked(UploadIdleStatus(clock_.idle_timeout), /*drop_pending=*/true);
          return false;
        }
        return true;
      }
      if (!HeartbeatDueLocked(now)) return true;
      source = heartbeat_;
    }
    // Built outside the lock: the source reads the scheduler.
    Event event;
    source(event.mutable_heartbeat());
    std::lock_guard<std::mutex> lock(mu_);
    if (finish_requested_) return false;
    if (!HeartbeatDueLocked(now)) return true;
    RecordHeartbeatSent();  // before the write starts: a client never sees more than counted
    queue_.push_back(std::move(event));
    PumpLocked();
    return true;
  }

 private:
  static constexpr std::size_t kMaxQueued = 16;

  bool HeartbeatDueLocked(absl::Time now) const {
    return accepted_ && heartbeat_ && clock_.heartbeat_interval > absl::ZeroDuration() &&
           !write_in_flight_ && queue_.empty() &&
           now - last_write_ + clock_.tick_period >= clock_.heartbeat_interval;
  }

  void FinishLocked(const grpc::Status& status, bool drop_pending) {
    if (finish_requested_) return;
    finish_requested_ = true;
    final_status_ = status;
    if (drop_pending) queue_.clear();
    held_.clear();
    space_cv_.notify_all();
    PumpLocked();
  }

  void PumpLocked() {
    if (finished_ || write_in_flight_ || reactor_ == nullptr) return;
    if (!queue_.empty()) {
      current_ = std::move(queue_.front());
      queue_.pop_front();
      write_in_flight_ = true;
      last_write_ = absl::Now();
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
  const SessionClock clock_;
  const std::function<void()> cancel_call_;
  bool cancelling_ = false;
  std::thread::id cancelling_thread_;
  std::deque<Event> queue_;
  std::vector<Event> held_;
  Event current_;
  HeartbeatSource heartbeat_;
  absl::Time last_write_ = absl::InfinitePast();
  absl::Time last_upload_message_;
  bool upload_open_ = true;
  bool accepted_ = false;
  bool write_in_flight_ = false;
  bool finish_requested_ = false;
  bool finished_ = false;
  grpc::Status final_status_;
};

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_EVENT_SESSION_H_
