#include "libs/common/logging.h"

#include <grpc/support/log.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>

#include "libs/common/str_cat.h"

namespace workerpair {
namespace {

// Formats each record as one JSON object; spdlog's pattern flags cannot escape the message.
class JsonLinesFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto seconds = std::chrono::system_clock::to_time_t(msg.time);
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                            msg.time.time_since_epoch()).count() % 1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    std::array<char, 64> stamp{};
    std::snprintf(stamp.data(), stamp.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                  utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                  utc.tm_sec, static_cast<int>(millis));
    const auto level = spdlog::level::to_string_view(msg.level);
    std::string line = StrCat(
        "{\"ts\":\"", stamp.data(), "\",\"level\":\"", std::string_view(level.data(), level.size()),
        "\",\"logger\":\"", JsonEscape(std::string_view(msg.logger_name.data(),
                                                       msg.logger_name.size())),
        "\",\"thread\":", msg.thread_id,
        msg.source.empty()
            ? std::string()
            : StrCat(",\"src\":\"", JsonEscape(msg.source.filename), ":", msg.source.line, "\""),
        ",\"msg\":\"", JsonEscape(std::string_view(msg.payload.data(), msg.payload.size())),
        "\"}\n");
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLinesFormatter>();
  }
};

// The logger gRPC core writes through. gpr_set_log_function takes a plain function pointer, so
// the logger must be reachable from a global; it is never destroyed, because gRPC threads may
// still log while static destructors run at exit.
struct GrpcLogTarget {
  std::shared_ptr<spdlog::logger> logger;
  // Plain text has no logger or source field: the line itself says "grpc file:line".
  bool plain = false;
};

std::atomic<std::shared_ptr<const GrpcLogTarget>>& GrpcLogger() {
  static auto* target = new std::atomic<std::shared_ptr<const GrpcLogTarget>>();
  return *target;
}

// gRPC's severities sit one step below ours: its INFO is internal chatter (channel state,
// resolver results), which an operator asks for with --log_level=debug, and its DEBUG needs
// --log_level=trace. ERROR stays error.
spdlog::level::level_enum SpdlogLevelOf(gpr_log_severity severity) {
  switch (severity) {
    case GPR_LOG_SEVERITY_DEBUG: return spdlog::level::trace;
    case GPR_LOG_SEVERITY_INFO: return spdlog::level::debug;
    case GPR_LOG_SEVERITY_ERROR: break;
  }
  return spdlog::level::err;
}

// The least severe gRPC message worth producing at our `level` (the inverse of SpdlogLevelOf).
gpr_log_severity GrpcVerbosityFor(spdlog::level::level_enum level) {
  if (level <= spdlog::level::trace) return GPR_LOG_SEVERITY_DEBUG;
  if (level <= spdlog::level::debug) return GPR_LOG_SEVERITY_INFO;
  return GPR_LOG_SEVERITY_ERROR;
}

void LogFromGrpc(gpr_log_func_args* args) {
  std::shared_ptr<const GrpcLogTarget> target = GrpcLogger().load();
  if (!target || args == nullptr || args->message == nullptr) return;
  // gRPC passes full build paths; the file name is enough to find the line in its sources.
  const char* file = args->file != nullptr ? args->file : "";
  if (const char* slash = std::strrchr(file, '/')) file = slash + 1;
  const spdlog::level::level_enum level = SpdlogLevelOf(args->severity);
  if (target->plain) {
    target->logger->log(level, "grpc {}:{}: {}", file, args->line, args->message);
  } else {
    target->logger->log(spdlog::source_loc{file, args->line, nullptr}, level, "{}",
                        args->message);
  }
}

// Routes gRPC core's log lines (gpr_log) into a "grpc" logger sharing `main`'s sink and format.
// GRPC_VERBOSITY, when set, is the operator asking gRPC for more (or less) than --log_level
// implies: gRPC filters by it and everything gRPC produces is written. Otherwise gRPC's
// verbosity follows --log_level, and so does the filter (off silences gRPC too).
void RouteGrpcLogging(const spdlog::logger& main, spdlog::level::level_enum level, bool json) {
  // Sharing the sinks shares their formatter (spdlog keeps it on the sink) and their lock, so
  // gRPC lines and ours never interleave within a line.
  auto grpc_logger = std::make_shared<spdlog::logger>("grpc", main.sinks().begin(),
                                                      main.sinks().end());
  grpc_logger->flush_on(spdlog::level::trace);
  const char* verbosity = std::getenv("GRPC_VERBOSITY");
  if (verbosity != nullptr && *verbosity != '\0') {
    grpc_logger->set_level(spdlog::level::trace);
  } else {
    grpc_logger->set_level(level);
    // Set before grpc_init reads GRPC_VERBOSITY (it keeps a verbosity already set).
    gpr_set_log_verbosity(GrpcVerbosityFor(level));
  }
  GrpcLogger().store(std::make_shared<const GrpcLogTarget>(
      GrpcLogTarget{std::move(grpc_logger), !json}));
  gpr_set_log_function(&LogFromGrpc);
}

}  // namespace

std::string JsonEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

absl::Status InitLogging(const LoggingOptions& options) {
  const auto level = spdlog::level::from_str(options.level);
  // from_str answers `off` for anything it does not know; only accept `off` when asked.
  if (level == spdlog::level::off && options.level != "off") {
    return absl::InvalidArgumentError(StrCat(
        "unknown log level '", options.level,
        "'; expected trace, debug, info, warn, error, critical or off"));
  }
  auto logger = std::make_shared<spdlog::logger>(
      "workerpair", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  if (options.json) {
    logger->set_formatter(std::make_unique<JsonLinesFormatter>());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%t] %v");
  }
  logger->set_level(level);
  logger->flush_on(spdlog::level::info);
  RouteGrpcLogging(*logger, level, options.json);
  spdlog::set_default_logger(std::move(logger));
  return absl::OkStatus();
}

}  // namespace workerpair
