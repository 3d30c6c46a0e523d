#include "services/controller/cli/output.h"

#include <cstdio>
#include <iostream>

#include "libs/common/error_reason.h"
#include "libs/common/str_cat.h"
#include "services/controller/proto_json.h"

namespace workerpair::controller::cli {

std::string ProtoToJson(const google::protobuf::Message& message) {
  return ProtoJsonText(message).value_or("{}");
}

nlohmann::json ProtoToJsonValue(const google::protobuf::Message& message) {
  return nlohmann::json::parse(ProtoToJson(message), nullptr, /*allow_exceptions=*/false);
}

void PrintJson(const nlohmann::json& value) {
  // Replace invalid UTF-8 (a server message quoting a binary file) instead of throwing.
  std::cout << value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  std::cout.flush();
}

nlohmann::json ErrorJson(const absl::Status& status, int exit_code) {
  nlohmann::json error = {{"code", absl::StatusCodeToString(status.code())},
                          {"message", std::string(status.message())},
                          {"exitCode", exit_code}};
  // The machine-readable reason (PAYLOAD_LIMIT, REPLICA_FULL, ...) when the server gave one.
  const std::string_view reason = ErrorReasonName(ReasonOf(status));
  if (!reason.empty()) error["reason"] = std::string(reason);
  return {{"error", error}};
}

std::string HumanBytes(std::uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  // Move up a unit when "%.1f" would round to 1024.0 (1048575 B is "1.0 MiB", not "1024.0 KiB").
  while (value >= 1023.95 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.1f %s", value, units[unit]);
  return buffer;
}

std::string Fixed(double value, int decimals) { return FixedDecimals(value, decimals); }

}  // namespace workerpair::controller::cli
