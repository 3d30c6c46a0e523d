#include "services/heavy/core/intake/job_payload.h"

#include <utility>

namespace workerpair::heavy::intake {

JobPayload JobPayload::Cached(std::shared_ptr<const CachedPayload> entry) {
  JobPayload payload;
  payload.sha256_ = entry->sha256;
  payload.cached_ = std::move(entry);
  return payload;
}

JobPayload JobPayload::Received(std::string_view sha256, ReceivedPayload received) {
  JobPayload payload;
  payload.sha256_ = LowercaseDigest(sha256);
  payload.received_ = std::make_shared<ReceivedPayload>(std::move(received));
  return payload;
}

std::uint64_t JobPayload::size() const {
  if (cached_) return cached_->bytes.size();
  return received_ ? received_->size() : 0;
}

bool JobPayload::placeable() const {
  if (cached_) return true;
  return received_ != nullptr && !received_->bytes().empty();
}

std::shared_ptr<const CachedPayload> JobPayload::KeepIn(PayloadCache& cache) const {
  if (cached_) return cached_;
  if (!placeable()) return nullptr;
  return cache.Insert(sha256_, received_->bytes());
}

absl::Status JobPayload::PlaceAt(const std::filesystem::path& destination) {
  if (cached_) return WriteNewPayloadFile(destination, cached_->bytes);
  if (!received_) return absl::FailedPreconditionError("the job has no payload");
  return received_->MoveTo(destination);
}

}  // namespace workerpair::heavy::intake
