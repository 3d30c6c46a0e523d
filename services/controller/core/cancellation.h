// Cancellation: a job's "stop now" flag that its blocking steps can listen to (no gRPC here).
//
// The job table cancels a running job through it; the heavy client registers a callback per
// attempt (grpc::ClientContext::TryCancel on that attempt's stream, so the call ends and the
// replica frees the slot) and sleeps through it while it waits for capacity, so a cancelled
// job leaves a wait at once instead of at its next retry.
//
// Thread-safe. Cancel() runs the registered callbacks once, on the cancelling thread, under the
// lock (keep them short and never call back into the Cancellation: TryCancel is the use); a
// callback registered after Cancel() runs at once.
//
//   Cancellation cancel;
//   auto registration = cancel.OnCancel([&] { context.TryCancel(); });
//   if (!cancel.SleepFor(absl::Seconds(1))) return absl::CancelledError("...");
#ifndef WORKERPAIR_SERVICES_CONTROLLER_CORE_CANCELLATION_H_
#define WORKERPAIR_SERVICES_CONTROLLER_CORE_CANCELLATION_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace workerpair::controller {

class Cancellation {
 public:
  Cancellation() = default;
  Cancellation(const Cancellation&) = delete;
  Cancellation& operator=(const Cancellation&) = delete;

  // Marks it cancelled and runs every registered callback (once; later calls do nothing).
  void Cancel();
  bool cancelled() const;
  // Runs `on_cancel` when Cancel() is called (at once if it was) while the returned
  // registration is held; dropping it unregisters the callback, which never runs after.
  [[nodiscard]] std::shared_ptr<void> OnCancel(std::function<void()> on_cancel);
  // Sleeps `duration` or until cancelled; false when cancelled.
  bool SleepFor(absl::Duration duration) const;

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cancelled_cv_;
  bool cancelled_ = false;
  std::uint64_t next_key_ = 0;
  std::map<std::uint64_t, std::function<void()>> callbacks_;
};

// The error a cancelled job step returns.
absl::Status CancelledByCaller();

}  // namespace workerpair::controller

#endif  // WORKERPAIR_SERVICES_CONTROLLER_CORE_CANCELLATION_H_
