// The scene contract test: every payload of the table goes through worker-light's linter (the
// core Linter, built-in checks, the whole payload as a workspace) and through a real
// worker-heavy process's BuildScene (unpack, manifest, MJCF scan, MuJoCo compile, as a runner
// does it), and the test fails whenever one accepts what the other refuses. Lint accepts when
// it reports no error (warnings are fine); heavy accepts when BuildScene returns OK.
//
// The table: every example scene; every manifest key of the schema table (libs/scene/
// manifest_schema.h) given a value of the wrong type, a value out of its range, an over-long
// name, and an unknown key in every object; and MJCF and mesh payloads that break a rule
// (dangling mesh/material/class/joint, missing mesh file, duplicate name, ASCII STL, a bad OBJ
// index, a climbing path, a bad include, a bad zone). Cases that are meant to be refused (or
// accepted) are also checked to be, so that a case cannot silently test nothing.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "libs/common/str_cat.h"
#include "libs/scene/manifest_schema.h"
#include "services/light/core/lint/linter.h"
#include "tests/heavy/runner/heavy_test_client.h"
#include "tests/support/server_process.h"

namespace workerpair::scene {
namespace {

namespace fs = std::filesystem;
using Files = std::map<std::string, std::string>;

enum class Expect { kAccepted, kRefused, kEither };

struct Case {
  std::string name;
  Files files;
  Expect expect = Expect::kEither;
};

fs::path ExamplesDir() { return fs::path(WORKERPAIR_SOURCE_DIR) / "examples" / "scenes"; }

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Files ExampleFiles(const std::string& name) {
  Files files;
  const fs::path dir = ExamplesDir() / name;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) {
      files[fs::relative(entry.path(), dir).generic_string()] = ReadText(entry.path());
    }
  }
  return files;
}

std::string Replace(const std::string& text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.substr(0, at) + to + text.substr(at + from.size());
}

// ---- The table ----------------------------------------------------------------------------

nlohmann::json WrongType(json_kind::Kind kind) {
  switch (kind) {
    case json_kind::Kind::kInt: return 1.5;
    case json_kind::Kind::kNumber: return "1";
    case json_kind::Kind::kString: return 5;
    case json_kind::Kind::kBool: return "true";
    case json_kind::Kind::kObject: return nlohmann::json::array({1});
    case json_kind::Kind::kArray: return nlohmann::json::object({{"a", 1}});
  }
  return nullptr;
}

// A value of the right type that breaks the key's rule, and whether the schema clamps it
// (accepted with a warning) instead of refusing it; nullopt when the rule has no such value.
std::optional<std::pair<nlohmann::json, Expect>> OutOfRange(ValueRule rule) {
  using J = nlohmann::json;
  switch (rule) {
    case ValueRule::kVersion: return {{2, Expect::kRefused}};
    case ValueRule::kNonEmpty: return {{"", Expect::kRefused}};
    case ValueRule::kPositive: return {{-1.0, Expect::kRefused}};
    case ValueRule::kNonNegative: return {{-0.5, Expect::kRefused}};
    case ValueRule::kNonNegativeInt: return {{-1, Expect::kRefused}};
    case ValueRule::kTimestep: return {{10.0, Expect::kRefused}};
    case ValueRule::kCappedDuration: return {{1e9, Expect::kAccepted}};
    case ValueRule::kCappedWidth: return {{641, Expect::kRefused}};
    case ValueRule::kCappedHeight: return {{-2, Expect::kRefused}};
    case ValueRule::kCappedFps: return {{100000, Expect::kAccepted}};
    case ValueRule::kPartList: return {{J::array(), Expect::kRefused}};
    case ValueRule::kPartName: return {{"bad name!", Expect::kRefused}};
    case ValueRule::kZoneName: return {{"goal_without_prefix", Expect::kRefused}};
    case ValueRule::kMeshPath: return {{"meshes/ramp.ply", Expect::kRefused}};
    case ValueRule::kScenePath: return {{"../scene.xml", Expect::kRefused}};
    case ValueRule::kVector3: return {{J::array({1, 2}), Expect::kRefused}};
    case ValueRule::kHalfExtents3: return {{J::array({0.3, 0, 0.1}), Expect::kRefused}};
    case ValueRule::kRgba: return {{J::array({2, 0, 0, 1}), Expect::kRefused}};
    case ValueRule::kAny:
    case ValueRule::kObjectList:
      return std::nullopt;
  }
  return std::nullopt;
}

