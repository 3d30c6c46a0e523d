// Parsing caller JSON within limits, and showing parts of it in messages without echoing it.
//
//   nlohmann::json doc;
//   if (std::optional<JsonProblem> p = ParseJsonWithin(text, JsonLimits{}, &doc)) {
//     ... p->offset (0-based byte), p->message ("nests deeper than 32 levels")
//   }
//   StrCat("'pos' must be 3 numbers, got ", JsonPreview(doc["pos"]))   // at most ~80 bytes
//
// Why: nlohmann's own parser is iterative, but dump() and the error text are not bounded: a
// 1 KB file of 400,000 nested '[' serialised into a message recurses until the stack overflows,
// and a number like 1e999 fails as out_of_range, not parse_error. Here the document's size,
// nesting depth and string lengths are checked by a flat scan before anything is built, every
// parser failure (syntax, number overflow, invalid UTF-8) comes back as a JsonProblem with its
// byte offset, nothing throws, and previews are cut to a byte budget at a fixed depth.
// Header-only: users link nlohmann_json themselves (as for json_kind.h).
#ifndef WORKERPAIR_LIBS_COMMON_JSON_LIMITS_H_
#define WORKERPAIR_LIBS_COMMON_JSON_LIMITS_H_

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "libs/common/text_preview.h"

namespace workerpair {

struct JsonLimits {
  // Largest document, in bytes.
  std::size_t max_bytes = 1u << 20;
  // Deepest nesting of arrays and objects (the document's own value is depth 1).
  int max_depth = 32;
  // Longest string or key, in bytes as written (escapes counted as written).
  std::size_t max_string_bytes = 4096;
};

struct JsonProblem {
  // 0-based byte offset where the problem was found (the parser's stop for syntax errors).
  std::size_t offset = 0;
  // What was wrong, bounded in length; never a copy of the document.
  std::string message;
};

// Checks size, depth and string lengths in one flat pass over `text` (valid JSON or not);
// builds nothing. nullopt when within `limits`.
inline std::optional<JsonProblem> CheckJsonShape(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return JsonProblem{0, "the document is " + std::to_string(text.size()) +
                              " bytes, over the limit of " + std::to_string(limits.max_bytes)};
  }
  int depth = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      const std::size_t start = i++;
      while (i < text.size() && text[i] != '"') i += text[i] == '\\' ? 2 : 1;
      if (std::min(i, text.size()) - start - 1 > limits.max_string_bytes) {
        return JsonProblem{start, "a string longer than " +
                                      std::to_string(limits.max_string_bytes) + " bytes"};
      }
    } else if (c == '[' || c == '{') {
      if (++depth > limits.max_depth) {
        return JsonProblem{i, "arrays and objects nest deeper than " +
                                  std::to_string(limits.max_depth) + " levels"};
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

namespace json_limits_internal {

// A SAX consumer that builds nothing and keeps the first error.
struct ErrorRecorder {
  using json = nlohmann::json;
  bool null() { return true; }
  bool boolean(bool) { return true; }
  bool number_integer(json::number_integer_t) { return true; }
  bool number_unsigned(json::number_unsigned_t) { return true; }
  bool number_float(json::number_float_t, const json::string_t&) { return true; }
  bool string(json::string_t&) { return true; }
  bool binary(json::binary_t&) { return true; }
  bool start_object(std::size_t) { return true; }
  bool key(json::string_t&) { return true; }
  bool end_object() { return true; }
  bool start_array(std::size_t) { return true; }
  bool end_array() { return true; }
  bool parse_error(std::size_t position, const std::string&, const json::exception& error) {
    failed = true;
    // `position` counts bytes read, so the offending byte is the one before it.
    offset = position > 0 ? position - 1 : 0;
    message = error.what();
    return false;
  }

  bool failed = false;
  std::size_t offset = 0;
  std::string message;
};

// nlohmann's message without its "[json.exception.parse_error.101] " tag, bounded.
inline std::string CleanMessage(std::string message) {
  if (const std::size_t tag = message.find("] "); message.starts_with("[") &&
                                                 tag != std::string::npos) {
    message.erase(0, tag + 2);
  }
  return TextPreview(message, 200);
}

inline void AppendPreview(const nlohmann::json& value, int depth, std::size_t budget,
                          std::string* out) {
  constexpr int kMaxDepth = 3;
  if (out->size() >= budget) return;
  if (value.is_array() || value.is_object()) {
    const bool array = value.is_array();
    if (value.empty()) {
      *out += array ? "[]" : "{}";
      return;
    }
    if (depth >= kMaxDepth) {
      *out += array ? "[...]" : "{...}";
      return;
    }
    out->push_back(array ? '[' : '{');
    bool first = true;
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (out->size() >= budget) {
        *out += ",...";
        break;
      }
      if (!first) out->push_back(',');
      first = false;
      if (!array) *out += "\"" + TextPreview(it.key(), 32) + "\":";
      AppendPreview(*it, depth + 1, budget, out);
    }
    out->push_back(array ? ']' : '}');
  } else if (value.is_string()) {
    *out += "\"" + TextPreview(value.get_ref<const std::string&>(), 48) + "\"";
  } else {
    // Numbers, booleans, null: short by nature.
    *out += value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
}

}  // namespace json_limits_internal

// Parses `text` into `*out` after CheckJsonShape. Never throws (a throwing `callback` counts as
// a problem at offset 0). nullopt on success; otherwise the problem, `*out` unspecified.
inline std::optional<JsonProblem> ParseJsonWithin(
    std::string_view text, const JsonLimits& limits, nlohmann::json* out,
    const nlohmann::json::parser_callback_t& callback = nullptr) {
  if (std::optional<JsonProblem> shape = CheckJsonShape(text, limits)) return shape;
  try {
    *out = nlohmann::json::parse(text, callback, /*allow_exceptions=*/false);
  } catch (const std::exception& error) {
    return JsonProblem{0, json_limits_internal::CleanMessage(error.what())};
  }
  if (!out->is_discarded()) return std::nullopt;
  // Parse again, building nothing, to learn where and why it stopped.
  json_limits_internal::ErrorRecorder recorder;
  try {
    nlohmann::json::sax_parse(text, &recorder);
  } catch (const std::exception& error) {
    return JsonProblem{0, json_limits_internal::CleanMessage(error.what())};
  }
  if (!recorder.failed) return JsonProblem{0, "the document was refused"};
  return JsonProblem{recorder.offset, json_limits_internal::CleanMessage(recorder.message)};
}

// `value` as compact JSON for a message: at most about `max_bytes` bytes, at most 3 levels
// deep (deeper containers show as [...] / {...}), strings and keys through TextPreview.
inline std::string JsonPreview(const nlohmann::json& value,
                               std::size_t max_bytes = kDefaultPreviewBytes) {
  std::string out;
  json_limits_internal::AppendPreview(value, 0, max_bytes, &out);
  return out;
}

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_COMMON_JSON_LIMITS_H_
