// worker-heavy's Prometheus series for payload calls' liveness and uploads (names in
// docs/PORTS_AND_METRICS.md): upload bytes held in memory and on the scratch disk, uploads
// refused because a store was at its cap, uploads ended for idleness, heartbeats sent; the
// payload cache's hits, misses, entries and bytes.
#ifndef WORKERPAIR_SERVICES_HEAVY_PAYLOAD_METRICS_H_
#define WORKERPAIR_SERVICES_HEAVY_PAYLOAD_METRICS_H_

#include "services/heavy/core/intake/upload_budget.h"
#include "services/heavy/payload_call_hub.h"

namespace workerpair::heavy {

// Registers the budget-backed series; `budget` must outlive the metrics endpoint.
void RegisterUploadMetrics(const intake::UploadBudget* budget);

// Registers the payload cache series (PayloadInfo.ask_cached answered yes / no, entries, bytes,
// evictions, chunks received); `hub` must outlive the metrics endpoint.
void RegisterPayloadCacheMetrics(const PayloadCallHub* hub);

// Counts an upload ended because no message arrived for the idle timeout.
void RecordUploadIdleTimeout();

// Counts a call cancelled because its client took no event for the idle timeout.
void RecordSendStallTimeout();

// Counts a heartbeat event sent.
void RecordHeartbeatSent();

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_PAYLOAD_METRICS_H_
