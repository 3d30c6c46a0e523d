// Mesh loading: malformed files and limits are clean errors that name the file and the place.
#include "services/light/core/topology/mesh_loader.h"

#include <catch2/catch.hpp>
#include <string>

#include "tests/light/topology/test_meshes.h"
#include "tests/support/server_process.h"

namespace workerpair::light {
namespace {

absl::Status ParseStatus(const std::string& path, const std::string& bytes,
                         const MeshLimits& limits = {}, double epsilon = 0) {
  return ParseMesh(path, bytes, {.weld_epsilon = epsilon}, limits).status();
}

std::string Message(const absl::Status& status) { return std::string(status.message()); }

const std::string kCube = test::BinaryStl(test::Cube({0, 0, 0}, 1));

TEST_CASE("A truncated binary STL is INVALID_ARGUMENT naming the sizes", "[topology][loader]") {
  const absl::Status status = ParseStatus("parts/cube.stl", kCube.substr(0, kCube.size() - 10));
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(status), Catch::Contains("'parts/cube.stl'") &&
                                  Catch::Contains("12 triangles") &&
                                  Catch::Contains(std::to_string(kCube.size() - 10) + " bytes"));
}

TEST_CASE("An STL shorter than its header is INVALID_ARGUMENT", "[topology][loader]") {
  const absl::Status status = ParseStatus("a.stl", std::string(40, '\0'));
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(status), Catch::Contains("truncated") && Catch::Contains("40 bytes"));
}

TEST_CASE("A NaN coordinate in a binary STL names the triangle", "[topology][loader]") {
  std::string bytes = kCube;
  // Triangle 3, second corner, y coordinate.
  const std::size_t offset = 84 + 3 * 50 + 12 + 12 + 4;
  const std::uint32_t nan = 0x7fc00000u;
  for (int k = 0; k < 4; ++k) bytes[offset + k] = static_cast<char>((nan >> (8 * k)) & 0xff);
  const absl::Status status = ParseStatus("a.stl", bytes);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(status), Catch::Contains("triangle 3") && Catch::Contains("non-finite"));
}

TEST_CASE("ASCII STL errors name the line", "[topology][loader]") {
  const std::string good = test::AsciiStl(test::Cube({0, 0, 0}, 1));
  SECTION("bad number") {
    std::string bad = good;
    const std::size_t at = bad.find("vertex", bad.find("vertex") + 1);  // line 5
    bad[bad.find(' ', at) + 1] = 'x';
    const absl::Status status = ParseStatus("a.stl", bad);
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(Message(status), Catch::Contains("'a.stl' line 5") && Catch::Contains("bad number"));
  }
  SECTION("nan coordinate") {
    const std::string bad =
        "solid s\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\n"
        "vertex 1 nan 0\nvertex 0 1 0\nendloop\nendfacet\nendsolid s\n";
    const absl::Status status = ParseStatus("a.stl", bad);
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(Message(status), Catch::Contains("line 5") && Catch::Contains("non-finite"));
  }
  SECTION("a facet with two vertices") {
    const std::string bad =
        "solid s\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\n"
        "vertex 1 0 0\nendloop\nendfacet\nendsolid s\n";
    const absl::Status status = ParseStatus("a.stl", bad);
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(Message(status), Catch::Contains("line 6") && Catch::Contains("2 vertices"));
  }
  SECTION("truncated before endsolid") {
    const absl::Status status = ParseStatus("a.stl", good.substr(0, good.size() / 2));
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(Message(status), Catch::Contains("endsolid"));
  }
  SECTION("garbage that is neither binary nor ASCII") {
    const absl::Status status = ParseStatus("a.stl", std::string(200, 'z'));
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(Message(status), Catch::Contains("malformed binary STL"));
  }
}

TEST_CASE("OBJ errors name the line", "[topology][loader]") {
  SECTION("index beyond the vertices") {
    const absl::Status status = ParseStatus("m.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 4\n");
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(Message(status), Catch::Contains("'m.obj' line 4") &&
                                    Catch::Contains("face index 4") &&
                                    Catch::Contains("3 defined"));
  }
  SECTION("index zero and a too-negative index") {
    CHECK(ParseStatus("m.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 0 1 2\n").code() ==
          absl::StatusCode::kInvalidArgument);
    CHECK(ParseStatus("m.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf -1 -2 -4\n").code() ==
          absl::StatusCode::kInvalidArgument);
  }
  SECTION("negative indices and a/b/c forms are accepted") {
    absl::StatusOr<TriangleMesh> mesh =
        ParseMesh("m.obj", "v 0 0 0\nv 1 0 0\nvt 0 0\nv 0 1 0\nf -3/1 -2/1/1 -1//1\n", {}, {});
    REQUIRE(mesh.ok());
    CHECK(mesh->triangles.size() == 1);
  }
  SECTION("bad number, face with two vertices, no faces") {
    CHECK_THAT(Message(ParseStatus("m.obj", "v 0 zero 0\n")), Catch::Contains("line 1"));
    CHECK_THAT(Message(ParseStatus("m.obj", "v 0 0 0\nv 1 0 0\nf 1 2\n")),
               Catch::Contains("line 3") && Catch::Contains("2 vertices"));
    CHECK_THAT(Message(ParseStatus("m.obj", "v 0 0 0\n")), Catch::Contains("no triangles"));
    CHECK_THAT(Message(ParseStatus("m.obj", "v 0 inf 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")),
               Catch::Contains("non-finite"));
  }
}

