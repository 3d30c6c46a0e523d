// Output helpers of `controller`: JSON for --json (protobuf responses and our own objects) and
// the small number formats of the human output.
//
// --json prints exactly one JSON object on stdout (listings: one object per line), so a script
// can pipe it to `jq`. Everything follows protobuf's JSON mapping, like flow.json and run.json:
// responses with lowerCamelCase field names, every field present, enums by name, 64-bit
// integers as strings; the keys the CLI adds itself (replica, exitCode, ...) are lowerCamelCase
// too.
//
//   nlohmann::json out = ProtoToJsonValue(response);
//   out["replica"] = run->replica;
//   PrintJson(out);                       // {"outcome":"OUTCOME_SUCCESS",...,"replica":"..."}
//   std::cout << HumanBytes(1536);        // 1.5 KiB
#ifndef WORKERPAIR_SERVICES_CONTROLLER_CLI_OUTPUT_H_
#define WORKERPAIR_SERVICES_CONTROLLER_CLI_OUTPUT_H_

#include <google/protobuf/message.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/status.h"

namespace workerpair::controller::cli {

// `message` in protobuf's JSON mapping, compact, on one line.
std::string ProtoToJson(const google::protobuf::Message& message);
// The same as a JSON value, to add fields to.
nlohmann::json ProtoToJsonValue(const google::protobuf::Message& message);

// Prints `value` compactly on one line of stdout.
void PrintJson(const nlohmann::json& value);

// {"error":{"code":"NOT_FOUND","message":"...","exitCode":3}} (+ "reason" when the server gave one)
nlohmann::json ErrorJson(const absl::Status& status, int exit_code);

// 1536 -> "1.5 KiB"; below 1 KiB: "512 B".
std::string HumanBytes(std::uint64_t bytes);
// `value` with `decimals` digits after the point, e.g. Fixed(2.0, 1) == "2.0".
std::string Fixed(double value, int decimals);

}  // namespace workerpair::controller::cli

#endif  // WORKERPAIR_SERVICES_CONTROLLER_CLI_OUTPUT_H_
