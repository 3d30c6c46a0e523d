// CallBudget: how long a core may keep working for one call, and whether its caller is still
// waiting. Cores poll it in their loops and return its status when it runs out, so a call whose
// client went away or whose deadline passed frees its thread promptly. No gRPC in here: the
// adapter builds one from its ServerContext.
//
//   CallBudget budget(absl::Now() + absl::Seconds(30), [&] { return client_gone; });
//   for (const std::string& line : lines) {
//     WP_RETURN_IF_ERROR(budget.Check());     // CANCELLED or DEADLINE_EXCEEDED once it ran out
//     ...
//   }
//
//   CallBudget unlimited;                      // never runs out (tests, command-line tools)
//
// Check() is cheap enough for a loop over lines: one clock read, and the cancel callback at
// most every kCancelPollInterval. Once it has failed it keeps failing with the same status.
// Thread-compatible for one call's threads: Check() may be called from several at once.
#ifndef WORKERPAIR_LIBS_COMMON_CALL_BUDGET_H_
#define WORKERPAIR_LIBS_COMMON_CALL_BUDGET_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace workerpair {

class CallBudget {
 public:
  // How often at most the cancel callback is asked (it may cost a system call).
  static constexpr absl::Duration kCancelPollInterval = absl::Milliseconds(20);

  // Never runs out.
  CallBudget() = default;

  // Runs out at `deadline` (DEADLINE_EXCEEDED) or once `cancelled` returns true (CANCELLED).
  // `what_limits` names where the deadline came from, for the message ("the client's deadline",
  // "the 60 s call time limit"). `cancelled` may be empty.
  CallBudget(absl::Time deadline, std::function<bool()> cancelled,
             std::string what_limits = "the call's deadline");

  CallBudget(const CallBudget&) = delete;
  CallBudget& operator=(const CallBudget&) = delete;

  // OK while the call may go on; CANCELLED once the caller went away (or Cancel() was called);
  // DEADLINE_EXCEEDED once the deadline passed. Sticky.
  absl::Status Check() const;

  // True once Check() would fail.
  bool Exhausted() const { return !Check().ok(); }

  // Makes every later Check() fail with CANCELLED (for a core that gives up on its own, and
  // for tests).
  void Cancel() const;

  absl::Time deadline() const { return deadline_; }

  // Time left before the deadline (zero when past, InfiniteDuration without one).
  absl::Duration Remaining() const;

 private:
  enum State : int { kRunning = 0, kCancelled = 1, kExpired = 2 };

  absl::Status StatusFor(int state) const;

  absl::Time deadline_ = absl::InfiniteFuture();
  std::function<bool()> cancelled_;
  std::string what_limits_ = "the call's deadline";
  mutable std::atomic<int> state_{kRunning};
  // absl::ToUnixNanos of the next time `cancelled_` may be asked.
  mutable std::atomic<std::int64_t> next_poll_ns_{0};
};

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_COMMON_CALL_BUDGET_H_
