#include "services/light/core/lint/mesh_check.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "tests/light/lint/lint_test_util.h"

namespace workerpair::light {
namespace {

using lint_test::Dump;
using lint_test::OnlyWithCode;

// A binary STL with `triangles` triangles, all coordinates `value`.
std::string BinaryStl(std::uint32_t triangles, float value = 1.0f) {
  std::string bytes(84, '\0');
  std::memcpy(bytes.data() + 80, &triangles, 4);
  for (std::uint32_t t = 0; t < triangles; ++t) {
    std::string record(50, '\0');
    for (int k = 0; k < 12; ++k) std::memcpy(record.data() + 4 * k, &value, 4);
    bytes += record;
  }
  return bytes;
}

const char kAsciiTetra[] = R"(solid tetra
  facet normal 0 0 -1
    outer loop
      vertex 0 0 0
      vertex 1 0 0
      vertex 0 1 0
    endloop
  endfacet
endsolid tetra
)";

TEST_CASE("Well-formed STL and OBJ meshes pass", "[lint][mesh]") {
  CHECK(CheckMeshFile("a.stl", BinaryStl(2)).empty());
  CHECK(CheckMeshFile("b.STL", kAsciiTetra).empty());
  CHECK(CheckMeshFile("c.obj", "# tri\nv 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nf 1/1 2/1 3/1\nf -3 -2 -1\n")
            .empty());
  // A binary STL whose header starts with "solid" is still binary when the size fits.
  std::string solid_header = BinaryStl(1);
  std::memcpy(solid_header.data(), "solid binary", 12);
  CHECK(CheckMeshFile("d.stl", solid_header).empty());
}

TEST_CASE("A binary STL whose size disagrees with its triangle count is an error",
          "[lint][mesh]") {
  std::string broken = BinaryStl(3);
  broken.resize(broken.size() - 20);
  auto found = CheckMeshFile("meshes/part.stl", broken);
  INFO(Dump(found));
  auto mismatch = OnlyWithCode(found, "mesh/stl-size-mismatch");
  REQUIRE(mismatch);
  CHECK(mismatch->path == "meshes/part.stl");
  CHECK(mismatch->severity == Severity::kError);
  CHECK_THAT(mismatch->message, Catch::Contains("3 triangles") && Catch::Contains("234"));

  CHECK(OnlyWithCode(CheckMeshFile("t.stl", std::string(40, '\x01')), "mesh/stl-truncated"));
  CHECK(OnlyWithCode(CheckMeshFile("e.stl", ""), "mesh/empty"));
  CHECK(OnlyWithCode(CheckMeshFile("z.stl", BinaryStl(0)), "mesh/empty"));
  CHECK(OnlyWithCode(CheckMeshFile("n.stl", BinaryStl(1, std::numeric_limits<float>::quiet_NaN())),
                     "mesh/non-finite"));
}

TEST_CASE("A broken ASCII STL is reported at the offending line", "[lint][mesh]") {
  const std::string broken =
      "solid x\n"
      " facet normal 0 0 1\n"
      "  outer loop\n"
      "   vertex 0 0 0\n"
      "   vertex 1 zero 0\n"
      "   vertex 0 1 0\n"
      "  endloop\n"
      " endfacet\n"
      "endsolid x\n";
  auto found = CheckMeshFile("x.stl", broken);
  INFO(Dump(found));
  auto syntax = OnlyWithCode(found, "mesh/stl-syntax");
  REQUIRE(syntax);
  CHECK(syntax->line == 5);
  CHECK(OnlyWithCode(CheckMeshFile("y.stl", "solid y\nendsolid y\n"), "mesh/empty"));
}

TEST_CASE("OBJ files need vertices, faces and valid indices", "[lint][mesh]") {
  auto bad_index = CheckMeshFile("a.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 4\nf -1 -2 -4\n");
  INFO(Dump(bad_index));
  REQUIRE(bad_index.size() == 2);
  CHECK(bad_index[0].code == "mesh/obj-bad-index");
  // Vertices are counted first, so both kinds of index are checked in line order.
  CHECK(bad_index[0].line == 4);
  CHECK(bad_index[1].line == 5);
  CHECK(OnlyWithCode(CheckMeshFile("b.obj", "v 0 0 0\nv 1 0 0\n"), "mesh/obj-no-faces"));
  CHECK(OnlyWithCode(CheckMeshFile("c.obj", "# nothing\n"), "mesh/empty"));
  auto syntax = OnlyWithCode(CheckMeshFile("d.obj", "v 0 0\nf 1 1 1\n"), "mesh/obj-syntax");
  REQUIRE(syntax);
  CHECK(syntax->line == 1);
}

}  // namespace
}  // namespace workerpair::light
