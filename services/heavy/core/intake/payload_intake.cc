#include "services/heavy/core/intake/payload_intake.h"

namespace workerpair::heavy {

absl::StatusOr<PayloadAssembler> StartPayload(std::uint64_t declared_size,
                                              std::string_view declared_sha256,
                                              const IntakeLimits& limits) {
  return PayloadAssembler::Start(declared_size, declared_sha256,
                                 limits.unpack.max_compressed_bytes);
}

absl::StatusOr<UnpackReport> UnpackPayload(std::string_view archive, const ScratchDir& dir,
                                           const IntakeLimits& limits) {
  if (dir.path().empty()) return absl::FailedPreconditionError("no scratch directory");
  return UnpackArchive(archive, dir.payload_dir(), limits.unpack);
}

}  // namespace workerpair::heavy
