#include "services/heavy/core/scene/manifest.h"

#include <catch2/catch.hpp>

#include <string>

#include "tests/heavy/scene/scratch_dir.h"

namespace workerpair::heavy {
namespace {

using workerpair::testing::ExampleScenesDir;
using workerpair::testing::ReadText;

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

}  // namespace
}  // namespace workerpair::heavy
