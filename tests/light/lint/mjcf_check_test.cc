#include "services/light/core/lint/mjcf_check.h"

#include <catch2/catch.hpp>

#include "tests/light/lint/lint_test_util.h"

namespace workerpair::light {
namespace {

using lint_test::Dump;
using lint_test::OnlyWithCode;
using lint_test::TempWorkspace;
using lint_test::WithCode;

// A mesh MuJoCo 2.2.2 loads (binary STL, one triangle), for scenes whose meshes must exist.
std::string BinaryStl() {
  std::string bytes(84, '\0');
  bytes[80] = 1;
  bytes += std::string(50, '\0');
  return bytes;
}

std::vector<Diagnostic> Check(const TempWorkspace& ws, const std::string& path,
                              const std::string& xml, const SceneLimits& limits = {}) {
  ws.Write(path, xml);
  return CheckXmlFile(ws.root(), path, xml, limits);
}

TEST_CASE("Malformed XML is reported at the parser's line and column", "[lint][mjcf]") {
  TempWorkspace ws;
  const std::string xml =
      "<mujoco>\n"
      "  <worldbody>\n"
      "    <body name=\"a\">\n"
      "  </worldbody>\n"
      "</mujoco>\n";
  auto found = Check(ws, "scene.xml", xml);
  INFO(Dump(found));
  REQUIRE(found.size() == 1);
  CHECK(found[0].code == "xml/malformed");
  CHECK(found[0].severity == Severity::kError);
  CHECK(found[0].path == "scene.xml");
  CHECK(found[0].line == 4);
  CHECK(found[0].column == 5);  // the '/' of </worldbody>, where expat sees the mismatch
  CHECK_THAT(found[0].message, Catch::Contains("mismatched tag"));
}

TEST_CASE("A well-formed MJCF scene with existing assets has no diagnostics", "[lint][mjcf]") {
  TempWorkspace ws;
  ws.Write("scenes/assets/ramp.stl", BinaryStl());
  ws.Write("scenes/tex/wood.png", "png");
  const std::string xml = R"(<mujoco>
  <compiler meshdir="assets" texturedir="tex"/>
  <size njmax="1000" nconmax="500"/>
  <asset>
    <mesh name="ramp" file="ramp.stl"/>
    <texture name="wood" type="2d" file="wood.png"/>
    <material name="wood" texture="wood"/>
  </asset>
  <default><geom name="not-an-object"/><site size="0.1"/></default>
  <worldbody>
    <body name="ramp"><geom name="ramp" type="mesh" mesh="ramp"/></body>
    <body name="ball"><freejoint name="ball"/><geom name="ball" size="0.1"/></body>
    <site name="zone_goal_bin" type="box" size="0.2 0.2 0.1"/>
    <site name="zone_forbid_pit" size="0.5"/>
  </worldbody>
</mujoco>)";
  auto found = Check(ws, "scenes/scene.xml", xml);
  INFO(Dump(found));
  CHECK(found.empty());
}

TEST_CASE("A missing mesh file is an error naming where it was looked for", "[lint][mjcf]") {
  TempWorkspace ws;
  const std::string xml = R"(<mujoco>
  <compiler assetdir="assets"/>
  <asset>
    <mesh name="ramp" file="ramp.stl"/>
  </asset>
</mujoco>)";
  auto found = Check(ws, "scenes/scene.xml", xml);
  INFO(Dump(found));
  auto missing = OnlyWithCode(found, "mjcf/missing-asset");
  REQUIRE(missing);
  CHECK(missing->line == 4);
  CHECK(missing->column == 5);
  CHECK(missing->severity == Severity::kError);
  CHECK_THAT(missing->message, Catch::Contains("scenes/assets/ramp.stl"));
  // Once the file exists the diagnostic goes away.
  ws.Write("scenes/assets/ramp.stl", BinaryStl());
  CHECK(WithCode(CheckXmlFile(ws.root(), "scenes/scene.xml", xml, {}), "mjcf/missing-asset")
            .empty());
}

TEST_CASE("Asset references leaving the workspace are errors", "[lint][mjcf]") {
  TempWorkspace ws;
  const std::string xml = R"(<mujoco>
  <asset>
    <mesh name="a" file="../../etc/passwd"/>
    <mesh name="b" file="/etc/passwd"/>
    <hfield name="c" file="../outside.png"/>
  </asset>
</mujoco>)";
  auto found = Check(ws, "scenes/scene.xml", xml);
  INFO(Dump(found));
  auto outside = WithCode(found, "mjcf/asset-outside-workspace");
  REQUIRE(outside.size() == 2);
  CHECK(outside[0].line == 3);
  CHECK(outside[1].line == 4);
  // "../outside.png" from scenes/ stays inside the workspace: it is only missing.
  auto missing = OnlyWithCode(found, "mjcf/missing-asset");
  REQUIRE(missing);
  CHECK(missing->line == 5);
  for (const Diagnostic& d : found) CHECK(d.message.find(ws.root().string()) == std::string::npos);
}

