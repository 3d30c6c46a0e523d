#include "services/controller/core/cancellation.h"

#include "absl/time/clock.h"

namespace workerpair::controller {

void Cancellation::Cancel() {
  // The callbacks run under the lock: dropping a registration waits for a callback running
  // now, so a callback never touches what its owner already destroyed (a ClientContext).
  std::lock_guard lock(mu_);
  if (cancelled_) return;
  cancelled_ = true;
  for (auto& [key, callback] : callbacks_) callback();
  callbacks_.clear();
  cancelled_cv_.notify_all();
}

bool Cancellation::cancelled() const {
  std::lock_guard lock(mu_);
  return cancelled_;
}

std::shared_ptr<void> Cancellation::OnCancel(std::function<void()> on_cancel) {
  std::unique_lock lock(mu_);
  if (cancelled_) {
    lock.unlock();
    on_cancel();
    return nullptr;
  }
  const std::uint64_t key = next_key_++;
  callbacks_[key] = std::move(on_cancel);
  return std::shared_ptr<void>(nullptr, [this, key](void*) {
    std::lock_guard relock(mu_);
    callbacks_.erase(key);
  });
}

bool Cancellation::SleepFor(absl::Duration duration) const {
  std::unique_lock lock(mu_);
  return !cancelled_cv_.wait_for(lock, absl::ToChronoNanoseconds(duration),
                                 [this] { return cancelled_; });
}

absl::Status CancelledByCaller() {
  return absl::CancelledError("the job was cancelled (CancelJob)");
}

}  // namespace workerpair::controller
