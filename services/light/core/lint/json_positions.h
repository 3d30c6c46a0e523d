// Source positions of the members of a JSON document, which nlohmann::json does not keep.
//
//   JsonPositions positions = IndexJsonPositions(text);   // text already parsed successfully
//   std::size_t offset = positions.offsets["/simulation/duration_s"];  // where the key starts
//
// Keys are JSON pointers (RFC 6901: "~" -> "~0", "/" -> "~1"); "" is the document itself.
// An object member maps to the offset of its key, an array element to its value.
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_LINT_JSON_POSITIONS_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_LINT_JSON_POSITIONS_H_

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace workerpair::light {

struct JsonPositions {
  std::map<std::string, std::size_t> offsets;
  // Pointers of members whose key repeats a key of the same object (the repeat's offset is in
  // duplicate_offsets at the same index).
  std::vector<std::string> duplicates;
  std::vector<std::size_t> duplicate_offsets;
};

// Indexes `text`, which should be valid JSON (parse it first: positions in anything else are
// meaningless, though indexing it still terminates without harm); nesting deeper than
// `max_depth` is not indexed (and not recursed into).
JsonPositions IndexJsonPositions(std::string_view text, int max_depth = 64);

// Escapes one reference token of a JSON pointer.
std::string JsonPointerToken(std::string_view key);

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_LINT_JSON_POSITIONS_H_
