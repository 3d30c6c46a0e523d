#include "services/light/core/lint/manifest_check.h"

#include <catch2/catch.hpp>

#include "tests/light/lint/lint_test_util.h"

namespace workerpair::light {
namespace {

using lint_test::Dump;
using lint_test::OnlyWithCode;
using lint_test::TempWorkspace;
using lint_test::WithCode;

std::vector<Diagnostic> Check(const TempWorkspace& ws, const std::string& json,
                              const std::string& path = "payload/manifest.json") {
  ws.Write(path, json);
  return CheckManifestFile(ws.root(), path, json, SceneLimits{});
}

TEST_CASE("The manifest example from MANIFEST.md is clean", "[lint][manifest]") {
  TempWorkspace ws;
  ws.Write("payload/scene.xml", "<mujoco/>");
  auto found = Check(ws, R"({
  "version": 1,
  "scene": "scene.xml",
  "simulation": {
    "duration_s": 4.0, "timestep_s": 0.002, "seed": 7, "target_body": "ball",
    "bounds": { "min_z": -2.0, "max_abs_xy": 50.0 }
  },
  "render": { "enabled": true, "width": 640, "height": 480, "fps": 30, "camera": "main" },
  "stress": { "yield_newtons": 500.0 },
  "verify": { "jitter_m": 0.005 }
})");
  INFO(Dump(found));
  CHECK(found.empty());
}

TEST_CASE("A clean assembly manifest with existing meshes has no diagnostics",
          "[lint][manifest]") {
  TempWorkspace ws;
  ws.Write("payload/meshes/ramp.stl", "x");
  ws.Write("payload/meshes/ball.obj", "x");
  auto found = Check(ws, R"({
  "version": 1,
  "simulation": { "target_body": "ball" },
  "assembly": {
    "ground": true,
    "parts": [
      { "name": "ramp", "mesh": "meshes/ramp.stl", "pos": [0, 0, 0], "euler_deg": [0, 0, 0],
        "fixed": true, "rgba": [0.7, 0.7, 0.7, 1] },
      { "name": "ball", "mesh": "meshes/ball.obj", "pos": [0, 0, 1], "density": 1000 }
    ],
    "zones": [
      { "name": "zone_goal_bin", "pos": [2, 0, 0.1], "size": [0.2, 0.2, 0.1] },
      { "name": "zone_forbid_pit", "pos": [-2, 0, 0.1], "size": [0.5, 0.5, 0.1] }
    ]
  }
})");
  INFO(Dump(found));
  CHECK(found.empty());
}

TEST_CASE("An unknown key is an error at the key's line and column", "[lint][manifest]") {
  TempWorkspace ws;
  ws.Write("payload/scene.xml", "<mujoco/>");
  auto found = Check(ws,
                     "{\n"
                     "  \"version\": 1,\n"
                     "  \"scene\": \"scene.xml\",\n"
                     "  \"simulation\": {\n"
                     "    \"duration\": 4\n"
                     "  }\n"
                     "}\n");
  INFO(Dump(found));
  REQUIRE(found.size() == 1);
  CHECK(found[0].code == "manifest/unknown-key");
  CHECK(found[0].severity == Severity::kError);
  CHECK(found[0].line == 5);
  CHECK(found[0].column == 5);
  CHECK_THAT(found[0].message, Catch::Contains("'duration'") && Catch::Contains("duration_s"));
}

TEST_CASE("A wrong type is an error naming the key and both types", "[lint][manifest]") {
  TempWorkspace ws;
  ws.Write("payload/scene.xml", "<mujoco/>");
  auto found = Check(ws,
                     "{\"version\": 1, \"scene\": \"scene.xml\",\n"
                     " \"render\": {\"width\": \"640\", \"fps\": 29.97}}");
  INFO(Dump(found));
  auto wrong = WithCode(found, "manifest/wrong-type");
  REQUIRE(wrong.size() == 2);
  CHECK(wrong[0].line == 2);
  CHECK_THAT(wrong[0].message,
             Catch::Contains("render.width") && Catch::Contains("must be an integer") &&
                 Catch::Contains("not a string"));
  CHECK_THAT(wrong[1].message, Catch::Contains("render.fps") && Catch::Contains("not a number"));
  CHECK(found.size() == 2);
}

