// Protobuf messages as JSON text, the one way the controller prints them (CLI --json output,
// flow.json, run.json, a verify's result.json): protobuf's JSON mapping (lowerCamelCase field
// names, enums by name, 64-bit integers as strings), every field present, since a default
// (ok: false, a count of 0) is still an answer. One mapping, so a tool that reads one output
// reads them all.
//
//   WP_ASSIGN_OR_RETURN(std::string json, ProtoJsonText(response));
#ifndef WORKERPAIR_SERVICES_CONTROLLER_PROTO_JSON_H_
#define WORKERPAIR_SERVICES_CONTROLLER_PROTO_JSON_H_

#include <google/protobuf/message.h>

#include <string>

#include "absl/status/statusor.h"

namespace workerpair::controller {

// INTERNAL only for a message the JSON printer refuses (an Any of an unknown type, which
// workerpair's protos never hold).
absl::StatusOr<std::string> ProtoJsonText(const google::protobuf::Message& message,
                                          bool pretty = false);

}  // namespace workerpair::controller

#endif  // WORKERPAIR_SERVICES_CONTROLLER_PROTO_JSON_H_
