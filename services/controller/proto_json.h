// Protobuf messages as JSON text, the one way the controller prints them (CLI output, flow.json,
// a verify's result.json): every field present, since a default (ok: false, a count of 0) is
// still an answer, and enums by name.
//
//   WP_ASSIGN_OR_RETURN(std::string json, ProtoJsonText(response, JsonFieldNames::kProto));
#ifndef WORKERPAIR_SERVICES_CONTROLLER_PROTO_JSON_H_
#define WORKERPAIR_SERVICES_CONTROLLER_PROTO_JSON_H_

#include <google/protobuf/message.h>

#include <string>

#include "absl/status/statusor.h"

namespace workerpair::controller {

enum class JsonFieldNames {
  kProto,      // as written in the .proto (snake_case): the CLI's --json output
  kLowerCamel  // protobuf's JSON default (lowerCamelCase): flow.json and result.json
};

// INTERNAL only for a message the JSON printer refuses (an Any of an unknown type, which
// workerpair's protos never hold).
absl::StatusOr<std::string> ProtoJsonText(const google::protobuf::Message& message,
                                          JsonFieldNames names, bool pretty = false);

}  // namespace workerpair::controller

#endif  // WORKERPAIR_SERVICES_CONTROLLER_PROTO_JSON_H_
