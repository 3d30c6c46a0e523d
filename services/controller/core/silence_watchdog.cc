#include "services/controller/core/silence_watchdog.h"

namespace workerpair::controller {

SilenceWatchdog::SilenceWatchdog(absl::Duration limit, std::function<void()> on_silence)
    : on_silence_(std::move(on_silence)),
      last_heard_(absl::Now()),
      limit_(limit),
      thread_([this] { Watch(); }) {}

SilenceWatchdog::~SilenceWatchdog() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void SilenceWatchdog::Feed() {
  std::lock_guard lock(mu_);
  last_heard_ = absl::Now();
}

void SilenceWatchdog::SetLimit(absl::Duration limit) {
  {
    std::lock_guard lock(mu_);
    limit_ = limit;
  }
  cv_.notify_all();
}

bool SilenceWatchdog::fired() const {
  std::lock_guard lock(mu_);
  return fired_;
}

absl::Duration SilenceWatchdog::fired_limit() const {
  std::lock_guard lock(mu_);
  return fired_limit_;
}

void SilenceWatchdog::Watch() {
  std::unique_lock lock(mu_);
  while (!stopping_ && !fired_) {
    if (limit_ == absl::InfiniteDuration()) {
      cv_.wait(lock);
      continue;
    }
    const absl::Time due = last_heard_ + limit_;
    if (absl::Now() >= due) {
      fired_ = true;
      fired_limit_ = limit_;
      // Called under the lock so the destructor cannot return while it runs.
      on_silence_();
      return;
    }
    cv_.wait_until(lock, absl::ToChronoTime(due));
  }
}

}  // namespace workerpair::controller
