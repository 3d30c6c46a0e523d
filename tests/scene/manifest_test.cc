// The manifest check's behaviour: the documented keys and defaults, clamps, the first error as
// heavy's status, positions of findings, file references, and hostile documents.
#include "libs/scene/manifest.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "libs/scene/scene_names.h"

namespace workerpair::scene {
namespace {

std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::filesystem::path ExampleScenesDir() {
  return std::filesystem::path(WORKERPAIR_SOURCE_DIR) / "examples" / "scenes";
}

std::string Dump(const ManifestCheck& check) {
  std::string out;
  for (const ManifestFinding& f : check.findings) {
    out += f.code + " " + f.pointer + " " + std::to_string(f.line) + ":" +
           std::to_string(f.column) + " " + f.message + "\n";
  }
  return out;
}

std::string Message(const absl::Status& status) { return std::string(status.message()); }

absl::Status ParseError(const std::string& text, const SceneLimits& limits = {}) {
  return ParseManifest(text, limits).status();
}

TEST_CASE("ParseManifest reads every documented key") {
  const std::string text = R"({
    "version": 1, "scene": "scene.xml",
    "simulation": { "duration_s": 3.5, "timestep_s": 0.001, "seed": 7, "target_body": "ball",
                    "bounds": { "min_z": -1.5, "max_abs_xy": 20 } },
    "render": { "enabled": false, "width": 320, "height": 240, "fps": 24, "camera": "main" },
    "stress": { "yield_newtons": 500 },
    "verify": { "jitter_m": 0.01 } })";
  absl::StatusOr<Manifest> m = ParseManifest(text, {});
  REQUIRE(m.ok());
  CHECK(m->scene == "scene.xml");
  CHECK_FALSE(m->assembly.has_value());
  CHECK(m->simulation.duration_s == 3.5);
  CHECK(m->simulation.timestep_s == 0.001);
  CHECK(m->simulation.seed == 7);
  CHECK(m->simulation.target_body == "ball");
  CHECK(m->simulation.bounds.min_z == -1.5);
  CHECK(m->simulation.bounds.max_abs_xy == 20);
  CHECK_FALSE(m->render.enabled);
  CHECK(m->render.width == 320);
  CHECK(m->render.height == 240);
  CHECK(m->render.fps == 24);
  CHECK(m->render.camera == "main");
  CHECK(m->stress.yield_newtons == 500);
  CHECK(m->verify.jitter_m == 0.01);
  CHECK(m->adjustments.empty());
}

TEST_CASE("ParseManifest fills the documented defaults") {
  absl::StatusOr<Manifest> m = ParseManifest(R"({"version": 1, "scene": "a.xml"})", {});
  REQUIRE(m.ok());
  CHECK(m->simulation.duration_s == 5);
  CHECK_FALSE(m->simulation.timestep_s.has_value());
  CHECK(m->simulation.seed == 0);
  CHECK(m->simulation.target_body.empty());
  CHECK(m->simulation.bounds.min_z == -2);
  CHECK(m->simulation.bounds.max_abs_xy == 100);
  CHECK(m->render.enabled);
  CHECK(m->render.width == 640);
  CHECK(m->render.height == 480);
  CHECK(m->render.fps == 30);
  CHECK(m->stress.yield_newtons == 1000);
  CHECK(m->verify.jitter_m == 0.005);
}

TEST_CASE("ParseManifest accepts every example scene's manifest") {
  for (const char* name : {"ramp_goal", "forbid_zone", "fall_off", "explode", "motor_overload",
                           "assembly_goal"}) {
    INFO(name);
    absl::StatusOr<Manifest> m =
        ParseManifest(ReadText(ExampleScenesDir() / name / "manifest.json"), {});
    CHECK(m.ok());
  }
}

TEST_CASE("An unknown key is INVALID_ARGUMENT naming the key") {
  absl::Status s = ParseError(R"({"version": 1, "scene": "a.xml",
                                  "simulation": {"duraton_s": 3}})");
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(s), Catch::Contains("simulation.duraton_s"));
  s = ParseError(R"({"version": 1, "scene": "a.xml", "extra": true})");
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(s), Catch::Contains("'extra'"));
}

