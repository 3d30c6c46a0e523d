// Machine-readable reasons carried by errors, and the one rule that says whether a failed job
// may run again on another replica.
//
// A core attaches a reason to the absl::Status it returns; the gRPC adapters send it as a
// google.rpc.ErrorInfo (domain "workerpair.dev") in the status details (ToGrpcStatus), and
// clients read it back (FromGrpcStatus). The list and the rule are documented for callers in
// proto/workerpair/v1/heavy.proto; this file is their one definition in code.
//
//   return WithReason(absl::ResourceExhaustedError("every slot is busy"), ErrorReason::kReplicaFull);
//   if (RetryElsewhere(status)) { ...next replica... }
#ifndef WORKERPAIR_LIBS_COMMON_ERROR_REASON_H_
#define WORKERPAIR_LIBS_COMMON_ERROR_REASON_H_

#include <optional>
#include <string_view>

#include "absl/status/status.h"

namespace workerpair {

inline constexpr std::string_view kErrorDomain = "workerpair.dev";

enum class ErrorReason {
  kUnspecified = 0,
  // The replica, not the payload: retry on another replica (or this one, later).
  kReplicaFull,      // RESOURCE_EXHAUSTED: every slot busy and the queue full
  kUploadsBusy,      // RESOURCE_EXHAUSTED: the replica holds as many upload bytes as it may
  kReplicaDraining,  // UNAVAILABLE: shutting down, admits nothing new
  kReplicaLost,      // UNAVAILABLE: the stream broke or went silent (set by clients)
  // The payload: the same payload fails the same way everywhere; never retried elsewhere.
  kPayloadInvalid,   // INVALID_ARGUMENT / DATA_LOSS: bad header, archive, manifest or scene
  kPayloadLimit,     // RESOURCE_EXHAUSTED: a limit such as size, entries, bodies or njmax
  kJobMemoryLimit,   // RESOURCE_EXHAUSTED: the job passed its memory limit
  kJobTimeLimit,     // DEADLINE_EXCEEDED: the job passed its wall-clock or CPU-time limit
  kSceneCrashed,     // INVALID_ARGUMENT: the scene crashed the simulator (signal, phase)
  kSandboxDenied,    // PERMISSION_DENIED: the scene tried to reach outside its payload
  kRunnerLost,       // ABORTED: the job's runner died for a reason not known to be the payload
};

// "REPLICA_FULL", ...; "" for kUnspecified.
std::string_view ErrorReasonName(ErrorReason reason);
// The reason named `name`, or nullopt when it is not one of ours.
std::optional<ErrorReason> ErrorReasonFromName(std::string_view name);

// `status` with `reason` attached (OK stays OK).
absl::Status WithReason(absl::Status status, ErrorReason reason);
// The reason attached to `status`, kUnspecified when none.
ErrorReason ReasonOf(const absl::Status& status);

// The rule: a job that failed with `status` may run on another replica when the failure is the
// replica's (full, busy with uploads, draining, lost) and never when it is the payload's.
// Without a reason: UNAVAILABLE is retried (a replica that is gone cannot say why), every
// other code is not.
bool RetryElsewhere(const absl::Status& status);

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_COMMON_ERROR_REASON_H_