TEST_CASE("Malformed JSON is reported at the parser's line and column", "[lint][manifest]") {
  TempWorkspace ws;
  auto found = Check(ws, "{\n  \"version\": 1,\n  \"scene\": \"a.xml\",\n}\n");
  INFO(Dump(found));
  REQUIRE(found.size() == 1);
  CHECK(found[0].code == "manifest/parse-error");
  CHECK(found[0].line == 4);
  CHECK(found[0].column == 1);
  CHECK_THAT(found[0].message, Catch::Contains("line 4"));
}

TEST_CASE("Scene and assembly: exactly one, and the files must exist inside the workspace",
          "[lint][manifest]") {
  TempWorkspace ws;
  auto neither = Check(ws, R"({"version": 1})");
  CHECK(OnlyWithCode(neither, "manifest/scene-or-assembly"));

  auto both = Check(ws, R"({"version": 1, "scene": "s.xml", "assembly": {"parts": []}})");
  INFO(Dump(both));
  CHECK(OnlyWithCode(both, "manifest/scene-or-assembly"));
  CHECK(OnlyWithCode(both, "manifest/missing-file"));

  auto outside = Check(ws, R"({"version": 1, "scene": "../../x.xml"})");
  auto escaped = OnlyWithCode(outside, "manifest/file-outside-workspace");
  REQUIRE(escaped);
  CHECK(escaped->line == 1);
  CHECK(escaped->column == 16);

  ws.Write("payload/a.txt", "x");
  auto parts = Check(ws, R"({"version": 1, "assembly": {"parts": [
    {"name": "a", "mesh": "meshes/a.stl"},
    {"name": "a", "mesh": "a.txt", "mass": 1, "density": 2, "pos": [1, 2]}],
    "zones": [{"name": "goal", "pos": [0, 0, 0], "size": [1, 0, 1]}]}})");
  INFO(Dump(parts));
  auto missing = OnlyWithCode(parts, "manifest/missing-file");
  REQUIRE(missing);
  CHECK(missing->line == 2);
  CHECK_THAT(missing->message, Catch::Contains("payload/meshes/a.stl"));
  CHECK(OnlyWithCode(parts, "manifest/duplicate-name"));
  // a.txt: not a mesh type; mass and density both; pos of 2; zone name; zone size 0.
  CHECK(WithCode(parts, "manifest/invalid-value").size() == 5);
}

TEST_CASE("Out-of-range values are errors, values over a cap are warnings", "[lint][manifest]") {
  TempWorkspace ws;
  ws.Write("payload/s.xml", "<mujoco/>");
  auto found = Check(ws, R"({"version": 2, "scene": "s.xml",
    "simulation": {"duration_s": 500, "timestep_s": 0.5, "seed": -1},
    "render": {"width": 4000, "height": 481},
    "stress": {"yield_newtons": 0}, "verify": {"jitter_m": -0.1}})");
  INFO(Dump(found));
  CHECK(OnlyWithCode(found, "manifest/unsupported-version"));
  auto range = WithCode(found, "manifest/out-of-range");
  CHECK(range.size() == 4);  // timestep, seed, yield, jitter
  auto caps = WithCode(found, "manifest/over-cap");
  REQUIRE(caps.size() == 2);  // duration, width
  CHECK(caps[0].severity == Severity::kWarning);
  CHECK(OnlyWithCode(found, "manifest/invalid-value"));  // odd height
}

TEST_CASE("Repeated keys are reported, since JSON parsers keep only one", "[lint][manifest]") {
  TempWorkspace ws;
  ws.Write("payload/s.xml", "<mujoco/>");
  auto found = Check(ws, "{\"version\": 1, \"scene\": \"s.xml\",\n \"version\": 1}");
  auto duplicate = OnlyWithCode(found, "manifest/duplicate-key");
  REQUIRE(duplicate);
  CHECK(duplicate->line == 2);
  CHECK(duplicate->column == 2);
}

}  // namespace
}  // namespace workerpair::light