TEST_CASE("Duplicate names within a kind are errors, across kinds they are fine",
          "[lint][mjcf]") {
  TempWorkspace ws;
  const std::string xml = R"(<mujoco>
  <worldbody>
    <body name="box">
      <geom name="box" size="1"/>
      <joint name="hinge"/>
    </body>
    <body name="box">
      <geom name="g2" size="1"/>
      <freejoint name="hinge"/>
    </body>
  </worldbody>
  <actuator>
    <motor name="m" joint="hinge"/>
    <position name="m" joint="hinge"/>
  </actuator>
</mujoco>)";
  auto found = Check(ws, "scene.xml", xml);
  INFO(Dump(found));
  auto duplicates = WithCode(found, "mjcf/duplicate-name");
  REQUIRE(duplicates.size() == 3);
  CHECK(duplicates[0].line == 7);
  CHECK_THAT(duplicates[0].message, Catch::Contains("body name 'box'") &&
                                        Catch::Contains("line 3"));
  CHECK(duplicates[1].line == 9);
  CHECK_THAT(duplicates[1].message, Catch::Contains("joint name 'hinge'"));
  CHECK(duplicates[2].line == 14);
  CHECK_THAT(duplicates[2].message, Catch::Contains("actuator name 'm'"));
}

TEST_CASE("Zone sites need a positive size and a box or sphere shape", "[lint][mjcf]") {
  TempWorkspace ws;
  const std::string xml = R"(<mujoco>
  <worldbody>
    <site name="zone_goal_a"/>
    <site name="zone_forbid_b" type="box" size="0.1 0.1"/>
    <site name="zone_goal_c" type="capsule" size="0.1 0.2"/>
    <site name="zone_goal_d" size="-1"/>
    <site name="not_a_zone"/>
  </worldbody>
</mujoco>)";
  auto found = Check(ws, "scene.xml", xml);
  INFO(Dump(found));
  auto no_size = OnlyWithCode(found, "mjcf/zone-without-size");
  REQUIRE(no_size);
  CHECK(no_size->line == 3);
  CHECK_THAT(no_size->message, Catch::Contains("zone_goal_a"));
  auto bad_size = WithCode(found, "mjcf/zone-bad-size");
  REQUIRE(bad_size.size() == 2);
  CHECK(bad_size[0].line == 4);
  CHECK(bad_size[1].line == 6);
  auto bad_type = OnlyWithCode(found, "mjcf/zone-bad-type");
  REQUIRE(bad_type);
  CHECK(bad_type->line == 5);
  CHECK(found.size() == 4);
}

TEST_CASE("njmax, nconmax and body count over SceneLimits are warned about", "[lint][mjcf]") {
  TempWorkspace ws;
  SceneLimits limits;
  limits.max_bodies = 2;
  const std::string xml = R"(<mujoco>
  <size njmax="8000" nconmax="2000"/>
  <worldbody>
    <body name="a"><body name="b"/></body>
    <body name="c"/>
  </worldbody>
</mujoco>)";
  auto found = Check(ws, "scene.xml", xml, limits);
  INFO(Dump(found));
  auto njmax = OnlyWithCode(found, "mjcf/njmax-over-limit");
  REQUIRE(njmax);
  CHECK(njmax->line == 2);
  CHECK(njmax->severity == Severity::kError);
  CHECK_THAT(njmax->message, Catch::Contains("8000") && Catch::Contains("5000"));
  CHECK(WithCode(found, "mjcf/nconmax-over-limit").empty());  // equal to the limit is fine
  auto bodies = OnlyWithCode(found, "mjcf/too-many-bodies");
  CHECK(bodies->severity == Severity::kError);
  REQUIRE(bodies);
  CHECK_THAT(bodies->message, Catch::Contains("3 bodies"));
  CHECK(found.size() == 2);

  auto invalid = Check(ws, "bad.xml", "<mujoco><size njmax=\"lots\"/></mujoco>");
  CHECK(OnlyWithCode(invalid, "mjcf/invalid-value"));
}

TEST_CASE("XML that is not MJCF is checked for well-formedness only", "[lint][mjcf]") {
  TempWorkspace ws;
  CHECK(Check(ws, "pom.xml", "<project><mesh file=\"missing.stl\"/></project>").empty());
  auto doctype = Check(ws, "evil.xml",
                       "<!DOCTYPE lol [<!ENTITY a \"aaaa\">]>\n<mujoco>&a;</mujoco>");
  REQUIRE(doctype.size() == 1);
  CHECK(doctype[0].code == "xml/malformed");
  CHECK(doctype[0].line == 1);
}

TEST_CASE("A reference naming no mesh or material is an error with its line and column",
          "[lint][mjcf]") {
  TempWorkspace ws;
  ws.Write("scenes/meshes/ramp.stl", BinaryStl());
  const std::string xml = R"(<mujoco>
  <asset><mesh name="ramp" file="meshes/ramp.stl"/><material name="grid"/></asset>
  <worldbody>
    <geom type="mesh" mesh="rampp"/>
    <geom size="1" material="gridd"/>
  </worldbody>
</mujoco>)";
  auto found = Check(ws, "scenes/scene.xml", xml);
  INFO(Dump(found));
  auto unknown = WithCode(found, "mjcf/unknown-name");
  REQUIRE(unknown.size() == 2);
  CHECK(found.size() == 2);
  CHECK(unknown[0].path == "scenes/scene.xml");
  CHECK(unknown[0].line == 4);
  CHECK(unknown[0].column == 5);
  CHECK(unknown[0].severity == Severity::kError);
  CHECK_THAT(unknown[0].message, Catch::Contains("mesh=\"rampp\"") &&
                                     Catch::Contains("did you mean 'ramp'?"));
  CHECK(unknown[1].line == 5);
  CHECK_THAT(unknown[1].message, Catch::Contains("material=\"gridd\""));
}

