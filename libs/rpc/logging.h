// Process-wide logging set-up on spdlog: a level and plain or JSON-lines output on stderr.
//
//   WP_RETURN_IF_ERROR(InitLogging({.level = "info", .json = false}));
//   spdlog::info("listening on {}", address);
#ifndef WORKERPAIR_LIBS_RPC_LOGGING_H_
#define WORKERPAIR_LIBS_RPC_LOGGING_H_

#include <string>

#include "absl/status/status.h"

namespace workerpair {

struct LoggingOptions {
  // One of trace, debug, info, warn, error, critical, off.
  std::string level = "info";
  // One JSON object per line ({"ts","level","logger","msg"}) instead of human-readable text.
  bool json = false;
};

// Installs a stderr logger as spdlog's default, and routes gRPC core's own log lines
// (gpr_log) and protobuf's (GOOGLE_LOG) through "grpc" and "protobuf" loggers on the same sink,
// so --log_json output is JSON on every line (with "src":"file:line" for the libraries' lines).
// Call it at start-up, before other threads exist (protobuf's handler is set unsynchronised). gRPC's verbosity follows `level`: its ERROR lines
// at info and above, its INFO lines (logged as debug) at debug, its DEBUG lines (as trace) at
// trace. GRPC_VERBOSITY, when set, overrides that and every line gRPC produces is written.
// INVALID_ARGUMENT for an unknown level.
absl::Status InitLogging(const LoggingOptions& options);

// Escapes `text` for inclusion inside a JSON string literal.
std::string JsonEscape(std::string_view text);

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_RPC_LOGGING_H_
