// JSON type checks with the words error messages use ("must be an integer, not a string"),
// shared by worker-heavy's manifest parser and worker-light's manifest linter so both describe
// the same schema the same way. Header-only: users link nlohmann_json themselves.
#ifndef WORKERPAIR_LIBS_COMMON_JSON_KIND_H_
#define WORKERPAIR_LIBS_COMMON_JSON_KIND_H_

#include <nlohmann/json.hpp>

#include <string_view>

namespace workerpair::json_kind {

enum class Kind { kInt, kNumber, kString, kBool, kObject, kArray };

// True when `value` has the JSON type `kind` (an integer also counts as a number).
inline bool IsKind(const nlohmann::json& value, Kind kind) {
  switch (kind) {
    case Kind::kInt: return value.is_number_integer();
    case Kind::kNumber: return value.is_number();
    case Kind::kString: return value.is_string();
    case Kind::kBool: return value.is_boolean();
    case Kind::kObject: return value.is_object();
    case Kind::kArray: return value.is_array();
  }
  return false;
}

// "an integer", "a number", ... for messages.
inline std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kInt: return "an integer";
    case Kind::kNumber: return "a number";
    case Kind::kString: return "a string";
    case Kind::kBool: return "a boolean";
    case Kind::kObject: return "an object";
    case Kind::kArray: return "an array";
  }
  return "a value";
}

// The type of `value` in the same words ("null" for null).
inline std::string_view TypeOf(const nlohmann::json& value) {
  if (value.is_number_integer()) return "an integer";
  if (value.is_number()) return "a number";
  if (value.is_string()) return "a string";
  if (value.is_boolean()) return "a boolean";
  if (value.is_object()) return "an object";
  if (value.is_array()) return "an array";
  return "null";
}

}  // namespace workerpair::json_kind

#endif  // WORKERPAIR_LIBS_COMMON_JSON_KIND_H_
