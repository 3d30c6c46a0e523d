#include "services/controller/proto_json.h"

#include <google/protobuf/util/json_util.h>

#include "libs/common/str_cat.h"

namespace workerpair::controller {

absl::StatusOr<std::string> ProtoJsonText(const google::protobuf::Message& message,
                                          bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.add_whitespace = pretty;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) {
    return absl::InternalError(
        StrCat("cannot write a ", message.GetTypeName(), " as JSON"));
  }
  return json;
}

}  // namespace workerpair::controller
