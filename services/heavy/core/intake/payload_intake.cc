#include "services/heavy/core/intake/payload_intake.h"

#include "libs/common/error_reason.h"

namespace workerpair::heavy::intake {

absl::Status WithPayloadReason(absl::Status status) {
  switch (status.code()) {
    case absl::StatusCode::kResourceExhausted:
      return WithReason(std::move(status), ErrorReason::kPayloadLimit);
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kDataLoss:
      return WithReason(std::move(status), ErrorReason::kPayloadInvalid);
    default:
      return status;  // INTERNAL, FAILED_PRECONDITION: the replica's, not the payload's
  }
}

absl::StatusOr<PayloadAssembler> StartPayload(std::uint64_t declared_size,
                                              std::string_view declared_sha256,
                                              const IntakeLimits& limits,
                                              PayloadStorage storage) {
  return PayloadAssembler::Start(declared_size, declared_sha256,
                                 limits.unpack.max_compressed_bytes, storage);
}

absl::StatusOr<UnpackReport> UnpackPayload(std::string_view archive, const ScratchDir& dir,
                                           const IntakeLimits& limits) {
  if (dir.path().empty()) return absl::FailedPreconditionError("no scratch directory");
  absl::StatusOr<UnpackReport> report = UnpackArchive(archive, dir.payload_dir(), limits.unpack);
  if (!report.ok()) return WithPayloadReason(report.status());
  return report;
}

}  // namespace workerpair::heavy::intake

namespace workerpair::heavy::intake {

absl::StatusOr<UnpackReport> UnpackPayload(const ReceivedPayload& payload, const ScratchDir& dir,
                                           const IntakeLimits& limits) {
  if (payload.size() > 0 && payload.bytes().empty()) {
    return absl::FailedPreconditionError("the payload was moved away before unpacking");
  }
  return UnpackPayload(payload.bytes(), dir, limits);
}

}  // namespace workerpair::heavy::intake
