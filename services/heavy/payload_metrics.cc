#include "services/heavy/payload_metrics.h"

#include "libs/common/metrics.h"

namespace workerpair::heavy {
namespace {

MetricsRegistry& Registry() { return MetricsRegistry::Default(); }

CounterFamily* IdleTimeouts() {
  static CounterFamily* family = Registry().AddCounter(
      "workerpair_heavy_upload_idle_timeouts_total",
      "Uploads ended because no message arrived for upload_idle_timeout_s.", {});
  return family;
}

CounterFamily* SendStalls() {
  static CounterFamily* family = Registry().AddCounter(
      "workerpair_heavy_send_stall_timeouts_total",
      "Calls cancelled because their client took no event for upload_idle_timeout_s.", {});
  return family;
}

CounterFamily* Heartbeats() {
  static CounterFamily* family = Registry().AddCounter(
      "workerpair_heavy_heartbeats_sent_total",
      "Heartbeat events sent on job streams that were otherwise silent.", {});
  return family;
}

}  // namespace

void RegisterPayloadCacheMetrics(const PayloadCallHub* hub) {
  const intake::PayloadCache* cache = &hub->cache();
  Registry().AddCounterCallback(
      "workerpair_heavy_payload_cache_hits_total",
      "PayloadInfo.ask_cached answered true: the replica held the payload, no chunk was sent.",
      [cache] { return static_cast<double>(cache->Stats().hits); });
  Registry().AddCounterCallback(
      "workerpair_heavy_payload_cache_misses_total",
      "PayloadInfo.ask_cached answered false: the caller sent the payload.",
      [cache] { return static_cast<double>(cache->Stats().misses); });
  Registry().AddCounterCallback(
      "workerpair_heavy_payload_cache_evictions_total",
      "Payloads pushed out of the payload cache to make room.",
      [cache] { return static_cast<double>(cache->Stats().evictions); });
  Registry().AddGaugeCallback("workerpair_heavy_payload_cache_entries",
                              "Payloads the payload cache holds now.",
                              [cache] { return static_cast<double>(cache->Stats().entries); });
  Registry().AddGaugeCallback("workerpair_heavy_payload_cache_bytes",
                              "Bytes of the payloads the payload cache holds now.",
                              [cache] { return static_cast<double>(cache->Stats().bytes); });
  Registry().AddGaugeCallback(
      "workerpair_heavy_payload_cache_capacity_bytes",
      "Most bytes the payload cache may hold (--payload_cache_mb; 0: off).",
      [cache] { return static_cast<double>(cache->Stats().capacity_bytes); });
  Registry().AddCounterCallback(
      "workerpair_heavy_payload_chunks_received_total",
      "Payload chunks received by every call (cached payloads send none).",
      [hub] { return static_cast<double>(hub->chunks_received()); });
}

void RegisterUploadMetrics(const intake::UploadBudget* budget) {
  Registry().AddGaugeCallback(
      "workerpair_heavy_upload_memory_bytes",
      "Payload bytes held in memory now (uploads in flight and payloads of unfinished jobs).",
      [budget] { return static_cast<double>(budget->held(intake::PayloadStore::kMemory)); });
  Registry().AddGaugeCallback(
      "workerpair_heavy_upload_disk_bytes",
      "Payload bytes held in spill files on the scratch disk now.",
      [budget] { return static_cast<double>(budget->held(intake::PayloadStore::kDisk)); });
  Registry().AddCounterCallback(
      "workerpair_heavy_uploads_refused_busy_total",
      "Uploads refused or ended with UPLOADS_BUSY because memory or spill disk was at its cap.",
      [budget] { return static_cast<double>(budget->refusals()); });
  // Shown as 0 from the start rather than missing until the first event.
  IdleTimeouts()->Increment({}, 0);
  SendStalls()->Increment({}, 0);
  Heartbeats()->Increment({}, 0);
}

void RecordUploadIdleTimeout() { IdleTimeouts()->Increment({}); }

void RecordSendStallTimeout() { SendStalls()->Increment({}); }

void RecordHeartbeatSent() { Heartbeats()->Increment({}); }

}  // namespace workerpair::heavy
