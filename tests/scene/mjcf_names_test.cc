// CheckMjcfNames against MuJoCo 2.2.2 itself: for every scene of the table, the names check
// reports an error exactly when mj_loadXML refuses the scene, with the expected code.
#include "libs/scene/mjcf_names.h"

#include <catch2/catch.hpp>

#include <mujoco/mujoco.h>

#include <array>
#include <string>

#include "services/heavy/core/scene/mujoco_guard.h"
#include "tests/heavy/scene/scratch_dir.h"

namespace workerpair::scene {
namespace {

using workerpair::testing::ScratchDir;

// A tetrahedron as binary STL.
std::string TetrahedronStl() {
  const float corners[4][3][3] = {{{0, 0, 0}, {1, 0, 0}, {0, 1, 0}},
                                  {{0, 0, 0}, {0, 1, 0}, {0, 0, 1}},
                                  {{0, 0, 0}, {0, 0, 1}, {1, 0, 0}},
                                  {{1, 0, 0}, {0, 0, 1}, {0, 1, 0}}};
  std::string out(80, '\0');
  const std::uint32_t count = 4;
  out.append(reinterpret_cast<const char*>(&count), 4);
  for (const auto& triangle : corners) {
    out.append(12, '\0');
    out.append(reinterpret_cast<const char*>(triangle), sizeof(triangle));
    out.append(2, '\0');
  }
  return out;
}

struct Loaded {
  std::vector<MjcfNameFinding> findings;
  bool mujoco_loads = false;
  std::string mujoco_error;
};

// Writes `files` (path, content) into a scratch directory, checks the names of "scene.xml" and
// loads it with MuJoCo.
Loaded Load(const std::vector<std::pair<std::string, std::string>>& files) {
  ScratchDir scratch;
  for (const auto& [path, content] : files) scratch.Write(path, content);
  scratch.Write("a/tet.stl", TetrahedronStl());
  scratch.Write("b/tet.stl", TetrahedronStl());
  const MjcfScene scene = LoadMjcfScene(
      "scene.xml", scratch.Read("scene.xml"),
      [&](const std::string& path) -> absl::StatusOr<std::string> { return scratch.Read(path); });
  REQUIRE(scene.complete());
  Loaded loaded;
  loaded.findings = CheckMjcfNames(scene);
  heavy::scene::InstallMujocoHandlers();
  std::array<char, 1024> error{};
  const std::string file = (scratch.path() / "scene.xml").string();
  mjModel* model = nullptr;
  try {
    model = mj_loadXML(file.c_str(), nullptr, error.data(), static_cast<int>(error.size()));
  } catch (const heavy::scene::MujocoError& e) {
    loaded.mujoco_error = e.what();
  }
  loaded.mujoco_loads = model != nullptr;
  if (model != nullptr) mj_deleteModel(model);
  if (loaded.mujoco_error.empty()) loaded.mujoco_error = error.data();
  return loaded;
}

std::string Dump(const std::vector<MjcfNameFinding>& findings) {
  std::string out;
  for (const MjcfNameFinding& f : findings) {
    out += f.path + ":" + std::to_string(f.line) + ":" + std::to_string(f.column) + " " + f.code +
           (f.error ? " [error] " : " [warning] ") + f.message + "\n";
  }
  return out;
}

const char kBody[] = R"(<body name="b" pos="0 0 1"><joint name="j" type="hinge"/>
  <geom name="g" size=".1"/><site name="s"/></body>)";

struct Case {
  const char* name;
  std::string xml;
  // The one finding expected ("" for none) and whether it is an error.
  std::string code;
  bool error = true;
};

std::vector<Case> Cases() {
  const std::string body = kBody;
  auto scene = [&](const std::string& asset, const std::string& world, const std::string& rest) {
    return "<mujoco><asset>" + asset + "</asset><worldbody>" + body + world + "</worldbody>" +
           rest + "</mujoco>";
  };
  return {
      {"every kind referenced by its attribute",
       R"(<mujoco><compiler meshdir="a"/>
  <default><default class="c"><geom rgba="1 0 0 1"/></default></default>
  <option><flag actuation="disable" equality="disable"/></option>
  <visual><rgba joint="1 0 0 1" actuator="1 0 0 1"/></visual>
  <asset><mesh file="tet.stl"/><texture name="t" type="2d" builtin="checker" width="8" height="8"/>
    <material name="m" texture="t"/></asset>
  <worldbody>)" + body + R"(
    <body name="c" childclass="c" pos="1 0 1"><freejoint name="f"/><geom class="c" type="mesh" mesh="tet" material="m"/>
      <site name="s2"/></body>
    <camera name="cam" mode="targetbody" target="b"/><light name="l" target="c"/>
  </worldbody>
  <tendon><fixed name="tf"><joint joint="j" coef="1"/></fixed>
    <spatial name="ts"><site site="s"/><geom geom="g" sidesite="s2"/><site site="s2"/></spatial></tendon>
  <actuator><motor name="a" joint="j"/><general name="a2" site="s"/><motor name="a3" tendon="tf"/>
    <adhesion name="a4" body="c" ctrlrange="0 1"/></actuator>
  <sensor><touch site="s"/><jointpos joint="j"/><framepos objtype="body" objname="c" reftype="site" refname="s"/>
    <actuatorfrc actuator="a"/><tendonpos tendon="ts"/><subtreecom body="b"/></sensor>
  <equality><weld body1="c" body2="world"/><joint joint1="j"/></equality>
  <contact><exclude body1="b" body2="c"/><pair geom1="g" geom2="g"/></contact>
  <custom><numeric name="n" data="1"/><tuple name="tu"><element objtype="body" objname="b" prm="1"/></tuple></custom>
  <keyframe><key name="k" time="0"/></keyframe>
</mujoco>)",
       ""},
      {"a mesh= naming no mesh", scene("", R"(<geom type="mesh" mesh="rampp"/>)", ""),
       "mjcf/unknown-name"},
      {"a material= naming no material", scene("", R"(<geom size=".1" material="gridd"/>)", ""),
       "mjcf/unknown-name"},
      {"a texture= naming no texture", scene(R"(<material name="m" texture="tt"/>)", "", ""),
       "mjcf/unknown-name"},
      {"a class= naming no class", scene("", R"(<geom class="zz" size=".1"/>)", ""),
       "mjcf/unknown-name"},
      {"a childclass= naming no class", scene("", R"(<body childclass="q"><geom size=".1"/></body>)", ""),
       "mjcf/unknown-name"},
      {"class main without any default", scene("", R"(<geom class="main" size=".1"/>)", ""),
       "mjcf/unknown-name"},
      {"class main with a default",
       "<mujoco><default><geom size=\".1\"/></default><worldbody>" + body +
           "<geom class=\"main\"/></worldbody></mujoco>",
       ""},
      {"an actuator's joint= naming no joint", scene("", "", R"(<actuator><motor joint="jj"/></actuator>)"),
       "mjcf/unknown-name"},
      {"a sensor's objname= naming no body",
       scene("", "", R"(<sensor><framepos objtype="body" objname="zz"/></sensor>)"),
       "mjcf/unknown-name"},
      {"a camera target naming no body", scene("", R"(<camera mode="targetbody" target="zz"/>)", ""),
       "mjcf/unknown-name"},
      {"a tendon site naming no site",
       scene("", "", R"(<tendon><spatial><site site="s"/><site site="q"/></spatial></tendon>)"),
       "mjcf/unknown-name"},
      {"an exclude naming no body", scene("", "", R"(<contact><exclude body1="b" body2="zz"/></contact>)"),
       "mjcf/unknown-name"},
      {"an adhesion body naming no body",
       scene("", "", R"(<actuator><adhesion body="bb" ctrlrange="0 1"/></actuator>)"),
       "mjcf/unknown-name"},
      {"a dangling material in a default class is a warning",
       "<mujoco><default><default class=\"x\"><geom material=\"nope\"/></default></default>"
       "<worldbody>" + body + "</worldbody></mujoco>",
       "mjcf/unknown-name", false},
      {"an empty reference names nothing", scene("", R"(<geom size=".1" material=""/>)", ""), ""},
      {"two geoms of one name", scene("", R"(<geom name="g" size=".1"/>)", ""),
       "mjcf/duplicate-name"},
      {"two joints of one name, one a freejoint",
       scene("", R"(<body><freejoint name="j"/><geom size=".1"/></body>)", ""),
       "mjcf/duplicate-name"},
      {"two actuators of one name",
       scene("", "", R"(<actuator><motor name="m" joint="j"/><position name="m" joint="j"/></actuator>)"),
       "mjcf/duplicate-name"},
      {"two default classes of one name",
       "<mujoco><default><default class=\"a\"/><default class=\"a\"/></default></mujoco>",
       "mjcf/duplicate-name"},
      {"a body and a geom may share a name", scene("", R"(<body name="g"><geom size=".1"/></body>)", ""),
       ""},
      {"references to the bodies a composite makes are not checked",
       scene("", R"(<body name="grid"><composite type="grid" count="2 2 1" spacing="0.1">
         <geom size=".02"/></composite></body>)",
             R"(<contact><exclude body1="B0_0" body2="B1_1"/></contact>)"),
       ""},
      {"two meshes named after the same file name are a warning",
       R"(<mujoco><asset><mesh file="a/tet.stl"/><mesh file="b/tet.stl"/></asset>
         <worldbody><geom type="mesh" mesh="tet"/></worldbody></mujoco>)",
       "mjcf/duplicate-name", false},
  };
}

