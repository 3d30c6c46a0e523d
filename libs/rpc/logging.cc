#include "libs/rpc/logging.h"

#include <google/protobuf/stubs/logging.h>
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

#include "libs/common/job_log.h"
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
        ",\"msg\":\"");
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    if (std::string_view(msg.logger_name.data(), msg.logger_name.size()) == kJobLoggerName) {
      // A job-phase line (libs/common/job_log.h): its fields become the object's fields.
      const DecodedJobLine job = DecodeJobLine(payload);
      line += JsonEscape(job.message);
      line += '"';
      for (const auto& [key, value] : job.fields) {
        line += StrCat(",\"", JsonEscape(key), "\":");
        line += value.number ? value.text : StrCat("\"", JsonEscape(value.text), "\"");
      }
      line += "}\n";
    } else {
      line += JsonEscape(payload);
      line += "\"}\n";
    }
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLinesFormatter>();
  }
};

// Human-readable lines (spdlog's pattern); a job-phase line's fields are written after its
// message as key=value (values with spaces quoted).
class PlainFormatter final : public spdlog::formatter {
 public:
  explicit PlainFormatter(std::string pattern)
      : pattern_(pattern), inner_(std::make_unique<spdlog::pattern_formatter>(pattern)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    if (std::string_view(msg.logger_name.data(), msg.logger_name.size()) != kJobLoggerName) {
      return inner_->format(msg, dest);
    }
    const DecodedJobLine job = DecodeJobLine(std::string_view(msg.payload.data(),
                                                              msg.payload.size()));
    std::string text(job.message);
    for (const auto& [key, value] : job.fields) {
      if (key == "event" || value.text.empty()) continue;  // the message names the event
      const bool quote = value.text.find_first_of(" \"=") != std::string::npos;
      text += StrCat(" ", key, "=", quote ? StrCat("\"", JsonEscape(value.text), "\"") : value.text);
    }
    spdlog::details::log_msg plain = msg;
    plain.payload = spdlog::string_view_t(text.data(), text.size());
    inner_->format(plain, dest);
    msg.color_range_start = plain.color_range_start;  // the colour sink reads them from msg
    msg.color_range_end = plain.color_range_end;
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<PlainFormatter>(pattern_);
  }

 private:
  std::string pattern_;
  std::unique_ptr<spdlog::pattern_formatter> inner_;
};

// The logger gRPC core writes through. gpr_set_log_function takes a plain function pointer, so
// the logger must be reachable from a global; it is never destroyed, because gRPC threads may
// still log while static destructors run at exit.
struct LibraryLogTarget {
  std::shared_ptr<spdlog::logger> logger;
  // Plain text has no logger or source field: the line itself says "grpc file:line".
  bool plain = false;

  void Log(spdlog::level::level_enum level, const char* file, int line,
           std::string_view message) const {
    // Libraries pass build paths; the file name is enough to find the line in their sources.
    if (file == nullptr) file = "";
    if (const char* slash = std::strrchr(file, '/')) file = slash + 1;
    if (plain) {
      logger->log(level, "{} {}:{}: {}", logger->name(), file, line, message);
    } else {
      logger->log(spdlog::source_loc{file, line, nullptr}, level, "{}", message);
    }
  }
};

using LibraryLogSlot = std::atomic<std::shared_ptr<const LibraryLogTarget>>;

LibraryLogSlot& GrpcLogger() {
  static auto* target = new LibraryLogSlot();
  return *target;
}

LibraryLogSlot& ProtobufLogger() {
  static auto* target = new LibraryLogSlot();
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
  std::shared_ptr<const LibraryLogTarget> target = GrpcLogger().load();
  if (!target || args == nullptr || args->message == nullptr) return;
  target->Log(SpdlogLevelOf(args->severity), args->file, args->line, args->message);
}

// Protobuf's GOOGLE_LOG lines (e.g. a string field with invalid UTF-8 being serialized).
void LogFromProtobuf(google::protobuf::LogLevel level, const char* file, int line,
                     const std::string& message) {
  std::shared_ptr<const LibraryLogTarget> target = ProtobufLogger().load();
  if (!target) return;
  spdlog::level::level_enum ours = spdlog::level::err;
  switch (level) {
    case google::protobuf::LOGLEVEL_INFO: ours = spdlog::level::debug; break;
    case google::protobuf::LOGLEVEL_WARNING: ours = spdlog::level::warn; break;
    case google::protobuf::LOGLEVEL_ERROR: ours = spdlog::level::err; break;
    case google::protobuf::LOGLEVEL_FATAL: ours = spdlog::level::critical; break;
  }
  target->Log(ours, file, line, message);
}

std::shared_ptr<const LibraryLogTarget> LibraryLogger(const spdlog::logger& main,
                                                      const std::string& name,
                                                      spdlog::level::level_enum level, bool json) {
  auto logger = std::make_shared<spdlog::logger>(name, main.sinks().begin(), main.sinks().end());
  logger->flush_on(spdlog::level::trace);
  logger->set_level(level);
  return std::make_shared<const LibraryLogTarget>(LibraryLogTarget{std::move(logger), !json});
}

// Routes gRPC core's log lines (gpr_log) into a "grpc" logger sharing `main`'s sink and format.
// GRPC_VERBOSITY, when set, is the operator asking gRPC for more (or less) than --log_level
// implies: gRPC filters by it and everything gRPC produces is written. Otherwise gRPC's
// verbosity follows --log_level, and so does the filter (off silences gRPC too).
void RouteGrpcLogging(const spdlog::logger& main, spdlog::level::level_enum level, bool json) {
  // Sharing the sinks shares their formatter (spdlog keeps it on the sink) and their lock, so
  // library lines and ours never interleave within a line.
  const char* verbosity = std::getenv("GRPC_VERBOSITY");
  if (verbosity != nullptr && *verbosity != '\0') {
    GrpcLogger().store(LibraryLogger(main, "grpc", spdlog::level::trace, json));
  } else {
    GrpcLogger().store(LibraryLogger(main, "grpc", level, json));
    // Set before grpc_init reads GRPC_VERBOSITY (it keeps a verbosity already set).
    gpr_set_log_verbosity(GrpcVerbosityFor(level));
  }
  gpr_set_log_function(&LogFromGrpc);
  ProtobufLogger().store(LibraryLogger(main, "protobuf", level, json));
  // Not thread-safe in protobuf: InitLogging runs at start-up, before other threads.
  google::protobuf::SetLogHandler(&LogFromProtobuf);
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
    logger->set_formatter(
        std::make_unique<PlainFormatter>("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%t] %v"));
  }
  logger->set_level(level);
  logger->flush_on(spdlog::level::info);
  RouteGrpcLogging(*logger, level, options.json);
  spdlog::set_default_logger(std::move(logger));
  return absl::OkStatus();
}

}  // namespace workerpair