// The example a schema object is exercised on, and the concrete pointer of the object there.
std::pair<std::string, std::string> BaseFor(std::string_view pattern) {
  std::string pointer(pattern);
  for (std::size_t at = pointer.find('*'); at != std::string::npos; at = pointer.find('*')) {
    pointer.replace(at, 1, "0");
  }
  return {pattern.starts_with("/assembly") ? "assembly_goal" : "ramp_goal", pointer};
}

Case ManifestCase(const std::string& name, const std::string& example, const std::string& pointer,
                  const nlohmann::json& value, Expect expect) {
  Files files = ExampleFiles(example);
  nlohmann::json manifest = nlohmann::json::parse(files.at("manifest.json"));
  manifest[nlohmann::json::json_pointer(pointer)] = value;
  files["manifest.json"] = manifest.dump(2);
  return {name, std::move(files), expect};
}

std::vector<Case> ManifestCases() {
  std::vector<Case> cases;
  for (const SchemaObject& object : ManifestSchema()) {
    const auto [example, base] = BaseFor(object.pointer);
    for (const SchemaKey& key : object.keys) {
      const std::string pointer = StrCat(base, "/", key.name);
      cases.push_back(ManifestCase(StrCat("manifest ", pointer, " of the wrong type"), example,
                                   pointer, WrongType(key.kind), Expect::kRefused));
      if (auto range = OutOfRange(key.rule)) {
        cases.push_back(ManifestCase(StrCat("manifest ", pointer, " out of range"), example,
                                     pointer, range->first, range->second));
      }
      if (key.kind == json_kind::Kind::kString && key.rule != ValueRule::kScenePath &&
          key.rule != ValueRule::kMeshPath) {
        const std::string prefix = key.rule == ValueRule::kZoneName ? "zone_goal_" : "";
        cases.push_back(ManifestCase(StrCat("manifest ", pointer, " 101 characters long"), example,
                                     pointer, prefix + std::string(101 - prefix.size(), 'a'),
                                     Expect::kEither));
      }
    }
    cases.push_back(ManifestCase(StrCat("manifest ", base, " with an unknown key"), example,
                                 StrCat(base, "/no_such_key"), 1, Expect::kRefused));
  }
  return cases;
}

Case SceneCase(const std::string& name, const std::string& from, const std::string& to,
               Expect expect, Files extra = {}) {
  Files files = ExampleFiles("ramp_goal");
  files["scene.xml"] = Replace(files.at("scene.xml"), from, to);
  for (auto& [path, content] : extra) files[path] = content;
  return {name, std::move(files), expect};
}

const char kAsciiTetrahedron[] =
    "solid t\n"
    "facet normal 0 0 -1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 0 1 0\nendloop\nendfacet\n"
    "facet normal 0 0 -1\nouter loop\nvertex 0 0 0\nvertex 0 1 0\nvertex 0 0 1\nendloop\nendfacet\n"
    "facet normal 0 0 -1\nouter loop\nvertex 0 0 0\nvertex 0 0 1\nvertex 1 0 0\nendloop\nendfacet\n"
    "facet normal 0 0 -1\nouter loop\nvertex 1 0 0\nvertex 0 0 1\nvertex 0 1 0\nendloop\nendfacet\n"
    "endsolid t\n";
const char kObjTetrahedron[] = "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 2 3\nf 1 3 4\nf 1 4 2\nf 2 4 3\n";

