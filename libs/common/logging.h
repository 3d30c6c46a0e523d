// Process-wide logging set-up on spdlog: a level and plain or JSON-lines output on stderr.
//
//   WP_RETURN_IF_ERROR(InitLogging({.level = "info", .json = false}));
//   spdlog::info("listening on {}", address);
#ifndef WORKERPAIR_LIBS_COMMON_LOGGING_H_
#define WORKERPAIR_LIBS_COMMON_LOGGING_H_

#include <string>

#include "absl/status/status.h"

namespace workerpair {

struct LoggingOptions {
  // One of trace, debug, info, warn, error, critical, off.
  std::string level = "info";
  // One JSON object per line ({"ts","level","logger","msg"}) instead of human-readable text.
  bool json = false;
};

// Installs a stderr logger as spdlog's default. INVALID_ARGUMENT for an unknown level.
absl::Status InitLogging(const LoggingOptions& options);

// Escapes `text` for inclusion inside a JSON string literal.
std::string JsonEscape(std::string_view text);

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_COMMON_LOGGING_H_
