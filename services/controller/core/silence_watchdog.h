// SilenceWatchdog: calls a function once when nothing was heard for longer than a limit.
//
// The controller feeds it every event a job stream brings (and every payload chunk the stream
// takes); a replica that froze mid-job (a stopped process, a black-holed network) stops both,
// and the watchdog's call (TryCancel on the stream) ends the attempt so the job can run
// elsewhere. The limit can change while it runs: a few seconds before the replica accepted the
// job, then a multiple of the heartbeat interval the replica announced.
//
//   SilenceWatchdog watchdog(absl::Seconds(5), [&] { context.TryCancel(); });
//   while (stream->Read(&event)) { watchdog.Feed(); ... }
//   if (watchdog.fired()) ... the stream went silent ...
#ifndef WORKERPAIR_SERVICES_CONTROLLER_CORE_SILENCE_WATCHDOG_H_
#define WORKERPAIR_SERVICES_CONTROLLER_CORE_SILENCE_WATCHDOG_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace workerpair::controller {

class SilenceWatchdog {
 public:
  // `limit` of absl::InfiniteDuration() watches nothing until SetLimit gives a finite one.
  SilenceWatchdog(absl::Duration limit, std::function<void()> on_silence);
  // Stops the watch; `on_silence` is not called after the destructor returns.
  ~SilenceWatchdog();
  SilenceWatchdog(const SilenceWatchdog&) = delete;
  SilenceWatchdog& operator=(const SilenceWatchdog&) = delete;

  // Something was heard: the silence starts again from now.
  void Feed();
  // The longest silence allowed from now on (counted from the last Feed).
  void SetLimit(absl::Duration limit);
  // True once `on_silence` was called.
  bool fired() const;
  // The silence that made it fire (the limit then in force).
  absl::Duration fired_limit() const;

 private:
  void Watch();

  std::function<void()> on_silence_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  absl::Time last_heard_;
  absl::Duration limit_;
  absl::Duration fired_limit_ = absl::ZeroDuration();
  bool fired_ = false;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once every member above is ready
};

}  // namespace workerpair::controller

#endif  // WORKERPAIR_SERVICES_CONTROLLER_CORE_SILENCE_WATCHDOG_H_
