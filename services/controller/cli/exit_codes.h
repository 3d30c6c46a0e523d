// Exit codes of `controller`: scripts tell failure kinds apart without parsing messages.
//
//   return ExitCodeFor(status);   // NOT_FOUND -> 3, UNAVAILABLE -> 6, ...
//   if (result.outcome() == v1::OUTCOME_FAILURE) return kExitMechanismFailed;
#ifndef WORKERPAIR_SERVICES_CONTROLLER_CLI_EXIT_CODES_H_
#define WORKERPAIR_SERVICES_CONTROLLER_CLI_EXIT_CODES_H_

#include "absl/status/status.h"
#include "libs/common/error_reason.h"

namespace workerpair::controller::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitOther = 1;
// Bad command line: unknown command or option, missing or malformed argument.
inline constexpr int kExitUsage = 2;
inline constexpr int kExitNotFound = 3;
// The server (or the CLI) refused the input or the state: invalid argument, already exists,
// failed precondition, out of range; also lint errors, assembly findings, merge conflicts.
inline constexpr int kExitRejected = 4;
inline constexpr int kExitPermissionDenied = 5;
// Busy or unreachable: unavailable, a full pool (resource exhausted without a payload reason),
// deadline exceeded.
inline constexpr int kExitUnavailable = 6;
// The job ran but the mechanism failed: simulate outcome FAILURE, verify with a failed run.
inline constexpr int kExitMechanismFailed = 7;

// The exit code for a call's error (kExitOk for OK). A payload's own limit (PAYLOAD_LIMIT,
// JOB_MEMORY_LIMIT as RESOURCE_EXHAUSTED, JOB_TIME_LIMIT as DEADLINE_EXCEEDED) is a rejected
// input, not a busy pool: the same call would fail again anywhere.
inline int ExitCodeFor(const absl::Status& status) {
  switch (ReasonOf(status)) {
    case ErrorReason::kPayloadLimit:
    case ErrorReason::kJobMemoryLimit:
    case ErrorReason::kJobTimeLimit:
    case ErrorReason::kPayloadInvalid:
    case ErrorReason::kSceneCrashed:
      return kExitRejected;
    default:
      break;
  }
  switch (status.code()) {
    case absl::StatusCode::kOk: return kExitOk;
    case absl::StatusCode::kNotFound: return kExitNotFound;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange: return kExitRejected;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated: return kExitPermissionDenied;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kDeadlineExceeded: return kExitUnavailable;
    default: return kExitOther;
  }
}

}  // namespace workerpair::controller::cli

#endif  // WORKERPAIR_SERVICES_CONTROLLER_CLI_EXIT_CODES_H_
