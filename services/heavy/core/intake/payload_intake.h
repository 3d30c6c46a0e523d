// Payload intake: limits for a payload and its unpacking into a job's scratch directory.
//
//   IntakeLimits limits;                                   // flags override the defaults
//   UploadBudget budget(limits.uploads);
//   WP_ASSIGN_OR_RETURN(PayloadAssembler payload,
//                       StartPayload(size, sha256, limits, {.budget = &budget, .scratch = s}));
//   ... payload.Append(chunk) ...
//   WP_ASSIGN_OR_RETURN(ReceivedPayload archive, payload.Finish());
//   WP_ASSIGN_OR_RETURN(ScratchDir dir, scratch->CreateJobDir(job_id));
//   WP_ASSIGN_OR_RETURN(UnpackReport report, UnpackPayload(archive, dir, limits));
//   // the payload's files are under dir.payload_dir()
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_INTAKE_PAYLOAD_INTAKE_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_INTAKE_PAYLOAD_INTAKE_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "libs/common/bundle.h"
#include "services/heavy/core/intake/payload_assembler.h"
#include "services/heavy/core/intake/received_payload.h"
#include "services/heavy/core/intake/scratch.h"
#include "services/heavy/core/intake/upload_budget.h"

namespace workerpair::heavy::intake {

struct IntakeLimits {
  // Caps on the archive: compressed size (also the largest declared payload size), unpacked
  // size, entries, per-file size, compression ratio.
  UnpackLimits unpack;
  // Caps on the upload bytes held at once, the spill threshold and the idle timeout.
  UploadLimits uploads;
};

// PayloadAssembler::Start with the compressed-size cap of `limits`.
absl::StatusOr<PayloadAssembler> StartPayload(std::uint64_t declared_size,
                                              std::string_view declared_sha256,
                                              const IntakeLimits& limits,
                                              PayloadStorage storage = {});

// `status` with the payload reason its code implies: RESOURCE_EXHAUSTED -> PAYLOAD_LIMIT;
// INVALID_ARGUMENT, PERMISSION_DENIED (an escaping entry) and DATA_LOSS -> PAYLOAD_INVALID;
// other codes (INTERNAL, FAILED_PRECONDITION: the replica's trouble) stay without a reason.
absl::Status WithPayloadReason(absl::Status status);

// Unpacks `archive` into `dir.payload_dir()` (UnpackArchive: every entry validated before
// anything is written; on error nothing is left under it). Errors are UnpackArchive's, with
// their reasons (WithPayloadReason): INVALID_ARGUMENT (not gzip, truncated, bad names) and
// PERMISSION_DENIED (absolute path, `..`, symlink, hardlink, special file) are PAYLOAD_INVALID,
// RESOURCE_EXHAUSTED (a limit, named) is PAYLOAD_LIMIT; INTERNAL has none.
absl::StatusOr<UnpackReport> UnpackPayload(std::string_view archive, const ScratchDir& dir,
                                           const IntakeLimits& limits);
// The same for a received payload, in memory or spilled to disk.
absl::StatusOr<UnpackReport> UnpackPayload(const ReceivedPayload& payload, const ScratchDir& dir,
                                           const IntakeLimits& limits);

}  // namespace workerpair::heavy::intake

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_INTAKE_PAYLOAD_INTAKE_H_
