#include "libs/common/ascii.h"

#include <catch2/catch.hpp>

#include <string>

#include "libs/common/line_column.h"

namespace workerpair {
namespace {

TEST_CASE("ASCII helpers fold only A-Z and are defined for every char value", "[common][ascii]") {
  CHECK(ascii::EndsWithIgnoreCase("meshes/Ramp.STL", ".stl"));
  CHECK(ascii::EndsWithIgnoreCase("a.obj", ".OBJ"));
  CHECK_FALSE(ascii::EndsWithIgnoreCase("stl", ".stl"));
  CHECK(ascii::EqualsIgnoreCase("SoLiD", "solid"));
  CHECK(ascii::ToLower(std::string("Mesh.OBJ")) == "mesh.obj");
  // Bytes of UTF-8 text are negative as plain chars: unchanged, never undefined behaviour.
  const std::string utf8 = "\xc3\x89T\xc3\xa9";
  CHECK(ascii::ToLower(utf8) == "\xc3\x89t\xc3\xa9");
  for (int c = -128; c < 128; ++c) {
    const char ch = static_cast<char>(c);
    const bool upper = ch >= 'A' && ch <= 'Z';
    CHECK(ascii::ToLower(ch) == (upper ? static_cast<char>(ch + 32) : ch));
    CHECK(ascii::IsAlnum(ch) == ((ch >= '0' && ch <= '9') || upper || (ch >= 'a' && ch <= 'z')));
  }
}

TEST_CASE("LineColumnAt counts 1-based lines and byte columns", "[common][ascii]") {
  CHECK(LineColumnAt("ab\ncd", 4).line == 2);
  CHECK(LineColumnAt("ab\ncd", 4).column == 2);
  CHECK(LineColumnAt("ab", 99).column == 3);
  const TextLines lines("ab\ncd");
  CHECK(lines.At(4).line == 2);
  CHECK(lines.At(4).column == 2);
}

}  // namespace
}  // namespace workerpair
