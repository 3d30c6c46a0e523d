// PayloadCallHub: what every payload call of one service shares besides the scheduler: the
// upload budget, the one ticker (heartbeats, idle uploads), the scratch space that large
// uploads spill into, the payload cache (by SHA-256) and the liveness settings.
//
//   PayloadCallHub hub(config.intake.uploads, config.heartbeat_interval, scratch);
//   PayloadAssembler::Start(size, sha, max, hub.storage());
//   hub.ticker()->Add(session);
#ifndef WORKERPAIR_SERVICES_HEAVY_PAYLOAD_CALL_HUB_H_
#define WORKERPAIR_SERVICES_HEAVY_PAYLOAD_CALL_HUB_H_

#include <atomic>
#include <cstdint>

#include "absl/time/time.h"
#include "services/heavy/call_ticker.h"
#include "services/heavy/core/intake/payload_cache.h"
#include "services/heavy/core/intake/payload_assembler.h"
#include "services/heavy/core/intake/scratch.h"
#include "services/heavy/core/intake/upload_budget.h"

namespace workerpair::heavy {

class PayloadCallHub {
 public:
  // `heartbeat_interval` 0 turns heartbeats off; `uploads.idle_timeout` 0 turns the idle
  // timeout off. `scratch` may be null (nothing spills). `payload_cache_bytes` 0: no cache.
  PayloadCallHub(const intake::UploadLimits& uploads, absl::Duration heartbeat_interval,
                 intake::ScratchSpace* scratch, std::uint64_t payload_cache_bytes = 0);

  intake::PayloadCache* cache() { return &cache_; }
  const intake::PayloadCache& cache() const { return cache_; }
  // Payload chunks received by every call (Info.payload_cache.chunks_received).
  void CountChunk() { chunks_received_.fetch_add(1, std::memory_order_relaxed); }
  std::uint64_t chunks_received() const { return chunks_received_.load(); }

  intake::UploadBudget* budget() { return &budget_; }
  const intake::UploadBudget& budget() const { return budget_; }
  CallTicker* ticker() { return &ticker_; }
  intake::PayloadStorage storage() { return {&budget_, scratch_}; }
  absl::Duration heartbeat_interval() const { return heartbeat_interval_; }
  absl::Duration idle_timeout() const { return budget_.limits().idle_timeout; }

 private:
  intake::UploadBudget budget_;
  intake::ScratchSpace* scratch_;
  intake::PayloadCache cache_;
  std::atomic<std::uint64_t> chunks_received_{0};
  absl::Duration heartbeat_interval_;
  CallTicker ticker_;
};

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_PAYLOAD_CALL_HUB_H_
