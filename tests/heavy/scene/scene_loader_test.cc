#include "services/heavy/core/scene/scene_loader.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>

#include "services/heavy/core/scene/mjcf_writer.h"
#include "tests/heavy/scene/scratch_dir.h"

namespace workerpair::heavy {
namespace {

using workerpair::testing::ScratchDir;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

scene::Manifest SceneManifest(const std::string& scene = "scene.xml") {
  scene::Manifest manifest;
  manifest.scene = scene;
  return manifest;
}

bool Contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

TEST_CASE("LoadScene compiles an MJCF scene with an STL mesh and reports its statistics") {
  auto scratch = ScratchDir::WithExample("ramp_goal");
  absl::StatusOr<scene::LoadedScene> scene = scene::LoadScene(scratch->path(), SceneManifest(), {});
  REQUIRE(scene.ok());
  CHECK(scene->scene_file == "scene.xml");
  CHECK(scene->warnings.empty());
  const scene::SceneStats stats = scene::BuildSceneStats(scene->model.get());
  CHECK(stats.nbody == 2);
  CHECK(stats.nmesh == 1);
  CHECK(stats.ngeom == 3);
  CHECK(stats.nq == 7);
  CHECK(stats.timestep_s == 0.002);
  CHECK(stats.goal_zones == std::vector<std::string>{"zone_goal_bin"});
  CHECK(stats.forbid_zones.empty());
  CHECK(stats.free_bodies == std::vector<std::string>{"ball"});
  CHECK(stats.data_bytes > 0);

  absl::StatusOr<scene::MjDataPtr> data = scene::MakeData(scene->model.get());
  REQUIRE(data.ok());
  CHECK((*data)->xipos[3 * 1 + 2] > 0.5);  // mj_forward ran: the ball sits up on the ramp
}

TEST_CASE("LoadScene applies the manifest's timestep and raises the offscreen buffer") {
  auto scratch = ScratchDir::WithExample("ramp_goal");
  scene::Manifest manifest = SceneManifest();
  manifest.simulation.timestep_s = 0.001;
  manifest.render.width = 1280;
  manifest.render.height = 720;
  absl::StatusOr<scene::LoadedScene> scene = scene::LoadScene(scratch->path(), manifest, {});
  REQUIRE(scene.ok());
  CHECK(scene->model->opt.timestep == 0.001);
  CHECK(scene->model->vis.global.offwidth >= 1280);
  CHECK(scene->model->vis.global.offheight >= 720);
}

TEST_CASE("LoadScene writes and compiles MJCF for an assembly") {
  auto scratch = ScratchDir::WithExample("assembly_goal");
  absl::StatusOr<scene::Manifest> manifest =
      scene::ParseManifest(scratch->Read("manifest.json"), SceneLimits{});
  REQUIRE(manifest.ok());
  absl::StatusOr<scene::LoadedScene> scene = scene::LoadScene(scratch->path(), *manifest, {});
  REQUIRE(scene.ok());
  CHECK(scene->scene_file == scene::kGeneratedSceneFileName);
  const mjModel* m = scene->model.get();
  const scene::SceneStats stats = scene::BuildSceneStats(m);
  CHECK(stats.nmesh == 2);
  CHECK(stats.free_bodies == std::vector<std::string>{"ball"});  // the ramp is fixed
  CHECK(Contains(stats.goal_zones, "zone_goal_bin"));
  CHECK(Contains(stats.forbid_zones, "zone_forbid_behind"));
  CHECK(mj_name2id(m, mjOBJ_GEOM, "ground") >= 0);
  CHECK(mj_name2id(m, mjOBJ_CAMERA, scene::kDefaultCameraName) >= 0);
  CHECK(m->nlight == 1);
  const int zone = mj_name2id(m, mjOBJ_SITE, "zone_goal_bin");
  REQUIRE(zone >= 0);
  CHECK(m->site_type[zone] == mjGEOM_BOX);
  // The ball's density gives its mass: 500 kg/m^3 over a faceted 0.1 m sphere (80 faces hold
  // about 86% of the sphere's volume).
  const int ball = mj_name2id(m, mjOBJ_BODY, "ball");
  const double sphere_mass = 500 * 4.0 / 3.0 * 3.14159265 * 0.001;
  CHECK(m->body_mass[ball] > 0.8 * sphere_mass);
  CHECK(m->body_mass[ball] < sphere_mass);
}

TEST_CASE("AssemblyToMjcf escapes names it writes into attributes") {
  CHECK(scene::XmlEscape(R"(a"b<c>&'d)") == "a&quot;b&lt;c&gt;&amp;&apos;d");
  scene::Assembly assembly;
  assembly.parts.push_back({.name = "p", .mesh = "m&<x>.stl"});
  scene::Manifest manifest;
  const std::string xml = scene::AssemblyToMjcf(assembly, manifest, {});
  CHECK_THAT(xml, Catch::Contains("file=\"m&amp;&lt;x&gt;.stl\""));
  CHECK_THAT(xml, Catch::Contains("<freejoint"));
  CHECK_THAT(xml, !Catch::Contains("type=\"plane\""));  // no ground unless asked
}

TEST_CASE("Bad MJCF is INVALID_ARGUMENT with MuJoCo's message, and the process survives") {
  ScratchDir scratch;
  scratch.Write("scene.xml", "<mujoco>\n  <worldbody>\n    <geom type=\"sphere\" size=\"x\"/>\n"
                             "  </worldbody>\n</mujoco>\n");
  absl::Status s = scene::LoadScene(scratch.path(), SceneManifest(), {}).status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(s), Catch::Contains("MuJoCo could not load 'scene.xml'"));
  CHECK_THAT(Message(s), Catch::Contains("line 3"));
  // Never the server's own directory.
  CHECK_THAT(Message(s), !Catch::Contains(scratch.path().string()));

  scratch.Write("scene.xml", "<mujoco><worldbody><unknown_element/></worldbody></mujoco>");
  s = scene::LoadScene(scratch.path(), SceneManifest(), {}).status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(s), Catch::Contains("unknown_element"));

  scratch.Write("scene.xml", "not xml at all <<");
  CHECK(scene::LoadScene(scratch.path(), SceneManifest(), {}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("A missing mesh file is INVALID_ARGUMENT naming the file, not the scratch path") {
  ScratchDir scratch;
  scratch.Write("scene.xml", R"(<mujoco><asset><mesh name="m" file="meshes/none.stl"/></asset>
      <worldbody><geom type="mesh" mesh="m"/></worldbody></mujoco>)");
  absl::Status s = scene::LoadScene(scratch.path(), SceneManifest(), {}).status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(s), Catch::Contains("meshes/none.stl"));
  CHECK_THAT(Message(s), !Catch::Contains(scratch.path().string()));
}

TEST_CASE("A manifest naming a missing scene or mesh is INVALID_ARGUMENT naming the key") {
  ScratchDir scratch;
  absl::Status s = scene::LoadScene(scratch.path(), SceneManifest("nope.xml"), {}).status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(s), Catch::Contains("'scene' names 'nope.xml', which is not in the payload"));

  scene::Manifest manifest;
  manifest.assembly.emplace();
  manifest.assembly->parts.push_back({.name = "p", .mesh = "meshes/p.stl"});
  s = scene::LoadScene(scratch.path(), manifest, {}).status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(s), Catch::Contains("'assembly.parts[0].mesh' names 'meshes/p.stl'"));
}

TEST_CASE("File references that leave the scratch directory are refused before MuJoCo reads them") {
  ScratchDir scratch;
  for (const char* reference : {"/etc/passwd.stl", "../outside.stl", "meshes/../../x.stl",
                                "&#47;etc/x.stl", "a\\..\\b.stl"}) {
    INFO(reference);
    scratch.Write("scene.xml", std::string(R"(<mujoco><asset><mesh name="m" file=")") + reference +
                                   R"("/></asset><worldbody/></mujoco>)");
    absl::Status s = scene::LoadScene(scratch.path(), SceneManifest(), {}).status();
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(Message(s), Catch::Contains("<mesh file>"));
  }
  // meshdir, and files reached through <include>, are checked too.
  scratch.Write("scene.xml", R"(<mujoco><compiler meshdir="/usr/share"/><worldbody/></mujoco>)");
  CHECK_THAT(Message(scene::LoadScene(scratch.path(), SceneManifest(), {}).status()),
             Catch::Contains("<compiler meshdir>"));
  scratch.Write("scene.xml", R"(<mujoco><include file="part.xml"/></mujoco>)");
  scratch.Write("part.xml", R"(<mujoco><asset><texture name="t" file="../t.png"/></asset></mujoco>)");
  CHECK_THAT(Message(scene::LoadScene(scratch.path(), SceneManifest(), {}).status()),
             Catch::Contains("'part.xml': <texture file>"));
  CHECK(scene::LoadScene(scratch.path(), SceneManifest("../scene.xml"), {}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("njmax over the cap is RESOURCE_EXHAUSTED before mjData is allocated") {
  ScratchDir scratch;
  // 2,000,000 rows would need terabytes of mjData: returning at once proves none was allocated.
  scratch.Write("scene.xml", R"(<mujoco><size njmax="2000000" nconmax="100"/>
      <worldbody><body><freejoint/><geom size=".1"/></body></worldbody></mujoco>)");
  const auto start = std::chrono::steady_clock::now();
  absl::Status s = scene::LoadScene(scratch.path(), SceneManifest(), {}).status();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  CHECK(s.code() == absl::StatusCode::kResourceExhausted);
  CHECK_THAT(Message(s), Catch::Contains("njmax 2000000") && Catch::Contains("max_njmax=5000"));
}

TEST_CASE("nstack over the cap is RESOURCE_EXHAUSTED before MuJoCo compiles the scene") {
  ScratchDir scratch;
  scratch.Write("scene.xml", R"(<mujoco><size nstack="2000000000"/><worldbody/></mujoco>)");
  absl::Status s = scene::LoadScene(scratch.path(), SceneManifest(), {}).status();
  CHECK(s.code() == absl::StatusCode::kResourceExhausted);
  CHECK_THAT(Message(s), Catch::Contains("nstack"));
}

TEST_CASE("nconmax and body counts over the caps are RESOURCE_EXHAUSTED naming the limit") {
  ScratchDir scratch;
  scratch.Write("scene.xml", R"(<mujoco><size nconmax="3000"/><worldbody/></mujoco>)");
  absl::Status s = scene::LoadScene(scratch.path(), SceneManifest(), {}).status();
  CHECK(s.code() == absl::StatusCode::kResourceExhausted);
  CHECK_THAT(Message(s), Catch::Contains("max_nconmax=2000"));

  scratch.Write("scene.xml", R"(<mujoco><worldbody><body><geom size=".1"/></body>
      <body><geom size=".1"/></body><body><geom size=".1"/></body></worldbody></mujoco>)");
  SceneLimits limits;
  limits.max_bodies = 2;
  s = scene::LoadScene(scratch.path(), SceneManifest(), limits).status();
  CHECK(s.code() == absl::StatusCode::kResourceExhausted);
  CHECK_THAT(Message(s), Catch::Contains("max_bodies=2"));
  limits.max_bodies = 3;
  CHECK(scene::LoadScene(scratch.path(), SceneManifest(), limits).ok());
}

}  // namespace
}  // namespace workerpair::heavy