TEST_CASE("A wrong type is INVALID_ARGUMENT naming the key and both types") {
  absl::Status s = ParseError(R"({"version": 1, "scene": "a.xml", "simulation": {"seed": "7"}})");
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(s), Catch::Contains("'simulation.seed' must be an integer, not a string"));
  s = ParseError(R"({"version": 1, "scene": "a.xml", "render": {"width": 640.5}})");
  CHECK_THAT(Message(s), Catch::Contains("'render.width' must be an integer"));
}

TEST_CASE("Out-of-range values are INVALID_ARGUMENT naming the key and the range") {
  absl::Status s = ParseError(R"({"version": 1, "scene": "a.xml", "simulation": {"timestep_s": 0.5}})");
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(s), Catch::Contains("'simulation.timestep_s'") && Catch::Contains("max_timestep_s"));
  CHECK_THAT(Message(ParseError(R"({"version": 1, "scene": "a.xml", "simulation": {"duration_s": 0}})")),
             Catch::Contains("'simulation.duration_s'"));
  CHECK_THAT(Message(ParseError(R"({"version": 1, "scene": "a.xml", "simulation": {"seed": -1}})")),
             Catch::Contains("'simulation.seed'"));
  CHECK_THAT(Message(ParseError(R"({"version": 1, "scene": "a.xml", "stress": {"yield_newtons": -3}})")),
             Catch::Contains("'stress.yield_newtons'"));
  CHECK_THAT(Message(ParseError(R"({"version": 1, "scene": "a.xml", "verify": {"jitter_m": -0.1}})")),
             Catch::Contains("'verify.jitter_m'"));
  CHECK_THAT(Message(ParseError(R"({"version": 1, "scene": "a.xml", "render": {"width": 641}})")),
             Catch::Contains("even"));
}

TEST_CASE("Version, scene/assembly choice, JSON syntax and duplicate keys are checked") {
  CHECK_THAT(Message(ParseError(R"({"version": 2, "scene": "a.xml"})")), Catch::Contains("version"));
  CHECK_THAT(Message(ParseError(R"({"scene": "a.xml"})")), Catch::Contains("missing required key 'version'"));
  CHECK_THAT(Message(ParseError(R"({"version": 1})")), Catch::Contains("neither"));
  CHECK_THAT(Message(ParseError(R"({"version": 1, "scene": "a.xml", "assembly": {"parts": []}})")),
             Catch::Contains("both"));
  CHECK(ParseError(R"({"version": 1, "scene": )").code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseError("[1, 2]").code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(ParseError(R"({"version": 1, "scene": "a.xml", "scene": "b.xml"})")),
             Catch::Contains("'scene' appears twice"));
}

TEST_CASE("Duration, video size and fps over the caps are clamped and reported") {
  SceneLimits limits;
  limits.max_duration_s = 10;
  limits.max_width = 800;
  limits.max_fps = 25;
  absl::StatusOr<Manifest> m = ParseManifest(
      R"({"version": 1, "scene": "a.xml", "simulation": {"duration_s": 500},
          "render": {"width": 4000, "fps": 120}})",
      limits);
  REQUIRE(m.ok());
  CHECK(m->simulation.duration_s == 10);
  CHECK(m->render.width == 800);
  CHECK(m->render.fps == 25);
  REQUIRE(m->adjustments.size() == 3);
  CHECK_THAT(m->adjustments[0], Catch::Contains("max_duration_s"));
}

