// Source positions of the members of a JSON document, which nlohmann::json does not keep.
//
//   JsonPositions positions = IndexJsonPositions(text);   // text already parsed successfully
//   std::size_t offset = positions.offsets["/simulation/duration_s"];  // where the key starts
//   LineColumn at = TextLines(text).At(offset);   // libs/common/line_column.h
//
// Keys are JSON pointers (RFC 6901: "~" -> "~0", "/" -> "~1"); "" is the document itself.
// An object member maps to the offset of its key, an array element to its value.
// Memory stays linear in the text: containers whose pointer is longer than
// `max_descend_pointer_bytes` get an entry themselves but their members are not indexed (else
// a few long keys nested a few times over would multiply into gigabytes of pointers).
#ifndef WORKERPAIR_LIBS_SCENE_JSON_POSITIONS_H_
#define WORKERPAIR_LIBS_SCENE_JSON_POSITIONS_H_

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace workerpair::scene {

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
JsonPositions IndexJsonPositions(std::string_view text, int max_depth = 64,
                                 std::size_t max_descend_pointer_bytes = 256);

// Escapes one reference token of a JSON pointer.
std::string JsonPointerToken(std::string_view key);

}  // namespace workerpair::scene

#endif  // WORKERPAIR_LIBS_SCENE_JSON_POSITIONS_H_
