#include "libs/common/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <cstdio>
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
        "\",\"thread\":", msg.thread_id, ",\"msg\":\"",
        JsonEscape(std::string_view(msg.payload.data(), msg.payload.size())), "\"}\n");
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLinesFormatter>();
  }
};

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
  spdlog::set_default_logger(std::move(logger));
  return absl::OkStatus();
}

}  // namespace workerpair