TEST_CASE("Assembly parts and zones are parsed with their defaults") {
  absl::StatusOr<Manifest> m =
      ParseManifest(ReadText(ExampleScenesDir() / "assembly_goal" / "manifest.json"), {});
  REQUIRE(m.ok());
  REQUIRE(m->assembly.has_value());
  CHECK(m->assembly->ground);
  REQUIRE(m->assembly->parts.size() == 2);
  const AssemblyPart& ramp = m->assembly->parts[0];
  CHECK(ramp.fixed);
  CHECK(ramp.density == 1000.0);  // neither mass nor density: the default density
  CHECK(ramp.rgba.has_value());
  const AssemblyPart& ball = m->assembly->parts[1];
  CHECK_FALSE(ball.fixed);
  CHECK(ball.density == 500.0);
  CHECK(ball.pos[2] == 0.56);
  REQUIRE(m->assembly->zones.size() == 2);
  CHECK(m->assembly->zones[0].name == "zone_goal_bin");
  CHECK(m->assembly->zones[0].size[2] == 0.15);
}

TEST_CASE("Assembly errors name the part or zone") {
  const std::string head = R"({"version": 1, "assembly": )";
  CHECK_THAT(Message(ParseError(head + R"({"parts": [{"name": "a", "mesh": "a.stl", "mass": 1, "density": 2}]}})")),
             Catch::Contains("'assembly.parts[0]' has both"));
  CHECK_THAT(Message(ParseError(head + R"({"parts": [{"name": "a b", "mesh": "a.stl"}]}})")),
             Catch::Contains("assembly.parts[0].name"));
  CHECK_THAT(Message(ParseError(head + R"({"parts": [{"name": "a", "mesh": "a.stl"}, {"name": "a", "mesh": "b.stl"}]}})")),
             Catch::Contains("used twice"));
  CHECK_THAT(Message(ParseError(head + R"({"parts": [{"name": "a", "mesh": "a.ply"}]}})")),
             Catch::Contains("assembly.parts[0].mesh"));
  CHECK_THAT(Message(ParseError(head + R"({"parts": [{"name": "a", "mesh": "a.stl", "pos": [1, 2]}]}})")),
             Catch::Contains("assembly.parts[0].pos"));
  CHECK_THAT(Message(ParseError(head + R"({"parts": [{"name": "a", "mesh": "a.stl"}],
                                            "zones": [{"name": "goal", "pos": [0,0,0], "size": [1,1,1]}]}})")),
             Catch::Contains("zone_goal"));
  CHECK_THAT(Message(ParseError(head + R"({"parts": [{"name": "a", "mesh": "a.stl"}],
                                            "zones": [{"name": "zone_goal", "pos": [0,0,0], "size": [1,0,1]}]}})")),
             Catch::Contains("assembly.zones[0].size"));
  CHECK_THAT(Message(ParseError(head + R"({"parts": [{"name": "a", "mesh": "a.stl"}]},
                                            "simulation": {"target_body": "b"}})")),
             Catch::Contains("no part of the assembly"));
}

TEST_CASE("An assembly with more parts than max_bodies is RESOURCE_EXHAUSTED naming the limit") {
  SceneLimits limits;
  limits.max_bodies = 2;
  absl::Status s = ParseError(R"({"version": 1, "assembly": {"parts": [
      {"name": "a", "mesh": "a.stl"}, {"name": "b", "mesh": "a.stl"}, {"name": "c", "mesh": "a.stl"}]}})",
                              limits);
  CHECK(s.code() == absl::StatusCode::kResourceExhausted);
  CHECK_THAT(Message(s), Catch::Contains("max_bodies=2"));
}


TEST_CASE("A manifest error quotes a caller's value in bounded form, never whole") {
  // 20 levels of nesting and 100,000 elements: within the parser's limits, far too much to quote.
  std::string nested = std::string(20, '[') + "1" + std::string(20, ']');
  std::string wide = "[";
  for (int i = 0; i < 100000; ++i) wide += (i ? ",7" : "7");
  wide += "]";
  const std::string head = R"({"version": 1, "assembly": {"parts": [{"name": "a", "mesh": "a.stl", "pos": )";
  for (const std::string& value : {nested, wide}) {
    const absl::Status status = ParseManifest(head + value + "}]}}", {}).status();
    CHECK(absl::IsInvalidArgument(status));
    CHECK_THAT(std::string(status.message()), Catch::Contains("assembly.parts[0].pos"));
    CHECK(status.message().size() < 400);
  }
}

