#include "services/heavy/payload_call_hub.h"

#include <algorithm>

namespace workerpair::heavy {
namespace {

// A quarter of the shortest interval the ticker serves, within [10 ms, 500 ms]: heartbeats go
// out before the interval ends, idle uploads end within a quarter of their timeout.
absl::Duration TickPeriod(absl::Duration heartbeat, absl::Duration idle) {
  absl::Duration shortest = absl::Milliseconds(2000);
  for (absl::Duration interval : {heartbeat, idle}) {
    if (interval > absl::ZeroDuration()) shortest = std::min(shortest, interval);
  }
  return std::clamp(shortest / 4, absl::Milliseconds(10), absl::Milliseconds(500));
}

}  // namespace

PayloadCallHub::PayloadCallHub(const intake::UploadLimits& uploads,
                               absl::Duration heartbeat_interval, intake::ScratchSpace* scratch,
                               std::uint64_t payload_cache_bytes)
    : budget_(uploads),
      scratch_(scratch),
      cache_(payload_cache_bytes),
      heartbeat_interval_(std::max(heartbeat_interval, absl::ZeroDuration())),
      ticker_(TickPeriod(heartbeat_interval, uploads.idle_timeout)) {}

}  // namespace workerpair::heavy