TEST_CASE("Name findings are errors exactly when MuJoCo 2.2.2 refuses the scene", "[scene][mjcf]") {
  for (const Case& c : Cases()) {
    INFO("case: " << c.name);
    const Loaded loaded = Load({{"scene.xml", c.xml}});
    INFO(Dump(loaded.findings));
    INFO("MuJoCo: " << (loaded.mujoco_loads ? "loads" : loaded.mujoco_error));
    bool any_error = false;
    for (const MjcfNameFinding& f : loaded.findings) any_error |= f.error;
    CHECK(any_error == !loaded.mujoco_loads);
    if (c.code.empty()) {
      CHECK(loaded.findings.empty());
    } else {
      REQUIRE(loaded.findings.size() == 1);
      CHECK(loaded.findings[0].code == c.code);
      CHECK(loaded.findings[0].error == c.error);
      CHECK(loaded.findings[0].path == "scene.xml");
      CHECK(loaded.findings[0].line > 0);
    }
  }
}

TEST_CASE("An unknown name's message names the attribute and suggests the closest name",
          "[scene][mjcf]") {
  const Loaded loaded = Load({{"scene.xml", R"(<mujoco><asset><mesh name="ramp" file="a/tet.stl"/>
  <material name="grid"/></asset>
  <worldbody>
    <geom type="mesh" mesh="rampp" material="gridd"/>
    <geom size=".1" material="steel"/>
  </worldbody></mujoco>)"}});
  INFO(Dump(loaded.findings));
  REQUIRE(loaded.findings.size() == 3);
  CHECK(loaded.findings[0].line == 4);
  CHECK(loaded.findings[0].column == 5);
  CHECK_THAT(loaded.findings[0].message,
             Catch::Contains("mesh=\"rampp\"") && Catch::Contains("names no mesh") &&
                 Catch::Contains("did you mean 'ramp'?"));
  CHECK_THAT(loaded.findings[1].message, Catch::Contains("did you mean 'grid'?"));
  CHECK_THAT(loaded.findings[2].message, Catch::Contains("(the scene has 'grid')"));
  CHECK_FALSE(loaded.mujoco_loads);
}

TEST_CASE("Names defined in an included file count, and findings there name that file",
          "[scene][mjcf]") {
  const Loaded good = Load({{"scene.xml", R"(<mujoco><include file="parts/assets.xml"/>
  <worldbody><include file="parts/bodies.xml"/></worldbody></mujoco>)"},
                            {"parts/assets.xml", R"(<mujoco><asset><material name="m"/></asset></mujoco>)"},
                            {"parts/bodies.xml", R"(<mujoco><geom size=".1" material="m"/></mujoco>)"}});
  INFO(Dump(good.findings));
  CHECK(good.findings.empty());
  CHECK(good.mujoco_loads);

  const Loaded bad = Load({{"scene.xml", R"(<mujoco><include file="parts/assets.xml"/>
  <worldbody><include file="parts/bodies.xml"/></worldbody></mujoco>)"},
                           {"parts/assets.xml", R"(<mujoco><asset><material name="m"/></asset></mujoco>)"},
                           {"parts/bodies.xml", "<mujoco>\n<geom size=\".1\" material=\"mm\"/>\n"
                                                "<geom name=\"x\" size=\".1\"/><geom name=\"x\" size=\".1\"/></mujoco>"}});
  INFO(Dump(bad.findings));
  REQUIRE(bad.findings.size() == 2);
  CHECK(bad.findings[0].code == "mjcf/duplicate-name");
  CHECK(bad.findings[0].path == "parts/bodies.xml");
  CHECK(bad.findings[0].line == 3);
  CHECK(bad.findings[1].code == "mjcf/unknown-name");
  CHECK(bad.findings[1].path == "parts/bodies.xml");
  CHECK(bad.findings[1].line == 2);
  CHECK_FALSE(bad.mujoco_loads);
}

}  // namespace
}  // namespace workerpair::scene