TEST_CASE("Findings carry the pointer, line and column of the key concerned",
          "[scene][manifest]") {
  const std::string text =
      "{\n"
      "  \"version\": 1,\n"
      "  \"scene\": \"scene.xml\",\n"
      "  \"simulation\": {\"seed\": -1,\n"
      "     \"duraton_s\": 3},\n"
      "  \"render\": {\"width\": 641}\n"
      "}\n";
  const ManifestCheck check = CheckManifest(text, SceneLimits{});
  INFO(Dump(check));
  REQUIRE(check.findings.size() == 3);
  CHECK_FALSE(check.manifest.has_value());
  // In order of the table walk: the unknown key of 'simulation', its seed, then render.
  CHECK(check.findings[0].code == "manifest/unknown-key");
  CHECK(check.findings[0].pointer == "/simulation/duraton_s");
  CHECK(check.findings[0].line == 5);
  CHECK(check.findings[0].column == 6);
  CHECK(check.findings[1].code == "manifest/out-of-range");
  CHECK(check.findings[1].pointer == "/simulation/seed");
  CHECK(check.findings[1].line == 4);
  CHECK(check.findings[1].column == 18);
  CHECK(check.findings[2].code == "manifest/invalid-value");
  CHECK(check.findings[2].pointer == "/render/width");
  CHECK(check.findings[2].line == 6);
  CHECK(check.findings[2].column == 14);

  // ParseManifest: the first of them, with file, pointer, line and column in the message.
  const absl::Status status = ParseManifest(text, SceneLimits{}).status();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(status.message()),
             Catch::StartsWith("manifest.json /simulation/duraton_s (line 5, column 6): "));
}

TEST_CASE("A missing key is found at the object that lacks it", "[scene][manifest]") {
  const std::string text = "{\"version\": 1,\n \"assembly\": {\"parts\": [\n  {\"name\": \"a\"}]}}";
  const ManifestCheck check = CheckManifest(text, SceneLimits{});
  INFO(Dump(check));
  REQUIRE(check.findings.size() == 1);
  CHECK(check.findings[0].code == "manifest/missing-key");
  CHECK(check.findings[0].pointer == "/assembly/parts/0");
  CHECK(check.findings[0].line == 3);
  CHECK(check.findings[0].column == 3);
  CHECK_THAT(check.findings[0].message, Catch::Contains("'assembly.parts[0].mesh'"));
}

