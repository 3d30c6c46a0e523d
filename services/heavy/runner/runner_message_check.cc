#include "services/heavy/runner/runner_message_check.h"

#include <string>
#include <vector>

#include "google/protobuf/descriptor.h"
#include "libs/common/str_cat.h"

namespace workerpair::heavy {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

absl::Status Refuse(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(StrCat(path, ": ", what));
}

absl::Status CheckEnum(const FieldDescriptor& field, int number, const std::string& path) {
  if (field.enum_type()->FindValueByNumber(number) == nullptr) {
    return Refuse(path, StrCat(number, " is no ", field.enum_type()->name()));
  }
  return absl::OkStatus();
}

absl::Status CheckMessage(const Message& message, const RunnerMessageLimits& limits, int depth,
                          const std::string& prefix) {
  if (depth > limits.max_depth) return Refuse(prefix, "nested too deeply");
  const Reflection& reflection = *message.GetReflection();
  if (reflection.GetUnknownFields(message).field_count() > 0) {
    return Refuse(prefix.empty() ? message.GetDescriptor()->name() : prefix,
                  "fields this worker-heavy does not know");
  }
  std::vector<const FieldDescriptor*> fields;
  reflection.ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    const std::string path = prefix.empty() ? field->name() : StrCat(prefix, ".", field->name());
    if (field->is_repeated()) {
      const int count = reflection.FieldSize(message, field);
      if (count > limits.max_repeated) {
        return Refuse(path, StrCat(count, " entries, more than ", limits.max_repeated));
      }
      for (int i = 0; i < count; ++i) {
        const std::string item = StrCat(path, "[", i, "]");
        switch (field->cpp_type()) {
          case FieldDescriptor::CPPTYPE_ENUM:
            if (absl::Status s =
                    CheckEnum(*field, reflection.GetRepeatedEnumValue(message, field, i), item);
                !s.ok()) {
              return s;
            }
            break;
          case FieldDescriptor::CPPTYPE_STRING: {
            std::string scratch;
            if (field->type() == FieldDescriptor::TYPE_STRING &&
                reflection.GetRepeatedStringReference(message, field, i, &scratch).size() >
                    limits.max_string_bytes) {
              return Refuse(item, StrCat("longer than ", limits.max_string_bytes, " bytes"));
            }
            break;
          }
          case FieldDescriptor::CPPTYPE_MESSAGE:
            if (absl::Status s = CheckMessage(reflection.GetRepeatedMessage(message, field, i),
                                              limits, depth + 1, item);
                !s.ok()) {
              return s;
            }
            break;
          default:
            break;
        }
      }
      continue;
    }
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_ENUM:
        if (absl::Status s = CheckEnum(*field, reflection.GetEnumValue(message, field), path);
            !s.ok()) {
          return s;
        }
        break;
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string scratch;
        if (field->type() == FieldDescriptor::TYPE_STRING &&
            reflection.GetStringReference(message, field, &scratch).size() >
                limits.max_string_bytes) {
          return Refuse(path, StrCat("longer than ", limits.max_string_bytes, " bytes"));
        }
        break;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        if (absl::Status s =
                CheckMessage(reflection.GetMessage(message, field), limits, depth + 1, path);
            !s.ok()) {
          return s;
        }
        break;
      default:
        break;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckRunnerMessage(const Message& message, const RunnerMessageLimits& limits) {
  return CheckMessage(message, limits, 0, "");
}

bool IsKnownRunnerPhase(std::string_view phase) {
  for (std::string_view known :
       {"starting", "unpacking", "compiling", "simulating", "rendering", "encoding", "sending"}) {
    if (phase == known) return true;
  }
  return false;
}

}  // namespace workerpair::heavy