std::vector<Case> SceneCases() {
  const std::string mesh = R"(<mesh name="ramp" file="meshes/ramp.stl"/>)";
  auto with_mesh = [&](const std::string& name, const std::string& file, const std::string& content,
                       Expect expect) {
    return SceneCase(name, mesh, StrCat("<mesh name=\"ramp\" file=\"", file, "\"/>"), expect,
                     {{file, content}});
  };
  return {
      SceneCase("a mesh= naming no mesh", R"(mesh="ramp")", R"(mesh="rampp")", Expect::kRefused),
      SceneCase("a material= naming no material", R"(material="grid")", R"(material="gridd")",
                Expect::kRefused),
      SceneCase("a texture= naming no texture", R"(texture="grid")", R"(texture="gird")",
                Expect::kRefused),
      SceneCase("a class= naming no class", R"(type="sphere" size="0.1")",
                R"(class="loose" type="sphere" size="0.1")", Expect::kRefused),
      SceneCase("an actuator naming no joint", "</worldbody>",
                R"(</worldbody><actuator><motor joint="hinge"/></actuator>)", Expect::kRefused),
      SceneCase("a missing mesh file", "meshes/ramp.stl", "meshes/none.stl", Expect::kRefused),
      SceneCase("a duplicate geom name", R"(name="ball" type="sphere")",
                R"(name="ramp" type="sphere")", Expect::kRefused),
      SceneCase("a duplicate body name", "</worldbody>",
                R"(<body name="ball"><geom size=".1"/></body></worldbody>)", Expect::kRefused),
      SceneCase("a mesh path that climbs", "meshes/ramp.stl", "meshes/../meshes/ramp.stl",
                Expect::kRefused),
      SceneCase("an absolute mesh path", "meshes/ramp.stl", "/etc/ramp.stl", Expect::kRefused),
      SceneCase("an absolute meshdir", "<asset>", R"(<compiler meshdir="/usr/share"/><asset>)",
                Expect::kRefused),
      SceneCase("a mesh under meshdir", "<asset>\n    <mesh name=\"ramp\" file=\"meshes/ramp.stl\"/>",
                "<compiler meshdir=\"meshes\"/><asset><mesh name=\"ramp\" file=\"ramp.stl\"/>",
                Expect::kAccepted),
      SceneCase("a mesh path meshdir does not lead to", "<asset>",
                R"(<compiler meshdir="meshes"/><asset>)", Expect::kRefused),
      with_mesh("an ASCII STL mesh", "meshes/ascii.stl", kAsciiTetrahedron, Expect::kRefused),
      with_mesh("an OBJ mesh", "meshes/tetra.obj", kObjTetrahedron, Expect::kAccepted),
      with_mesh("an OBJ mesh whose face names no vertex", "meshes/bad.obj",
                Replace(kObjTetrahedron, "f 2 4 3", "f 2 4 5"), Expect::kRefused),
      with_mesh("an OBJ mesh whose face points forward", "meshes/forward.obj",
                std::string("f 1 2 3\n") + kObjTetrahedron, Expect::kRefused),
      with_mesh("an empty STL mesh", "meshes/empty.stl", "", Expect::kRefused),
      SceneCase("an included asset file", mesh, R"(<include file="parts/mesh.xml"/>)",
                Expect::kAccepted, {{"parts/mesh.xml", "<mujoco>" + mesh + "</mujoco>"}}),
      SceneCase("an include that is missing", "<asset>", R"(<include file="parts/none.xml"/><asset>)",
                Expect::kRefused),
      SceneCase("a file included twice", "<asset>",
                R"(<include file="p.xml"/><include file="p.xml"/><asset>)", Expect::kRefused,
                {{"p.xml", "<mujoco/>"}}),
      SceneCase("an included file that is not well-formed", "<asset>",
                R"(<include file="p.xml"/><asset>)", Expect::kRefused, {{"p.xml", "<mujoco><a></mujoco>"}}),
      SceneCase("a zone that is a capsule", R"(name="zone_goal_bin" type="box")",
                R"(name="zone_goal_bin" type="capsule")", Expect::kRefused),
      SceneCase("a zone without a size", R"(size="0.3 0.4 0.15" rgba)", "rgba", Expect::kRefused),
      SceneCase("a form feed inside a tag", R"(<geom name="floor")", "<geom\fname=\"floor\"",
                Expect::kRefused),
      SceneCase("a DOCTYPE", "<mujoco", "<!DOCTYPE mujoco>\n<mujoco", Expect::kRefused),
      SceneCase("njmax over the limit", R"(<option timestep="0.002"/>)",
                R"(<option timestep="0.002"/><size njmax="100000"/>)", Expect::kRefused),
      SceneCase("a manifest naming a missing camera", R"(<camera name="main")",
                R"(<camera name="other")", Expect::kEither),
  };
}

