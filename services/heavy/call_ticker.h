// CallTicker: one thread per service that wakes every `period` and lets each live call do its
// timed work: send a heartbeat on a stream that has been silent, end an upload that has been
// idle. Calls register as weak pointers, so a call that ends simply drops out; no call has a
// thread or a timer of its own.
//
//   CallTicker ticker(absl::Milliseconds(500));
//   auto session = std::make_shared<MySession>();      // a TickTarget
//   ticker.Add(session);                                // Tick(now) every 500 ms from now on
#ifndef WORKERPAIR_SERVICES_HEAVY_CALL_TICKER_H_
#define WORKERPAIR_SERVICES_HEAVY_CALL_TICKER_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace workerpair::heavy {

class TickTarget {
 public:
  virtual ~TickTarget() = default;
  // Called on the ticker's thread, never concurrently with itself for one target. Returns
  // false when the target needs no more ticks. Must not block.
  virtual bool Tick(absl::Time now) = 0;
};

class CallTicker {
 public:
  explicit CallTicker(absl::Duration period);
  // Stops the thread (targets get no more ticks).
  ~CallTicker();
  CallTicker(const CallTicker&) = delete;
  CallTicker& operator=(const CallTicker&) = delete;

  // Ticks `target` from the next period on, while it lives and its Tick returns true.
  void Add(std::weak_ptr<TickTarget> target);
  absl::Duration period() const { return period_; }
  // Targets registered now (for tests and logs).
  std::size_t size() const;

 private:
  void Loop();

  const absl::Duration period_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::weak_ptr<TickTarget>> targets_;  // guarded by mu_
  bool stopping_ = false;                           // guarded by mu_
  std::thread thread_;
};

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_CALL_TICKER_H_