TEST_CASE("Limits on file size and triangle count are RESOURCE_EXHAUSTED", "[topology][loader]") {
  const absl::Status too_big = ParseStatus("a.stl", kCube, {.max_file_bytes = 100});
  CHECK(too_big.code() == absl::StatusCode::kResourceExhausted);
  CHECK_THAT(Message(too_big), Catch::Contains("100"));

  const absl::Status binary = ParseStatus("a.stl", kCube, {.max_triangles = 11});
  CHECK(binary.code() == absl::StatusCode::kResourceExhausted);
  CHECK_THAT(Message(binary), Catch::Contains("11"));
  const std::string ascii = test::AsciiStl(test::Cube({0, 0, 0}, 1));
  CHECK(ParseStatus("a.stl", ascii, {.max_triangles = 11}).code() ==
        absl::StatusCode::kResourceExhausted);
  CHECK(ParseStatus("a.stl", ascii, {.max_triangles = 12}).ok());
  // Six quads make 12 triangles.
  const std::string obj = test::Obj(test::CubeQuads({0, 0, 0}, 1));
  CHECK(ParseStatus("a.obj", obj, {.max_triangles = 11}).code() ==
        absl::StatusCode::kResourceExhausted);
}

TEST_CASE("Unsupported extensions and bad epsilons are INVALID_ARGUMENT", "[topology][loader]") {
  CHECK(ParseStatus("a.ply", kCube).code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseStatus("a.stl", kCube, {}, -1).code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseStatus("a.stl", kCube, {}, std::nan("")).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Random corruption of mesh bytes never crashes the loader", "[topology][loader]") {
  const std::string sources[] = {kCube, test::AsciiStl(test::Cube({0, 0, 0}, 1)),
                                 test::Obj(test::CubeQuads({0, 0, 0}, 1))};
  const char* names[] = {"a.stl", "a.stl", "a.obj"};
  std::uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  int failures = 0;
  for (int s = 0; s < 3; ++s) {
    for (int round = 0; round < 300; ++round) {
      std::string bytes = sources[s];
      const int edits = 1 + static_cast<int>(next() % 4);
      for (int e = 0; e < edits; ++e) {
        bytes[next() % bytes.size()] = static_cast<char>(next() % 256);
      }
      if (next() % 3 == 0) bytes.resize(next() % bytes.size());
      absl::Status status = ParseStatus(names[s], bytes);
      if (!status.ok()) {
        ++failures;
        CHECK((status.code() == absl::StatusCode::kInvalidArgument ||
               status.code() == absl::StatusCode::kResourceExhausted));
      }
    }
  }
  CHECK(failures > 0);
}

TEST_CASE("LoadMesh confines paths to the root", "[topology][loader]") {
  workerpair::testing::TempDir dir;
  test::WriteBytes(dir.path() / "parts/cube.stl", kCube);
  const std::filesystem::path root = std::filesystem::canonical(dir.path());
  CHECK(LoadMesh(root, "parts/cube.stl", {}, {}).ok());
  CHECK(LoadMesh(root, "../cube.stl", {}, {}).status().code() ==
        absl::StatusCode::kPermissionDenied);
  const absl::Status missing = LoadMesh(root, "parts/none.stl", {}, {}).status();
  CHECK(missing.code() == absl::StatusCode::kNotFound);
  CHECK_THAT(Message(missing), !Catch::Contains(root.string()));
  CHECK(LoadMesh(root, "parts/cube.stl", {}, {.max_file_bytes = 10}).status().code() ==
        absl::StatusCode::kResourceExhausted);
}

TEST_CASE("Checked-in sample meshes load with their known answers", "[topology][loader]") {
  const std::filesystem::path data =
      std::filesystem::path(WORKERPAIR_SOURCE_DIR) / "tests/light/topology/data";
  absl::StatusOr<TriangleMesh> cube = LoadMesh(data, "unit_cube_ascii.stl", {}, {});
  REQUIRE(cube.ok());
  CHECK(cube->triangles.size() == 12);
  CHECK(cube->vertices.size() == 8);
  absl::StatusOr<TriangleMesh> box = LoadMesh(data, "open_box_quads.obj", {}, {});
  REQUIRE(box.ok());
  CHECK(box->triangles.size() == 10);
}

}  // namespace
}  // namespace workerpair::light
