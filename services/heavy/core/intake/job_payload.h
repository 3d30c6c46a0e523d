// JobPayload: the archive a job runs on, as the job sees it: either a verified upload of this
// call (ReceivedPayload, placed once by moving it) or an entry of the replica's PayloadCache
// (placed as often as needed by writing a private copy, so no job can touch the kept bytes).
//
//   JobPayload payload = JobPayload::Cached(entry);            // or Received(digest, upload)
//   WP_RETURN_IF_ERROR(payload.PlaceAt(job_dir / "payload.tar.gz"));
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_INTAKE_JOB_PAYLOAD_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_INTAKE_JOB_PAYLOAD_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "services/heavy/core/intake/payload_cache.h"
#include "services/heavy/core/intake/received_payload.h"

namespace workerpair::heavy::intake {

class JobPayload {
 public:
  JobPayload() = default;
  static JobPayload Cached(std::shared_ptr<const CachedPayload> entry);
  // `sha256` is the digest the upload was checked against (any case).
  static JobPayload Received(std::string_view sha256, ReceivedPayload payload);

  // Lowercase hex.
  const std::string& sha256() const { return sha256_; }
  std::uint64_t size() const;
  bool cached() const { return cached_ != nullptr; }
  // True while PlaceAt can still be called (always for a cached payload; once for an upload).
  bool placeable() const;

  // Puts an upload's bytes into `cache` (PayloadCache::Insert) and returns the entry, or null
  // when not kept (or already placed). The upload itself is left as it is.
  std::shared_ptr<const CachedPayload> KeepIn(PayloadCache& cache) const;

  // Puts the archive at `destination`, a path that must not exist yet: a cached payload is
  // written there (a copy of the job's own); an upload is moved there (ReceivedPayload::MoveTo).
  // INTERNAL on a filesystem error; FAILED_PRECONDITION for an upload already placed.
  absl::Status PlaceAt(const std::filesystem::path& destination);

 private:
  std::string sha256_;
  std::shared_ptr<const CachedPayload> cached_;
  std::shared_ptr<ReceivedPayload> received_;
};


}  // namespace workerpair::heavy::intake

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_INTAKE_JOB_PAYLOAD_H_