TEST_CASE("An included file is checked with the file that includes it", "[lint][mjcf]") {
  TempWorkspace ws;
  ws.Write("scenes/parts/mesh.stl", BinaryStl());
  const std::string main = R"(<mujoco>
  <compiler meshdir="parts"/>
  <include file="parts/assets.xml"/>
  <worldbody><include file="parts/bodies.xml"/></worldbody>
</mujoco>)";
  ws.Write("scenes/parts/assets.xml",
           R"(<mujoco><asset><mesh name="m" file="mesh.stl"/></asset></mujoco>)");
  // Alone, bodies.xml names a mesh it does not define: the include gives it one.
  const std::string bodies = "<mujoco>\n  <geom type=\"mesh\" mesh=\"m\"/>\n"
                             "  <geom type=\"mesh\" mesh=\"q\"/>\n</mujoco>";
  ws.Write("scenes/parts/bodies.xml", bodies);
  auto found = Check(ws, "scenes/scene.xml", main);
  INFO(Dump(found));
  // The file reference resolves against the main file's directory plus meshdir, as in MuJoCo.
  auto unknown = OnlyWithCode(found, "mjcf/unknown-name");
  REQUIRE(unknown);
  CHECK(unknown->path == "scenes/parts/bodies.xml");
  CHECK(unknown->line == 3);
  CHECK(found.size() == 1);
  // Linted alone, the included file reports nothing about names: its includer does.
  auto alone = CheckXmlFile(ws.root(), "scenes/parts/bodies.xml", bodies, {});
  INFO(Dump(alone));
  CHECK(alone.empty());
}

TEST_CASE("References that climb with '..' are errors, as worker-heavy refuses them",
          "[lint][mjcf]") {
  TempWorkspace ws;
  ws.Write("meshes/a.stl", BinaryStl());
  const std::string xml = R"(<mujoco>
  <asset><mesh name="a" file="../meshes/a.stl"/></asset>
  <compiler texturedir="/usr/share"/>
  <include file="missing.xml"/>
</mujoco>)";
  auto found = Check(ws, "scenes/scene.xml", xml);
  INFO(Dump(found));
  auto climbs = OnlyWithCode(found, "mjcf/asset-path-climbs");
  REQUIRE(climbs);
  CHECK(climbs->line == 2);
  CHECK_THAT(climbs->message, Catch::Contains("worker-heavy refuses it"));
  auto outside = OnlyWithCode(found, "mjcf/asset-outside-workspace");
  REQUIRE(outside);
  CHECK(outside->line == 3);
  auto missing = OnlyWithCode(found, "mjcf/missing-asset");
  REQUIRE(missing);
  CHECK(missing->line == 4);
  CHECK(found.size() == 3);
}

TEST_CASE("A malformed or repeated include is a bad include at the include element",
          "[lint][mjcf]") {
  TempWorkspace ws;
  ws.Write("part.xml", "<mujoco>\n<asset>\n</mujoco>");
  ws.Write("ok.xml", "<mujoco/>");
  auto found = Check(ws, "scene.xml",
                     "<mujoco>\n<include file=\"part.xml\"/>\n<include file=\"ok.xml\"/>\n"
                     "<include file=\"ok.xml\"/>\n</mujoco>");
  INFO(Dump(found));
  auto bad = WithCode(found, "mjcf/bad-include");
  REQUIRE(bad.size() == 2);
  CHECK(bad[0].line == 2);
  CHECK_THAT(bad[0].message, Catch::Contains("'part.xml' is not well-formed: line 3"));
  CHECK(bad[1].line == 4);
  CHECK_THAT(bad[1].message, Catch::Contains("already part of the scene"));
}

TEST_CASE("A mesh MuJoCo does not load is an error at its reference", "[lint][mjcf]") {
  TempWorkspace ws;
  ws.Write("m/ascii.stl", "solid x\nendsolid x\n");
  ws.Write("m/good.stl", BinaryStl());
  auto found = Check(ws, "scene.xml", R"(<mujoco><asset>
  <mesh name="a" file="m/ascii.stl"/>
  <mesh name="b" file="m/good.stl"/>
</asset></mujoco>)");
  INFO(Dump(found));
  auto unsupported = OnlyWithCode(found, "mjcf/mesh-unsupported");
  REQUIRE(unsupported);
  CHECK(unsupported->line == 2);
  CHECK_THAT(unsupported->message, Catch::Contains("binary STL only"));
  CHECK(found.size() == 1);
}

}  // namespace
}  // namespace workerpair::light
