// Assembly validation: interference estimates, build zone, size limit, poses, and the
// workspace-level TopologyAnalyzer.
#include "services/light/core/topology/assembly.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <numbers>

#include "services/light/core/topology/interference.h"
#include "services/light/core/topology/mesh_loader.h"
#include "services/light/core/topology/topology_analyzer.h"
#include "tests/light/topology/test_meshes.h"
#include "tests/support/server_process.h"

namespace workerpair::light {
namespace {

TriangleMesh Mesh(const test::Soup& soup) {
  absl::StatusOr<TriangleMesh> mesh = ParseMesh("m.obj", test::Obj(soup), {}, {});
  REQUIRE(mesh.ok());
  return std::move(*mesh);
}

Pose At(Vec3 position, Vec3 euler_degrees = {}) {
  return {position, QuaternionFromEulerDegrees(euler_degrees)};
}

const TriangleMesh& UnitCube() {
  static const TriangleMesh cube = Mesh(test::Cube({0, 0, 0}, 1));
  return cube;
}

TEST_CASE("The winding number is exact on rays through cube edges and diagonals",
          "[topology][assembly]") {
  const PosedMesh cube = PoseMesh(UnitCube(), {});
  // Rays along x at y == z run through the diagonals of the x = 0 and x = 1 faces; rays at
  // y or z in {0, 1} graze edges; neither may double count.
  for (double y : {0.25, 0.5, 0.75}) {
    CHECK(WindingNumber(cube, {0.5, y, y}) == 1);
    CHECK(WindingNumber(cube, {0.5, y, 1 - y}) == 1);
    CHECK(WindingNumber(cube, {1.5, y, y}) == 0);
    CHECK(WindingNumber(cube, {-0.5, y, y}) == 0);
  }
  CHECK(WindingNumber(cube, {2, 0, 0.5}) == 0);
  CHECK(WindingNumber(cube, {2, 1, 1}) == 0);
}

TEST_CASE("Unit cubes offset by 0.5 on x overlap by 0.5", "[topology][assembly]") {
  std::vector<AssemblyPart> parts = {{"left", &UnitCube(), At({0, 0, 0})},
                                     {"right", &UnitCube(), At({0.5, 0, 0})}};
  absl::StatusOr<AssemblyReport> report = ValidateAssembly(parts, {});
  REQUIRE(report.ok());
  CHECK_FALSE(report->ok);
  REQUIRE(report->interferences.size() == 1);
  const Interference& hit = report->interferences[0];
  CHECK(hit.part_a == 0);
  CHECK(hit.part_b == 1);
  CHECK(hit.overlap_volume == Approx(0.5).epsilon(0.02));
  CHECK(hit.exceeds_threshold);
  CHECK(hit.region.min.x == 0.5);
  REQUIRE(report->findings.size() == 1);
  CHECK(report->findings[0].code == "assembly/interference");
  CHECK(report->findings[0].part == "left");
  CHECK(report->findings[0].other_part == "right");
  CHECK_THAT(report->findings[0].message, Catch::Contains("'left'") && Catch::Contains("'right'"));

  SECTION("a threshold above the overlap passes, still reporting it") {
    absl::StatusOr<AssemblyReport> lenient =
        ValidateAssembly(parts, {.interference_threshold = 0.6});
    REQUIRE(lenient.ok());
    CHECK(lenient->ok);
    REQUIRE(lenient->interferences.size() == 1);
    CHECK_FALSE(lenient->interferences[0].exceeds_threshold);
  }
}

TEST_CASE("A rotated cube overlaps by the area of its rotated cross-section",
          "[topology][assembly]") {
  // A unit cube turned 45 degrees about z, centred at (1, 0.5, 0.5), against the cube [0,1]^3.
  // Its cross-section is a diamond of half-diagonal h centred on x = 1; the half with x < 1 is
  // a triangle of area h^2, whose tips beyond y = 0 and y = 1 (right triangles with legs
  // h - 0.5) lie outside the fixed cube. The full height 1 overlaps.
  const double h = std::sqrt(2.0) / 2;
  const double tip = 0.5 * (h - 0.5) * (h - 0.5);
  const double expected = h * h - 2 * tip;
  const Pose turned{{1, 0.5, 0.5}, QuaternionFromEulerDegrees({0, 0, 45})};
  static const TriangleMesh centred = Mesh(test::Cube({-0.5, -0.5, -0.5}, 1));
  std::vector<AssemblyPart> parts = {{"fixed", &UnitCube(), {}}, {"turned", &centred, turned}};
  absl::StatusOr<AssemblyReport> report = ValidateAssembly(parts, {.samples_per_axis = 128});
  REQUIRE(report.ok());
  REQUIRE(report->interferences.size() == 1);
  CHECK(report->interferences[0].overlap_volume == Approx(expected).epsilon(0.03));
  // The posed box of the turned cube is sqrt(2) wide in x and y.
  CHECK(report->parts[1].posed_bounds.size().x == Approx(std::sqrt(2.0)));
  CHECK(report->parts[1].posed_bounds.size().z == Approx(1.0));
}

TEST_CASE("Two overlapping spheres overlap by the lens volume", "[topology][assembly]") {
  const double r = 1, d = 1;
  static const TriangleMesh sphere = Mesh(test::Sphere({0, 0, 0}, r, 96, 48));
  std::vector<AssemblyPart> parts = {{"a", &sphere, At({0, 0, 0})},
                                     {"b", &sphere, At({d, 0, 0}, {30, 10, 0})}};
  absl::StatusOr<AssemblyReport> report = ValidateAssembly(parts, {.samples_per_axis = 96});
  REQUIRE(report.ok());
  REQUIRE(report->interferences.size() == 1);
  const double lens = std::numbers::pi * (4 * r + d) * (2 * r - d) * (2 * r - d) / 12;
  CHECK(report->interferences[0].overlap_volume == Approx(lens).epsilon(0.04));
  CHECK(report->parts[0].watertight);
  CHECK(report->parts[0].volume == Approx(4.0 / 3 * std::numbers::pi).epsilon(0.01));
}

TEST_CASE("Separated and touching parts do not interfere", "[topology][assembly]") {
  for (double gap : {2.0, 1.0}) {
    std::vector<AssemblyPart> parts = {{"a", &UnitCube(), At({0, 0, 0})},
                                       {"b", &UnitCube(), At({gap, 0, 0})}};
    absl::StatusOr<AssemblyReport> report = ValidateAssembly(parts, {});
    REQUIRE(report.ok());
    CHECK(report->ok);
    CHECK(report->interferences.empty());
  }
}

TEST_CASE("A cube inside the build zone passes, outside it fails naming the part",
          "[topology][assembly]") {
  const Box zone{{-1, -1, 0}, {1, 1, 2}};
  std::vector<AssemblyPart> inside = {{"in", &UnitCube(), At({-0.5, -0.5, 0})}};
  absl::StatusOr<AssemblyReport> ok = ValidateAssembly(inside, {.build_zone = zone});
  REQUIRE(ok.ok());
  CHECK(ok->ok);
  CHECK(ok->parts[0].inside_build_zone);

  std::vector<AssemblyPart> outside = {{"out", &UnitCube(), At({0.5, 0, 0})}};
  absl::StatusOr<AssemblyReport> bad = ValidateAssembly(outside, {.build_zone = zone});
  REQUIRE(bad.ok());
  CHECK_FALSE(bad->ok);
  CHECK_FALSE(bad->parts[0].inside_build_zone);
  REQUIRE(bad->findings.size() == 1);
  CHECK(bad->findings[0].code == "assembly/outside-build-zone");
  CHECK(bad->findings[0].part == "out");
}

TEST_CASE("The size limit applies to the posed bounding box", "[topology][assembly]") {
  // Straight, the cube is 1 long; turned 45 degrees about z it is sqrt(2) wide.
  std::vector<AssemblyPart> straight = {{"c", &UnitCube(), At({0, 0, 0})}};
  std::vector<AssemblyPart> turned = {{"c", &UnitCube(), At({0, 0, 0}, {0, 0, 45})}};
  CHECK(ValidateAssembly(straight, {.max_extent = 1.2})->ok);
  absl::StatusOr<AssemblyReport> report = ValidateAssembly(turned, {.max_extent = 1.2});
  REQUIRE(report.ok());
  CHECK_FALSE(report->ok);
  CHECK_FALSE(report->parts[0].within_size_limit);
  REQUIRE(report->findings.size() == 1);
  CHECK(report->findings[0].code == "assembly/too-large");
}

TEST_CASE("Euler angles and the equivalent quaternion pose alike", "[topology][assembly]") {
  const Quaternion from_euler = QuaternionFromEulerDegrees({0, 0, 90});
  const Vec3 p = Rotate(from_euler, {1, 0, 0});
  CHECK(p.x == Approx(0).margin(1e-12));
  CHECK(p.y == Approx(1));
  // Intrinsic x then y: (x 90, y 90) sends +z to +x ... check against R = Rx * Ry.
  const Vec3 q = Rotate(QuaternionFromEulerDegrees({90, 90, 0}), {0, 0, 1});
  // Ry(90) maps z to x; Rx(90) leaves x: the result is +x.
  CHECK(q.x == Approx(1));
  CHECK(q.y == Approx(0).margin(1e-12));
  CHECK(q.z == Approx(0).margin(1e-12));
  absl::StatusOr<Quaternion> half = NormalizeQuaternion({2, 0, 0, 2});
  REQUIRE(half.ok());
  const Vec3 r = Rotate(*half, {1, 0, 0});
  CHECK(r.y == Approx(1));
  CHECK(NormalizeQuaternion({0, 0, 0, 0}).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Bad assembly requests are INVALID_ARGUMENT", "[topology][assembly]") {
  std::vector<AssemblyPart> twice = {{"a", &UnitCube(), {}}, {"a", &UnitCube(), {}}};
  CHECK(ValidateAssembly(twice, {}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ValidateAssembly({}, {}).status().code() == absl::StatusCode::kInvalidArgument);
  std::vector<AssemblyPart> one = {{"a", &UnitCube(), {}}};
  CHECK(ValidateAssembly(one, {.interference_threshold = -1}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(ValidateAssembly(one, {.build_zone = Box{{1, 1, 1}, {0, 0, 0}}}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(ValidateAssembly(one, {.samples_per_axis = 0}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("TopologyAnalyzer validates an assembly from workspace files", "[topology][assembly]") {
  workerpair::testing::TempDir dir;
  const std::filesystem::path root = std::filesystem::canonical(dir.path());
  test::WriteBytes(root / "parts/cube.stl", test::BinaryStl(test::Cube({0, 0, 0}, 1)));
  test::WriteBytes(root / "parts/open.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n");
  TopologyAnalyzer analyzer(TopologyOptions{.max_assembly_parts = 3});

  std::vector<AssemblyPartSpec> specs = {
      {.name = "a", .path = "parts/cube.stl"},
      {.name = "b", .path = "parts/cube.stl", .position = {0.5, 0, 0}},
      {.name = "sheet", .path = "parts/open.obj", .position = {5, 0, 0}}};
  absl::StatusOr<AssemblyReport> report = analyzer.ValidateAssembly(root, specs, {}, {});
  REQUIRE(report.ok());
  CHECK_FALSE(report->ok);
  REQUIRE(report->interferences.size() == 1);
  CHECK(report->interferences[0].overlap_volume == Approx(0.5).epsilon(0.02));
  // The open sheet gets a warning.
  bool warned = false;
  for (const AssemblyFinding& f : report->findings) {
    if (f.code == "assembly/not-watertight" && f.part == "sheet") warned = !f.error;
  }
  CHECK(warned);

  specs.push_back({.name = "d", .path = "parts/cube.stl"});
  CHECK(analyzer.ValidateAssembly(root, specs, {}, {}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  specs.pop_back();
  specs[1].path = "parts/missing.stl";
  const absl::Status missing = analyzer.ValidateAssembly(root, specs, {}, {}).status();
  CHECK(missing.code() == absl::StatusCode::kNotFound);
  CHECK_THAT(std::string(missing.message()), Catch::Contains("part 'b'"));
  specs[1].path = "parts/cube.stl";
  specs[1].use_quaternion = true;
  specs[1].quaternion = {0, 0, 0, 0};
  CHECK(analyzer.ValidateAssembly(root, specs, {}, {}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("TopologyAnalyzer analyses and inspects workspace meshes", "[topology]") {
  workerpair::testing::TempDir dir;
  const std::filesystem::path root = std::filesystem::canonical(dir.path());
  test::WriteBytes(root / "torus.obj", test::Obj(test::Torus(2, 0.5, 24, 12)));
  TopologyAnalyzer analyzer(TopologyOptions{});
  absl::StatusOr<MeshAnalysis> analysis = analyzer.Analyze(root, "torus.obj", {});
  REQUIRE(analysis.ok());
  CHECK(analysis->triangle_count == 24 * 12 * 2);
  CHECK(analysis->vertex_count == 24 * 12);
  CHECK(analysis->component_count == 1);
  CHECK(analysis->topology.genus == 1);
  CHECK(analyzer.InspectFace(root, "torus.obj", 24 * 12 * 2, {}).status().code() ==
        absl::StatusCode::kOutOfRange);
  absl::StatusOr<EdgeInspection> edge = analyzer.InspectEdge(root, "torus.obj", 0, {});
  REQUIRE(edge.ok());
  CHECK(edge->adjacent_faces.size() == 2);
  CHECK(analyzer.Analyze(root, "../torus.obj", {}).status().code() ==
        absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace workerpair::light
