// Mesh loading, metrics, topology and inspection against shapes with known answers.
#include <catch2/catch.hpp>
#include <cmath>
#include <numbers>

#include "services/light/core/topology/mesh_inspection.h"
#include "services/light/core/topology/mesh_loader.h"
#include "services/light/core/topology/mesh_metrics.h"
#include "services/light/core/topology/mesh_topology.h"
#include "tests/light/topology/test_meshes.h"

namespace workerpair::light {
namespace {

using test::Soup;

TriangleMesh Parse(const std::string& path, const std::string& bytes, double epsilon = 0) {
  absl::StatusOr<TriangleMesh> mesh = ParseMesh(path, bytes, {.weld_epsilon = epsilon}, {});
  INFO(mesh.status().ToString());
  REQUIRE(mesh.ok());
  return std::move(*mesh);
}

struct Analysis {
  TriangleMesh mesh;
  MeshMetrics metrics;
  TopologyReport topology;
};

Analysis Analyze(const std::string& path, const std::string& bytes, double epsilon = 0) {
  Analysis a{Parse(path, bytes, epsilon)};
  a.metrics = MeasureMesh(a.mesh);
  a.topology = AnalyzeTopology(a.mesh, BuildEdgeTable(a.mesh));
  return a;
}

void CheckUnitCube(const Analysis& a) {
  CHECK(a.mesh.triangles.size() == 12);
  CHECK(a.mesh.vertices.size() == 8);
  CHECK(a.metrics.signed_volume == Approx(1.0).epsilon(1e-12));
  CHECK(a.metrics.area == Approx(6.0).epsilon(1e-12));
  CHECK(a.metrics.bounds.min == Vec3{0, 0, 0});
  CHECK(a.metrics.bounds.max == Vec3{1, 1, 1});
  CHECK(a.metrics.solid_center);
  CHECK(a.metrics.center_of_mass.x == Approx(0.5));
  CHECK(a.metrics.center_of_mass.y == Approx(0.5));
  CHECK(a.metrics.center_of_mass.z == Approx(0.5));
  CHECK(a.metrics.degenerate_face_count == 0);
  CHECK(a.metrics.duplicate_face_count == 0);
  CHECK(a.topology.watertight);
  CHECK(a.topology.manifold);
  CHECK(a.topology.consistently_oriented);
  CHECK(a.topology.vertex_count == 8);
  CHECK(a.topology.edge_count == 18);
  CHECK(a.topology.face_count == 12);
  CHECK(a.topology.euler_characteristic == 2);
  REQUIRE(a.topology.genus.has_value());
  CHECK(*a.topology.genus == 0);
  REQUIRE(a.topology.components.size() == 1);
  CHECK(a.topology.components[0].closed);
}

TEST_CASE("A binary STL unit cube has volume 1, area 6, genus 0 and is watertight", "[topology]") {
  const Analysis a = Analyze("cube.stl", test::BinaryStl(test::Cube({0, 0, 0}, 1)));
  CHECK(a.mesh.format == MeshFormat::kStlBinary);
  CheckUnitCube(a);
}

TEST_CASE("An ASCII STL unit cube gives the same answers", "[topology]") {
  const Analysis a = Analyze("cube.STL", test::AsciiStl(test::Cube({0, 0, 0}, 1)));
  CHECK(a.mesh.format == MeshFormat::kStlAscii);
  CheckUnitCube(a);
}

TEST_CASE("An OBJ cube of quads is fan-triangulated into 12 faces", "[topology]") {
  const Analysis a = Analyze("cube.obj", test::Obj(test::CubeQuads({0, 0, 0}, 1)));
  CHECK(a.mesh.format == MeshFormat::kObj);
  CheckUnitCube(a);
}

TEST_CASE("A binary STL whose header starts with 'solid' is still read as binary", "[topology]") {
  std::string bytes = test::BinaryStl(test::Cube({0, 0, 0}, 1));
  bytes.replace(0, 5, "solid");
  CheckUnitCube(Analyze("cube.stl", bytes));
}

TEST_CASE("A UV sphere's volume and area approach the round sphere's", "[topology]") {
  const double r = 2;
  const Analysis a = Analyze("sphere.stl", test::BinaryStl(test::Sphere({1, 2, 3}, r, 64, 32)));
  const double exact = 4.0 / 3.0 * std::numbers::pi * r * r * r;
  // An inscribed polyhedron: slightly less than the sphere, by the tessellation error.
  CHECK(a.metrics.signed_volume < exact);
  CHECK(a.metrics.signed_volume == Approx(exact).epsilon(0.01));
  CHECK(a.metrics.signed_volume ==
        Approx(test::SphereVolume(r, 64, 32)).epsilon(1e-5));  // float STL coordinates
  CHECK(a.metrics.area == Approx(4 * std::numbers::pi * r * r).epsilon(0.01));
  CHECK(a.metrics.center_of_mass.x == Approx(1).margin(1e-5));
  CHECK(a.metrics.center_of_mass.y == Approx(2).margin(1e-5));
  CHECK(a.metrics.center_of_mass.z == Approx(3).margin(1e-5));
  CHECK(a.topology.watertight);
  CHECK(a.topology.manifold);
  CHECK(a.topology.euler_characteristic == 2);
  REQUIRE(a.topology.genus.has_value());
  CHECK(*a.topology.genus == 0);
}

TEST_CASE("A torus has genus 1 and Euler characteristic 0", "[topology]") {
  const double R = 3, r = 1;
  const Analysis a = Analyze("torus.obj", test::Obj(test::Torus(R, r, 64, 32)));
  CHECK(a.topology.watertight);
  CHECK(a.topology.manifold);
  CHECK(a.topology.consistently_oriented);
  CHECK(a.topology.euler_characteristic == 0);
  REQUIRE(a.topology.genus.has_value());
  CHECK(*a.topology.genus == 1);
  CHECK(a.metrics.signed_volume ==
        Approx(2 * std::numbers::pi * std::numbers::pi * R * r * r).epsilon(0.01));
}

TEST_CASE("An open box is not watertight and has no genus", "[topology]") {
  Soup box = test::Cube({0, 0, 0}, 1);
  box.f.erase(box.f.begin() + 2, box.f.begin() + 4);  // the two triangles of the top
  const Analysis a = Analyze("open.stl", test::BinaryStl(box));
  CHECK_FALSE(a.topology.watertight);
  CHECK(a.topology.manifold);
  CHECK(a.topology.boundary_edge_count == 4);
  CHECK(a.topology.euler_characteristic == 1);  // a disc
  CHECK_FALSE(a.topology.genus.has_value());
  REQUIRE(a.topology.components.size() == 1);
  CHECK_FALSE(a.topology.components[0].closed);
}

TEST_CASE("Inverted winding gives a negative volume, one flipped face is inconsistent",
          "[topology]") {
  Soup cube = test::Cube({0, 0, 0}, 1);
  SECTION("all faces flipped") {
    for (auto& face : cube.f) std::swap(face[1], face[2]);
    const Analysis a = Analyze("inverted.stl", test::BinaryStl(cube));
    CHECK(a.metrics.signed_volume == Approx(-1.0));
    CHECK(a.metrics.center_of_mass.x == Approx(0.5));
    CHECK(a.topology.consistently_oriented);
    CHECK(a.topology.watertight);
  }
  SECTION("one face flipped") {
    std::swap(cube.f[0][1], cube.f[0][2]);
    const Analysis a = Analyze("flipped.stl", test::BinaryStl(cube));
    CHECK(a.topology.inconsistent_edge_count == 3);
    CHECK_FALSE(a.topology.consistently_oriented);
    CHECK(a.topology.watertight);
    CHECK_FALSE(a.topology.genus.has_value());
  }
}

TEST_CASE("Degenerate and duplicate faces are counted and listed", "[topology]") {
  Soup cube = test::Cube({0, 0, 0}, 1);
  cube.f.push_back({cube.f[5][0], cube.f[5][2], cube.f[5][1]});  // face 12 duplicates face 5
  cube.v.push_back({0.5, 0, 0});                                 // collinear with 0 and 1
  cube.f.push_back({0, 8, 1});                                   // face 13: zero area
  const Analysis a = Analyze("defects.obj", test::Obj(cube));
  CHECK(a.metrics.duplicate_face_count == 1);
  CHECK(a.metrics.duplicate_faces == std::vector<std::uint32_t>{12});
  CHECK(a.metrics.degenerate_face_count == 1);
  CHECK(a.metrics.degenerate_faces == std::vector<std::uint32_t>{13});
  // The duplicate puts a third face on three edges.
  CHECK(a.topology.non_manifold_edge_count >= 3);
  CHECK_FALSE(a.topology.manifold);
}

TEST_CASE("Welding collapses a sliver to a degenerate face that topology ignores", "[topology]") {
  Soup cube = test::Cube({0, 0, 0}, 1);
  cube.v.push_back({1e-9, 0, 0});  // within 1e-6 of vertex 0
  cube.f.push_back({0, 8, 2});     // collapses once welded
  const Analysis exact = Analyze("sliver.obj", test::Obj(cube));
  CHECK_FALSE(exact.topology.watertight);
  const Analysis welded = Analyze("sliver.obj", test::Obj(cube), 1e-6);
  CHECK(welded.mesh.vertices.size() == 8);
  CHECK(welded.metrics.degenerate_faces == std::vector<std::uint32_t>{12});
  CHECK(welded.topology.watertight);
  CHECK(welded.topology.face_count == 12);
}

TEST_CASE("Welding by epsilon closes a cube whose corners were jittered", "[topology]") {
  // STL triangles carry their own corner copies; jitter one copy of a corner.
  auto triangles = test::Cube({0, 0, 0}, 1).Triangles();
  std::string ascii = "solid j\n";
  bool jittered = false;
  for (auto& t : triangles) {
    ascii += "facet normal 0 0 0\nouter loop\n";
    for (Vec3 p : t) {
      if (!jittered && p == Vec3{1, 1, 1}) {
        p.x += 1e-7;
        jittered = true;
      }
      ascii += "vertex ";
      ascii += test::Point(p);
      ascii += '\n';
    }
    ascii += "endloop\nendfacet\n";
  }
  ascii += "endsolid j\n";
  REQUIRE(jittered);
  const Analysis exact = Analyze("j.stl", ascii);
  CHECK(exact.mesh.vertices.size() == 9);
  CHECK_FALSE(exact.topology.watertight);
  const Analysis welded = Analyze("j.stl", ascii, 1e-6);
  CHECK(welded.mesh.vertices.size() == 8);
  CHECK(welded.topology.watertight);
  CHECK(*welded.topology.genus == 0);
}

TEST_CASE("Two separate cubes are two closed components", "[topology]") {
  Soup two = test::Cube({0, 0, 0}, 1);
  two.Append(test::Cube({3, 0, 0}, 2));
  const Analysis a = Analyze("two.stl", test::BinaryStl(two));
  REQUIRE(a.topology.components.size() == 2);
  CHECK(a.topology.components[0].first_face == 0);
  CHECK(a.topology.components[1].first_face == 12);
  CHECK(a.topology.components[1].face_count == 12);
  CHECK(a.topology.euler_characteristic == 4);
  CHECK(*a.topology.genus == 0);
  CHECK(a.metrics.signed_volume == Approx(9.0));
  // Centre of mass weighted by volume: (1 * 0.5 + 8 * 4) / 9 on x.
  CHECK(a.metrics.center_of_mass.x == Approx((0.5 + 8 * 4.0) / 9));
}

TEST_CASE("Two cubes touching at a corner share a non-manifold vertex", "[topology]") {
  Soup two = test::Cube({0, 0, 0}, 1);
  two.Append(test::Cube({1, 1, 1}, 1));
  const Analysis a = Analyze("touch.stl", test::BinaryStl(two));
  CHECK(a.topology.watertight);
  CHECK(a.topology.non_manifold_vertex_count == 1);
  CHECK_FALSE(a.topology.manifold);
  CHECK(a.topology.components.size() == 1);
  CHECK_FALSE(a.topology.genus.has_value());
}

TEST_CASE("InspectFace returns normal, area, centre and corners", "[topology]") {
  const TriangleMesh mesh = Parse("cube.stl", test::BinaryStl(test::Cube({0, 0, 0}, 1)));
  // Face 0 is the first half of the bottom quad: (0,0,0) (0,1,0) (1,1,0).
  absl::StatusOr<FaceInspection> face = InspectFace("cube.stl", mesh, 0);
  REQUIRE(face.ok());
  CHECK(face->normal == Vec3{0, 0, -1});
  CHECK(face->area == Approx(0.5));
  CHECK(face->centre.x == Approx(1.0 / 3));
  CHECK(face->centre.y == Approx(2.0 / 3));
  CHECK(face->centre.z == 0);
  CHECK(face->corners[2] == Vec3{1, 1, 0});
  CHECK_FALSE(face->degenerate);

  absl::StatusOr<FaceInspection> missing = InspectFace("cube.stl", mesh, 12);
  CHECK(missing.status().code() == absl::StatusCode::kOutOfRange);
  CHECK(missing.status().message().find("12 faces") != absl::string_view::npos);
}

TEST_CASE("InspectEdge returns endpoints, length and the two adjacent faces", "[topology]") {
  const TriangleMesh mesh = Parse("cube.stl", test::BinaryStl(test::Cube({0, 0, 0}, 1)));
  const EdgeTable edges = BuildEdgeTable(mesh);
  REQUIRE(edges.size() == 18);
  double total = 0;
  for (std::uint64_t i = 0; i < edges.size(); ++i) {
    absl::StatusOr<EdgeInspection> edge = InspectEdge("cube.stl", mesh, edges, i);
    REQUIRE(edge.ok());
    CHECK(edge->adjacent_faces.size() == 2);
    CHECK(edge->consistent);
    CHECK(edge->vertex_indices[0] < edge->vertex_indices[1]);
    CHECK(edge->length == Approx(Norm(edge->end - edge->start)));
    total += edge->length;
  }
  // 12 unit sides and 6 face diagonals.
  CHECK(total == Approx(12 + 6 * std::sqrt(2.0)));
  CHECK(InspectEdge("cube.stl", mesh, edges, 18).status().code() == absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace workerpair::light