TEST_CASE("Parse errors and over-limit documents are one finding at the parser's stop",
          "[scene][manifest]") {
  const ManifestCheck syntax = CheckManifest("{\n  \"version\": 1,\n}\n", SceneLimits{});
  REQUIRE(syntax.findings.size() == 1);
  CHECK(syntax.findings[0].code == "manifest/parse-error");
  CHECK(syntax.findings[0].line == 3);
  CHECK(syntax.findings[0].column == 1);

  const ManifestCheck deep = CheckManifest(std::string(100000, '['), SceneLimits{});
  REQUIRE(deep.findings.size() == 1);
  CHECK(deep.findings[0].code == "manifest/over-limit");
  CHECK_THAT(deep.findings[0].message, Catch::Contains("32 levels"));

  const ManifestCheck huge =
      CheckManifest("{\"version\": 1, \"scene\": \"" + std::string(2u << 20, 'a') + "\"}", {});
  REQUIRE(huge.findings.size() == 1);
  CHECK(huge.findings[0].code == "manifest/over-limit");

  const ManifestCheck overflow = CheckManifest("{\"version\": 1e999}", SceneLimits{});
  REQUIRE(overflow.findings.size() == 1);
  CHECK(overflow.findings[0].code == "manifest/parse-error");
  CHECK(ParseManifest("{\"version\": 1e999}", SceneLimits{}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Findings are capped, so a manifest of a million mistakes stays a bounded answer",
          "[scene][manifest][hostile]") {
  std::string text = "{\"version\": 1, \"scene\": \"s.xml\"";
  for (int i = 0; i < 20000; ++i) text += ",\"k" + std::to_string(i) + "\":0";
  text += "}";
  const ManifestCheck check = CheckManifest(text, SceneLimits{});
  REQUIRE(check.findings.size() == kMaxManifestFindings);
  CHECK(check.findings.back().code == "manifest/over-limit");
  CHECK_FALSE(check.manifest.has_value());
}

TEST_CASE("Long keys nested many times are checked in bounded memory and time",
          "[scene][manifest][hostile]") {
  // 30 levels of 4000-byte unknown keys under 'simulation', each object with 200 members.
  std::string inner = "1";
  for (int depth = 0; depth < 30; ++depth) {
    std::string object = "{";
    for (int i = 0; i < 200; ++i) object += (i ? ",\"" : "\"") + std::to_string(i) + "\":0";
    object += ",\"" + std::string(4000, 'k') + "\":" + inner + "}";
    inner = object;
  }
  const std::string text = "{\"version\": 1, \"scene\": \"s.xml\", \"simulation\": " + inner + "}";
  REQUIRE(text.size() < (1u << 20));
  const ManifestCheck check = CheckManifest(text, SceneLimits{});
  INFO(check.findings.size());
  CHECK_FALSE(check.manifest.has_value());
  CHECK(check.findings.size() == 201);  // the unknown keys of 'simulation' itself
}

TEST_CASE("The files a manifest names are listed with their positions, errors or not",
          "[scene][manifest]") {
  const std::string text =
      "{\"version\": 1, \"assembly\": {\"parts\": [\n"
      "  {\"name\": \"a\", \"mesh\": \"meshes/a.stl\"},\n"
      "  {\"name\": \"b\", \"mesh\": \"meshes/b.obj\", \"mass\": -1}]}}";
  const ManifestCheck check = CheckManifest(text, SceneLimits{});
  CHECK_FALSE(check.manifest.has_value());
  REQUIRE(check.references.size() == 2);
  CHECK(check.references[0].what == "mesh");
  CHECK(check.references[0].path == "meshes/a.stl");
  CHECK(check.references[0].pointer == "/assembly/parts/0/mesh");
  CHECK(check.references[0].display == "assembly.parts[0].mesh");
  CHECK(check.references[0].line == 2);
  CHECK(check.references[1].path == "meshes/b.obj");

  const ManifestCheck scene = CheckManifest(R"({"version": 1, "scene": "s/scene.xml"})", {});
  REQUIRE(scene.references.size() == 1);
  CHECK(scene.references[0].what == "scene");
  CHECK(scene.references[0].pointer == "/scene");
}

TEST_CASE("Sizes clamped to an odd cap stay even", "[scene][manifest]") {
  SceneLimits limits;
  limits.max_width = 801;
  const absl::StatusOr<Manifest> m =
      ParseManifest(R"({"version": 1, "scene": "s.xml", "render": {"width": 1000}})", limits);
  REQUIRE(m.ok());
  CHECK(m->render.width == 800);
  REQUIRE(m->adjustments.size() == 1);
  CHECK_THAT(m->adjustments[0], Catch::Contains("max_width=801") && Catch::Contains("800"));
}

TEST_CASE("Empty scene, camera and target are refused", "[scene][manifest]") {
  CHECK(absl::IsInvalidArgument(ParseManifest(R"({"version": 1, "scene": ""})", {}).status()));
  CHECK(absl::IsInvalidArgument(
      ParseManifest(R"({"version": 1, "scene": "s.xml", "render": {"camera": ""}})", {}).status()));
  CHECK(absl::IsInvalidArgument(
      ParseManifest(R"({"version": 1, "scene": "s.xml", "simulation": {"target_body": ""}})", {})
          .status()));
}

}  // namespace
}  // namespace workerpair::scene
