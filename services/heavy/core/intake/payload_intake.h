// Payload intake: limits for a payload and its unpacking into a job's scratch directory.
//
//   IntakeLimits limits;                                   // flags override the defaults
//   WP_ASSIGN_OR_RETURN(PayloadAssembler payload, StartPayload(size, sha256, limits));
//   ... payload.Append(chunk) ...
//   WP_ASSIGN_OR_RETURN(std::string archive, payload.Finish());
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
#include "services/heavy/core/intake/scratch.h"

namespace workerpair::heavy {

struct IntakeLimits {
  // Caps on the archive: compressed size (also the largest declared payload size), unpacked
  // size, entries, per-file size, compression ratio.
  UnpackLimits unpack;
};

// PayloadAssembler::Start with the compressed-size cap of `limits`.
absl::StatusOr<PayloadAssembler> StartPayload(std::uint64_t declared_size,
                                              std::string_view declared_sha256,
                                              const IntakeLimits& limits);

// Unpacks `archive` into `dir.payload_dir()` (UnpackArchive: every entry validated before
// anything is written; on error nothing is left under it). Errors are UnpackArchive's:
// INVALID_ARGUMENT (not gzip, truncated, bad names), PERMISSION_DENIED (absolute path, `..`,
// symlink, hardlink, special file), RESOURCE_EXHAUSTED (a limit, named), INTERNAL.
absl::StatusOr<UnpackReport> UnpackPayload(std::string_view archive, const ScratchDir& dir,
                                           const IntakeLimits& limits);

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_INTAKE_PAYLOAD_INTAKE_H_