std::vector<Case> ExampleCases() {
  std::vector<Case> cases;
  for (const auto& entry : fs::directory_iterator(ExamplesDir())) {
    if (!entry.is_directory()) continue;
    const std::string name = entry.path().filename().string();
    cases.push_back({"example " + name, ExampleFiles(name), Expect::kAccepted});
  }
  return cases;
}

// ---- Running a case through both ------------------------------------------------------------

struct Verdict {
  bool accepted = false;
  std::string why;  // the first error, when refused
};

void WriteFiles(const fs::path& dir, const Files& files) {
  for (const auto& [path, content] : files) {
    fs::create_directories((dir / path).parent_path());
    std::ofstream(dir / path, std::ios::binary) << content;
  }
}

Verdict Lint(const light::Linter& linter, const fs::path& dir) {
  const light::Workspace workspace{"ws", fs::canonical(dir)};
  absl::StatusOr<light::LintReport> report =
      linter.LintWorkspace(workspace, {.external = false});
  if (!report.ok()) return {false, StrCat("lint call failed: ", report.status().ToString())};
  for (const light::Diagnostic& d : report->diagnostics()) {
    if (d.severity == light::Severity::kError) {
      return {false, StrCat(d.path, ":", d.line, ":", d.column, " ", d.code, " ", d.message)};
    }
  }
  return {report->ok(), ""};
}

Verdict Build(heavy::testing::Heavy& heavy, const fs::path& dir) {
  const heavy::testing::CallResult call = heavy.BuildScene(heavy::testing::PackDir(dir));
  return {call.status.ok(), call.status.error_message()};
}

TEST_CASE("Lint and worker-heavy's BuildScene agree on every payload of the contract table",
          "[scene][contract]") {
  heavy::testing::Heavy heavy({"--slots=2"});
  const light::Linter linter(light::LintOptions{});
  std::vector<Case> cases = ExampleCases();
  for (std::vector<Case> more : {ManifestCases(), SceneCases()}) {
    for (Case& c : more) cases.push_back(std::move(c));
  }
  REQUIRE(cases.size() > 80);
  std::vector<std::string> disagreements;
  int refused = 0;
  for (const Case& c : cases) {
    INFO("case: " << c.name);
    testing::TempDir dir;
    WriteFiles(dir.path(), c.files);
    const Verdict lint = Lint(linter, dir.path());
    const Verdict build = Build(heavy, dir.path());
    INFO("lint: " << (lint.accepted ? "accepts" : lint.why));
    INFO("heavy: " << (build.accepted ? "accepts" : build.why));
    if (lint.accepted != build.accepted) {
      disagreements.push_back(StrCat(c.name, ": lint ", lint.accepted ? "accepts" : "refuses (",
                                     lint.why, lint.accepted ? "" : ")", ", heavy ",
                                     build.accepted ? "accepts" : "refuses (", build.why,
                                     build.accepted ? "" : ")"));
    }
    if (c.expect != Expect::kEither) CHECK(lint.accepted == (c.expect == Expect::kAccepted));
    refused += lint.accepted ? 0 : 1;
  }
  std::string report;
  for (const std::string& d : disagreements) report += d + "\n";
  INFO(report);
  CHECK(disagreements.empty());
  CHECK(refused > 60);
  // Bad payloads fail only their own call: the replica still builds a good scene.
  testing::TempDir good;
  WriteFiles(good.path(), ExampleFiles("ramp_goal"));
  CHECK(Build(heavy, good.path()).accepted);
}

}  // namespace
}  // namespace workerpair::scene
