#include "libs/common/glob.h"

#include <catch2/catch.hpp>

using workerpair::GlobMatches;

TEST_CASE("Glob without a slash matches the file name at any depth", "[glob]") {
  CHECK(GlobMatches("*.xml", "scene.xml"));
  CHECK(GlobMatches("*.xml", "scenes/deep/ramp.xml"));
  CHECK_FALSE(GlobMatches("*.xml", "scene.xml.bak"));
  CHECK(GlobMatches("part_?.stl", "meshes/part_7.stl"));
  CHECK_FALSE(GlobMatches("part_?.stl", "meshes/part_10.stl"));
}

TEST_CASE("Glob with a slash matches the whole path, * stays within a segment", "[glob]") {
  CHECK(GlobMatches("scenes/*.xml", "scenes/a.xml"));
  CHECK_FALSE(GlobMatches("scenes/*.xml", "scenes/sub/a.xml"));
  CHECK_FALSE(GlobMatches("scenes/*.xml", "other/a.xml"));
}

TEST_CASE("Glob ** spans any number of directories, including none", "[glob]") {
  CHECK(GlobMatches("scenes/**/*.xml", "scenes/a.xml"));
  CHECK(GlobMatches("scenes/**/*.xml", "scenes/x/y/z/a.xml"));
  CHECK(GlobMatches("**/meshes/*", "a/b/meshes/c.stl"));
  CHECK_FALSE(GlobMatches("scenes/**/*.xml", "meshes/a.xml"));
  CHECK(GlobMatches("scenes/**", "scenes/a/b"));
}

TEST_CASE("Glob character classes, negation and an unclosed bracket", "[glob]") {
  CHECK(GlobMatches("[ab]*.py", "a_test.py"));
  CHECK_FALSE(GlobMatches("[ab]*.py", "c_test.py"));
  CHECK(GlobMatches("[!ab]*.py", "c_test.py"));
  CHECK(GlobMatches("v[0-9].txt", "v3.txt"));
  CHECK_FALSE(GlobMatches("v[0-9].txt", "vx.txt"));
  CHECK(GlobMatches("[abc", "[abc"));
}

TEST_CASE("Empty glob matches everything", "[glob]") {
  CHECK(GlobMatches("", "anything/at/all"));
}
