// The MJCF scene across includes (mjcf_scene.h) and its file references (mjcf_references.h).
#include "libs/scene/mjcf_scene.h"

#include <catch2/catch.hpp>

#include <map>

#include "libs/scene/mjcf_references.h"

namespace workerpair::scene {
namespace {

// A reader over in-memory files; counts reads.
struct Files {
  std::map<std::string, std::string> files;
  mutable int reads = 0;

  MjcfFileReader Reader() const {
    return [this](const std::string& path) -> absl::StatusOr<std::string> {
      ++reads;
      auto it = files.find(path);
      if (it == files.end()) return absl::NotFoundError("it does not exist");
      return it->second;
    };
  }
  MjcfScene Load(const std::string& main, const MjcfLimits& limits = {}) const {
    return LoadMjcfScene(main, files.at(main), Reader(), limits);
  }
};

std::vector<std::string> VisitedNames(const MjcfScene& scene) {
  std::vector<std::string> names;
  VisitMjcf(scene, [&](const MjcfVisit& v) {
    names.push_back(std::string(v.ancestors->size(), '.') + v.element->name);
  });
  return names;
}

TEST_CASE("Includes resolve against the main file's directory, also from a nested include",
          "[scene][mjcf]") {
  Files f;
  f.files["scenes/main.xml"] = R"(<mujoco><include file="inc/a.xml"/><worldbody/></mujoco>)";
  f.files["scenes/inc/a.xml"] = R"(<mujoco><asset/><include file="inc/b.xml"/></mujoco>)";
  f.files["scenes/inc/b.xml"] = R"(<anything><size/></anything>)";
  const MjcfScene scene = f.Load("scenes/main.xml");
  REQUIRE(scene.complete());
  CHECK(scene.documents.size() == 3);
  CHECK(scene.model_dir == "scenes");
  // The included roots vanish; their children stand in the include's place.
  CHECK(VisitedNames(scene) ==
        std::vector<std::string>{"mujoco", ".include", ".asset", ".include", ".size", ".worldbody"});
}

TEST_CASE("A file included twice, a cycle, a missing or malformed include are problems at the include",
          "[scene][mjcf]") {
  Files f;
  f.files["main.xml"] = "<mujoco>\n<include file=\"a.xml\"/>\n<include file=\"a.xml\"/>\n"
                        "<include file=\"main.xml\"/>\n<include file=\"none.xml\"/>\n"
                        "<include file=\"bad.xml\"/>\n<include file=\"../up.xml\"/></mujoco>";
  f.files["a.xml"] = "<mujoco/>";
  f.files["bad.xml"] = "<mujoco>\n  <asset>\n</mujoco>";
  const MjcfScene scene = f.Load("main.xml");
  CHECK_FALSE(scene.complete());
  REQUIRE(scene.problems.size() == 5);
  CHECK(scene.problems[0].kind == MjcfProblemKind::kRepeatedInclude);
  CHECK(scene.problems[0].line == 3);
  CHECK(scene.problems[1].kind == MjcfProblemKind::kRepeatedInclude);
  CHECK(scene.problems[1].line == 4);
  CHECK(scene.problems[2].kind == MjcfProblemKind::kIncludeUnread);
  CHECK_THAT(scene.problems[2].message, Catch::Contains("'none.xml'") && Catch::Contains("does not exist"));
  CHECK(scene.problems[3].kind == MjcfProblemKind::kMalformed);
  CHECK(scene.problems[3].path == "main.xml");
  CHECK(scene.problems[3].line == 6);
  CHECK_THAT(scene.problems[3].message, Catch::Contains("'bad.xml'") && Catch::Contains("line 3"));
  CHECK(scene.problems[4].kind == MjcfProblemKind::kIncludeRefused);
  CHECK_THAT(scene.problems[4].message, Catch::Contains("climbs"));
}

TEST_CASE("Include depth and file count are capped", "[scene][mjcf]") {
  Files f;
  for (int i = 0; i < 20; ++i) {
    f.files["f" + std::to_string(i) + ".xml"] =
        "<mujoco><include file=\"f" + std::to_string(i + 1) + ".xml\"/></mujoco>";
  }
  f.files["f20.xml"] = "<mujoco/>";
  MjcfScene scene = f.Load("f0.xml");
  REQUIRE(scene.problems.size() == 1);
  CHECK(scene.problems[0].kind == MjcfProblemKind::kTooDeep);
  CHECK(scene.documents.size() == 9);  // depth 0..8

  MjcfLimits limits;
  limits.max_documents = 3;
  scene = f.Load("f0.xml", limits);
  REQUIRE(scene.problems.size() == 1);
  CHECK(scene.problems[0].kind == MjcfProblemKind::kTooManyFiles);
  CHECK(f.reads <= 8 + 2);
}

TEST_CASE("A form feed, a DOCTYPE or an undefined entity is malformed MJCF", "[scene][mjcf]") {
  for (const char* xml : {"<mujoco><asset><mesh\ffile=\"/etc/x.stl\"/></asset></mujoco>",
                          "<!DOCTYPE m [<!ENTITY e \"/etc\">]><mujoco><include file=\"&e;/x\"/></mujoco>",
                          "<mujoco><include file=\"&e;/x\"/></mujoco>"}) {
    INFO(xml);
    Files f;
    f.files["s.xml"] = xml;
    const MjcfScene scene = f.Load("s.xml");
    REQUIRE(scene.problems.size() == 1);
    CHECK(scene.problems[0].kind == MjcfProblemKind::kMalformed);
    CHECK(scene.documents.empty());
    CHECK(f.reads == 0);
  }
}

TEST_CASE("File references resolve under the compiler directories as MuJoCo 2.2.2 does",
          "[scene][mjcf]") {
  Files f;
  f.files["s/main.xml"] = R"(<mujoco>
  <compiler assetdir="assets" texturedir="tex"/>
  <asset><mesh file="m.stl"/><hfield name="h" file="h.png"/><skin file="k.skn"/>
    <texture name="t" type="cube" fileright="r.png" file="t.png"/></asset>
  <include file="inc.xml"/>
</mujoco>)";
  f.files["s/inc.xml"] = R"(<mujoco><asset><mesh name="n" file="&#110;.stl"/></asset></mujoco>)";
  const MjcfScene scene = f.Load("s/main.xml");
  REQUIRE(scene.complete());
  std::vector<std::string> resolved;
  for (const MjcfFileReference& ref : MjcfFileReferences(scene)) {
    resolved.push_back(ref.element + " " + ref.attribute + " " + ref.resolved + " @" + ref.path +
                       ":" + std::to_string(ref.line));
  }
  CHECK(resolved == std::vector<std::string>{
                        "compiler assetdir s/assets @s/main.xml:2",
                        "compiler texturedir s/tex @s/main.xml:2",
                        "mesh file s/assets/m.stl @s/main.xml:3",
                        "hfield file s/assets/h.png @s/main.xml:3",
                        "skin file s/assets/k.skn @s/main.xml:3",
                        "texture fileright s/tex/r.png @s/main.xml:4",
                        "texture file s/tex/t.png @s/main.xml:4",
                        "include file s/inc.xml @s/main.xml:5",
                        "mesh file s/assets/n.stl @s/inc.xml:1",  // decoded by the parser
                    });
}

TEST_CASE("The path rule refuses absolute, climbing and backslashed paths", "[scene][mjcf]") {
  CHECK_FALSE(ScenePathProblem("meshes/a.stl"));
  CHECK_FALSE(ScenePathProblem(""));
  CHECK_FALSE(ScenePathProblem("a..b/c.stl"));
  CHECK_THAT(*ScenePathProblem("/etc/passwd"), Catch::Contains("absolute"));
  CHECK_THAT(*ScenePathProblem("../x.stl"), Catch::Contains("'..'"));
  CHECK_THAT(*ScenePathProblem("a/../../x.stl"), Catch::Contains("'..'"));
  CHECK_THAT(*ScenePathProblem("a/.."), Catch::Contains("'..'"));
  CHECK_THAT(*ScenePathProblem("a\\..\\x.stl"), Catch::Contains("'\\'"));
  CHECK_THAT(*ScenePathProblem(std::string("a\0b", 3)), Catch::Contains("NUL"));
  CHECK_THAT(*ScenePathProblem(std::string(2000, 'a')), Catch::Contains("1024"));
}

}  // namespace
}  // namespace workerpair::scene
