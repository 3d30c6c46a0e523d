#include "libs/common/call_budget.h"

#include "libs/common/str_cat.h"

namespace workerpair {

CallBudget::CallBudget(absl::Time deadline, std::function<bool()> cancelled,
                       std::string what_limits)
    : deadline_(deadline), cancelled_(std::move(cancelled)), what_limits_(std::move(what_limits)) {}

absl::Status CallBudget::StatusFor(int state) const {
  switch (state) {
    case kCancelled:
      return absl::CancelledError("the call was cancelled (its client went away); work stopped");
    case kExpired:
      return absl::DeadlineExceededError(StrCat("the call ran out of time (", what_limits_,
                                                "); work stopped"));
    default:
      return absl::OkStatus();
  }
}

absl::Status CallBudget::Check() const {
  int state = state_.load(std::memory_order_relaxed);
  if (state != kRunning) return StatusFor(state);
  if (deadline_ == absl::InfiniteFuture() && !cancelled_) return absl::OkStatus();
  const absl::Time now = absl::Now();
  if (now >= deadline_) {
    state = kExpired;
  } else if (cancelled_) {
    const std::int64_t now_ns = absl::ToUnixNanos(now);
    std::int64_t next = next_poll_ns_.load(std::memory_order_relaxed);
    // One thread at a time asks, at most every kCancelPollInterval.
    if (now_ns >= next &&
        next_poll_ns_.compare_exchange_strong(
            next, now_ns + absl::ToInt64Nanoseconds(kCancelPollInterval))) {
      if (cancelled_()) state = kCancelled;
    }
  }
  if (state == kRunning) return absl::OkStatus();
  int expected = kRunning;
  state_.compare_exchange_strong(expected, state);
  return StatusFor(state_.load(std::memory_order_relaxed));
}

void CallBudget::Cancel() const {
  int expected = kRunning;
  state_.compare_exchange_strong(expected, kCancelled);
}

absl::Duration CallBudget::Remaining() const {
  if (deadline_ == absl::InfiniteFuture()) return absl::InfiniteDuration();
  return std::max(deadline_ - absl::Now(), absl::ZeroDuration());
}

}  // namespace workerpair
