#include "libs/scene/json_positions.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "libs/common/line_column.h"

namespace workerpair::scene {
namespace {

TEST_CASE("JSON positions index keys and array elements by pointer", "[scene][json]") {
  const std::string text = "{\"a\": [1, {\"b/c\": 2}], \"d\": \"x\\\"y\"}";
  JsonPositions positions = IndexJsonPositions(text);
  CHECK(positions.offsets.at("") == 0);
  CHECK(positions.offsets.at("/a") == 1);
  CHECK(positions.offsets.at("/a/0") == 7);
  CHECK(positions.offsets.at("/a/1") == 10);
  CHECK(positions.offsets.at("/a/1/b~1c") == 11);
  CHECK(text.substr(positions.offsets.at("/d"), 3) == "\"d\"");
}

TEST_CASE("The JSON position index terminates on text that is not JSON", "[scene][json][hostile]") {
  for (const std::string& text : std::vector<std::string>{"[}", "[}}}]", "{\"a\":}", "[,,,]",
                                                        "{]", "[\"", "{\"a\\",
                                                        std::string(100000, '[')}) {
    const JsonPositions positions = IndexJsonPositions(text, 32);
    for (const auto& [pointer, offset] : positions.offsets) CHECK(offset <= text.size() + 1);
  }
}

TEST_CASE("Members under a long pointer are not indexed, so memory stays linear",
          "[scene][json][hostile]") {
  // 200 keys of 1000 bytes nested: indexing every member would store ~200 x 200 KB of pointers.
  std::string text;
  for (int i = 0; i < 200; ++i) text += "{\"" + std::string(1000, 'k') + "\":";
  text += "1" + std::string(200, '}');
  const JsonPositions positions = IndexJsonPositions(text, 1000, 128);
  std::size_t bytes = 0;
  for (const auto& [pointer, offset] : positions.offsets) bytes += pointer.size();
  CHECK(positions.offsets.size() == 2);  // the document and its one member
  CHECK(bytes < 2000);
}

TEST_CASE("TextLines gives the same line and column as LineColumnAt", "[scene][json]") {
  const std::string text = "ab\ncd\n\nefg";
  const TextLines lines(text);
  for (std::size_t offset = 0; offset <= text.size() + 2; ++offset) {
    INFO(offset);
    CHECK(lines.At(offset).line == LineColumnAt(text, offset).line);
    CHECK(lines.At(offset).column == LineColumnAt(text, offset).column);
  }
}

}  // namespace
}  // namespace workerpair::scene
