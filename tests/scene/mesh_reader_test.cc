// The scene contract's mesh reader: the rules where lint's and topology's old parsers disagreed
// (the stricter one holds), reading on past problems for lint, and MuJoCo's own mesh rules.
#include "libs/scene/mesh_reader.h"

#include <catch2/catch.hpp>

#include <cstring>

namespace workerpair::scene {
namespace {

// Keeps everything the reader says.
struct Recorder : MeshSink {
  absl::StatusOr<std::uint32_t> Vertex(double, double, double) override { return vertices++; }
  absl::Status Triangle(std::uint32_t a, std::uint32_t b, std::uint32_t c) override {
    triangles.push_back({a, b, c});
    return absl::OkStatus();
  }
  bool Problem(const MeshProblem& problem) override {
    problems.push_back(problem);
    return keep_going;
  }
  bool keep_going = true;
  std::uint32_t vertices = 0;
  std::vector<std::array<std::uint32_t, 3>> triangles;
  std::vector<MeshProblem> problems;
};

Recorder Read(const std::string& path, const std::string& content, bool keep_going = true,
              const MeshReadLimits& limits = {}) {
  Recorder recorder;
  recorder.keep_going = keep_going;
  REQUIRE(ReadMesh(path, content, limits, recorder).ok());
  return recorder;
}

std::string BinaryStl(std::uint32_t triangles) {
  std::string bytes(84, '\0');
  std::memcpy(bytes.data() + 80, &triangles, 4);
  for (std::uint32_t t = 0; t < triangles; ++t) {
    std::string record(50, '\0');
    const float corners[9] = {0, 0, 0, 1, 0, 0, 0, 1, static_cast<float>(t)};
    std::memcpy(record.data() + 12, corners, sizeof(corners));
    bytes += record;
  }
  return bytes;
}

const char kAsciiTriangle[] =
    "SOLID t\n facet NORMAL 0 0 1\n  outer loop\n   vertex 0 0 0\n   vertex 1 0 0\n"
    "   vertex 0 1 0\n  endloop\n endfacet\nendsolid t\n";

TEST_CASE("Binary STL, ASCII STL in any case and OBJ polygons give triangles", "[scene][mesh]") {
  Recorder stl = Read("a.stl", BinaryStl(2));
  CHECK(stl.problems.empty());
  CHECK(stl.triangles.size() == 2);
  CHECK(DetectMeshKind("a.stl", BinaryStl(2)) == MeshFileKind::kStlBinary);

  Recorder ascii = Read("a.STL", kAsciiTriangle);
  CHECK(ascii.problems.empty());
  CHECK(ascii.triangles.size() == 1);
  CHECK(DetectMeshKind("a.STL", kAsciiTriangle) == MeshFileKind::kStlAscii);

  Recorder obj = Read("q.obj", "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0 1.0\nf 1 2 3 4\nf -4 -3 -2\n");
  CHECK(obj.problems.empty());
  CHECK(obj.triangles == std::vector<std::array<std::uint32_t, 3>>{{0, 1, 2}, {0, 2, 3}, {0, 1, 2}});
}

TEST_CASE("Where the old parsers disagreed the stricter rule holds", "[scene][mesh]") {
  // OBJ indices may not point forward (lint allowed it).
  Recorder forward = Read("f.obj", "f 1 2 3\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n");
  REQUIRE_FALSE(forward.problems.empty());
  CHECK(forward.problems[0].code == MeshProblemCode::kObjBadIndex);
  CHECK(forward.problems[0].line == 1);
  // ASCII STL follows the grammar to endsolid (lint took any order and no end).
  const std::string truncated(kAsciiTriangle, std::strlen(kAsciiTriangle) - 11);
  Recorder cut = Read("c.stl", truncated);
  REQUIRE(cut.problems.size() == 1);
  CHECK(cut.problems[0].code == MeshProblemCode::kStlSyntax);
  CHECK_THAT(cut.problems[0].message, Catch::Contains("endsolid"));
  Recorder order = Read("o.stl", "solid x\nvertex 0 0 0\nendsolid x\n");
  REQUIRE(order.problems.size() == 1);
  CHECK(order.problems[0].code == MeshProblemCode::kStlSyntax);
  CHECK(order.problems[0].line == 2);
  // A NUL byte makes "solid ..." binary, hence here a size mismatch (topology read it as ASCII).
  std::string nul = std::string(kAsciiTriangle) + std::string(1, '\0');
  Recorder binary = Read("n.stl", nul);
  REQUIRE(binary.problems.size() == 1);
  CHECK(binary.problems[0].code == MeshProblemCode::kStlSizeMismatch);
  // The triangle cap holds for every reader (lint had none).
  Recorder many = Read("m.stl", BinaryStl(3), true, {.max_triangles = 2});
  REQUIRE(many.problems.size() == 1);
  CHECK(many.problems[0].code == MeshProblemCode::kTooManyTriangles);
  CHECK(IsMeshLimit(many.problems[0].code));
}

TEST_CASE("An OBJ is read on past its problems when the sink asks, and not otherwise",
          "[scene][mesh]") {
  const std::string obj = "v 0 0 0\nv 1 x 0\nv 0 1 0\nf 1 2 9\nf 1 2\nf 1 2 3\n";
  Recorder all = Read("a.obj", obj);
  REQUIRE(all.problems.size() == 3);
  CHECK(all.problems[0].line == 2);
  CHECK(all.problems[0].code == MeshProblemCode::kObjSyntax);
  CHECK(all.problems[1].line == 4);
  CHECK(all.problems[1].code == MeshProblemCode::kObjBadIndex);
  CHECK(all.problems[2].line == 5);
  CHECK(all.triangles.empty());  // faces after a problem may name placeholders
  Recorder first = Read("a.obj", obj, false);
  CHECK(first.problems.size() == 1);
  CHECK(MeshProblemText("meshes/a.obj", first.problems[0]) ==
        "'meshes/a.obj' line 2: bad number 'x'");
}

TEST_CASE("MuJoCo's own mesh rules: binary STL only, 1 to 200000 faces", "[scene][mesh]") {
  const std::string good = BinaryStl(1);
  CHECK_FALSE(MujocoMeshProblem("a.stl", good, good.size()));
  CHECK_FALSE(MujocoMeshProblem("a.stl", good.substr(0, 84), good.size()));
  CHECK_THAT(*MujocoMeshProblem("a.stl", kAsciiTriangle, std::strlen(kAsciiTriangle)),
             Catch::Contains("binary STL only"));
  std::string huge(84, '\0');
  const std::uint32_t count = 200001;
  std::memcpy(huge.data() + 80, &count, 4);
  CHECK_THAT(*MujocoMeshProblem("a.stl", huge, 84 + 50ull * count), Catch::Contains("200000"));
  CHECK_FALSE(MujocoMeshProblem("a.obj", "v 0 0 0", 7));
}

}  // namespace
}  // namespace workerpair::scene
