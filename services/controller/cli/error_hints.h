// Error hints: a call's error rewritten so that it says what to try, for the cases where gRPC's
// own text does not (nothing listening, a port that serves another service).
//
//   absl::Status status = light.Ping();   // UNAVAILABLE: failed to connect to all addresses...
//   status = WithServerHint(status, ServerKind::kLight);
//   // UNAVAILABLE: cannot reach worker-light (is it running? --light=HOST:PORT or
//   // WORKERPAIR_LIGHT sets its address): failed to connect to all addresses...
#ifndef WORKERPAIR_SERVICES_CONTROLLER_CLI_ERROR_HINTS_H_
#define WORKERPAIR_SERVICES_CONTROLLER_CLI_ERROR_HINTS_H_

#include "absl/status/status.h"

namespace workerpair::controller::cli {

enum class ServerKind { kNone, kLight, kHeavy };

// True when `status` is a failure to reach a server at all (connection refused, no route, DNS),
// as opposed to a server that answered with an error.
bool IsUnreachable(const absl::Status& status);

// `status` with a hint prefixed to its message when it is UNAVAILABLE because nothing answered
// (the server may not be running; the flag and variable that set the address), or UNIMPLEMENTED
// with gRPC's bare text (the port serves another service, not `kind`). Code and error reason
// (the status payloads) are kept; any other status comes back unchanged.
absl::Status WithServerHint(const absl::Status& status, ServerKind kind);

}  // namespace workerpair::controller::cli

#endif  // WORKERPAIR_SERVICES_CONTROLLER_CLI_ERROR_HINTS_H_
