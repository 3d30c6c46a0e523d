#include "services/heavy/call_ticker.h"

#include <algorithm>
#include <utility>

namespace workerpair::heavy {

CallTicker::CallTicker(absl::Duration period)
    : period_(std::max(period, absl::Milliseconds(1))), thread_([this] { Loop(); }) {}

CallTicker::~CallTicker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void CallTicker::Add(std::weak_ptr<TickTarget> target) {
  std::lock_guard<std::mutex> lock(mu_);
  targets_.push_back(std::move(target));
}

std::size_t CallTicker::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return targets_.size();
}

void CallTicker::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  absl::Time next = absl::Now() + period_;
  while (true) {
    cv_.wait_until(lock, absl::ToChronoTime(next), [this] { return stopping_; });
    if (stopping_) return;
    next += period_;
    // Tick outside the lock, so that calls can register while others tick; targets added
    // meanwhile land in targets_ and are merged back below.
    std::vector<std::weak_ptr<TickTarget>> current;
    current.swap(targets_);
    lock.unlock();
    const absl::Time now = absl::Now();
    std::vector<std::weak_ptr<TickTarget>> keep;
    keep.reserve(current.size());
    for (std::weak_ptr<TickTarget>& weak : current) {
      std::shared_ptr<TickTarget> target = weak.lock();
      if (target && target->Tick(now)) keep.push_back(std::move(weak));
    }
    current.clear();
    lock.lock();
    for (std::weak_ptr<TickTarget>& weak : targets_) keep.push_back(std::move(weak));
    targets_.swap(keep);
    // A slow round (or a suspended process) must not be followed by a burst of catch-up ticks.
    if (next < absl::Now()) next = absl::Now() + period_;
  }
}

}  // namespace workerpair::heavy
