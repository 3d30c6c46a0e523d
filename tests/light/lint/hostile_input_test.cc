// Workspace content written to hurt the linter: deep nesting, huge values, out-of-range numbers,
// oversized counts. Every case must end in a diagnostic (never a crash, a hang or a message that
// replays the input), and the regression inputs the fuzzers found live here too.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <string>

#include "libs/common/json_limits.h"
#include "libs/common/text_preview.h"
#include "services/light/core/lint/manifest_check.h"
#include "services/light/core/lint/mesh_check.h"
#include "services/light/core/lint/mjcf_check.h"
#include "services/light/core/lint/linter.h"
#include "tests/light/lint/lint_test_util.h"

namespace workerpair::light {
namespace {

using lint_test::Dump;
using lint_test::OnlyWithCode;
using lint_test::TempWorkspace;

// The longest message any check may produce for these inputs.
constexpr std::size_t kMaxMessage = 600;

void CheckBounded(const std::vector<Diagnostic>& found) {
  for (const Diagnostic& d : found) CHECK(d.message.size() <= kMaxMessage);
}

std::string Nested(std::size_t depth, std::string_view inner = "") {
  return std::string(depth, '[') + std::string(inner) + std::string(depth, ']');
}

std::string AssemblyWithPos(const std::string& pos) {
  return R"({"version":1,"assembly":{"parts":[{"name":"a","mesh":"a.stl","pos":)" + pos + "}]}}";
}

TEST_CASE("A 3-vector of 400000 nested arrays is one over-limit diagnostic",
          "[lint][manifest][hostile]") {
  TempWorkspace ws;
  const std::string manifest = AssemblyWithPos(Nested(400000));
  const std::vector<Diagnostic> found =
      CheckManifestFile(ws.root(), "manifest.json", manifest, SceneLimits{});
  INFO(Dump(found));
  REQUIRE(found.size() == 1);
  CHECK(found[0].code == "manifest/over-limit");
  CHECK(found[0].line == 1);
  CHECK(found[0].message.find("32 levels") != std::string::npos);
  CheckBounded(found);
}

TEST_CASE("Nesting under the depth limit is a bounded preview, not a dump",
          "[lint][manifest][hostile]") {
  TempWorkspace ws;
  // 25 levels: parsed, then refused by the schema; the message shows a cut preview.
  const std::vector<Diagnostic> found = CheckManifestFile(
      ws.root(), "manifest.json", AssemblyWithPos(Nested(25, "1")), SceneLimits{});
  INFO(Dump(found));
  auto bad = OnlyWithCode(found, "manifest/invalid-value");
  REQUIRE(bad);
  CHECK(bad->message.find("[[[[[") == std::string::npos);  // 3 levels shown, not 25
  CHECK(bad->message.find("got [[[[...]]]]") != std::string::npos);
  CheckBounded(found);
}

TEST_CASE("Numbers out of double range are parse errors with a position",
          "[lint][manifest][hostile]") {
  TempWorkspace ws;
  for (const std::string number :
       std::vector<std::string>{"1e999", "-1e400", "123456789012345678901234567890e300"}) {
    const std::string manifest = R"({"version":1,"scene":"s.xml","simulation":{"duration_s":)" +
                                 number + "}}";
    const std::vector<Diagnostic> found =
        CheckManifestFile(ws.root(), "manifest.json", manifest, SceneLimits{});
    INFO(number << "\n" << Dump(found));
    auto error = OnlyWithCode(found, "manifest/parse-error");
    REQUIRE(error);
    CHECK(error->column > 40);
    CheckBounded(found);
  }
  // Huge integers parse (as unsigned or float) and are judged by value, without overflow.
  const std::vector<Diagnostic> found = CheckManifestFile(
      ws.root(), "manifest.json",
      R"({"version":18446744073709551615,"scene":"s.xml","render":{"width":-9223372036854775808,)"
      R"("height":99999999999999999999,"fps":18446744073709551615}})",
      SceneLimits{});
  INFO(Dump(found));
  CHECK(OnlyWithCode(found, "manifest/unsupported-version"));
  CheckBounded(found);
}

TEST_CASE("Huge keys, names and strings are cut in messages", "[lint][manifest][hostile]") {
  TempWorkspace ws;
  const std::string key(3000, 'k');
  const std::string name(3000, '\n');
  const std::string manifest = R"({"version":1,"scene":"s.xml",")" + key + R"(":1,)" +
                               R"("simulation":{"target_body":")" + std::string(3000, 'b') +
                               R"("}})";
  std::vector<Diagnostic> found =
      CheckManifestFile(ws.root(), "manifest.json", manifest, SceneLimits{});
  INFO(Dump(found));
  REQUIRE(OnlyWithCode(found, "manifest/unknown-key"));
  CheckBounded(found);

  // A string over 4 KiB, and a document over 1 MiB, are refused before parsing.
  found = CheckManifestFile(ws.root(), "manifest.json",
                            R"({"version":1,"scene":")" + std::string(5000, 's') + R"("})",
                            SceneLimits{});
  REQUIRE(OnlyWithCode(found, "manifest/over-limit"));
  found = CheckManifestFile(ws.root(), "manifest.json",
                            "[" + std::string(2u << 20, ' ') + "]", SceneLimits{});
  REQUIRE(OnlyWithCode(found, "manifest/over-limit"));
  CheckBounded(found);
}

TEST_CASE("Invalid UTF-8 and control characters in a manifest do not escape into messages",
          "[lint][manifest][hostile]") {
  TempWorkspace ws;
  std::vector<Diagnostic> found = CheckManifestFile(
      ws.root(), "manifest.json", std::string("{\"version\":1,\"scene\":\"\xff\xfe\"}"),
      SceneLimits{});
  REQUIRE(OnlyWithCode(found, "manifest/parse-error"));
  found = CheckManifestFile(ws.root(), "manifest.json",
                            R"({"version":1,"scene":"s.xml","a\nb\u0000c":1})", SceneLimits{});
  auto unknown = OnlyWithCode(found, "manifest/unknown-key");
  REQUIRE(unknown);
  CHECK(unknown->message.find('\n') == std::string::npos);
  CHECK(unknown->message.find('\0') == std::string::npos);
}

TEST_CASE("JsonPreview and CheckJsonShape stay bounded on any value", "[lint][json][hostile]") {
  nlohmann::json wide = nlohmann::json::array();
  for (int i = 0; i < 100000; ++i) wide.push_back(i);
  CHECK(JsonPreview(wide).size() < 120);
  nlohmann::json deep = 1;
  for (int i = 0; i < 10000; ++i) deep = nlohmann::json::array({std::move(deep)});
  CHECK(JsonPreview(deep) == "[[[[...]]]]");
  CHECK(JsonPreview(std::string(100000, 'x')).size() < 120);
  CHECK(TextPreview("a\nb\x01") == "a\\nb\\x01");
  CHECK(TextPreview(std::string(100, 'x'), 10) == "xxxxxxxxxx... (100 bytes)");
  // A cut never splits a UTF-8 character.
  CHECK(TextPreview("\xc3\xa9\xc3\xa9", 3) == "\xc3\xa9... (4 bytes)");

  CHECK_FALSE(CheckJsonShape(Nested(32), JsonLimits{}));
  auto deep_problem = CheckJsonShape(Nested(33), JsonLimits{});
  REQUIRE(deep_problem);
  CHECK(deep_problem->offset == 32);
  // Brackets inside strings do not count, escaped quotes do not end strings.
  CHECK_FALSE(CheckJsonShape("[\"" + std::string(100, '[') + "\\\"]\"]", JsonLimits{}));
  nlohmann::json doc;
  auto problem = ParseJsonWithin("[1, 2,", JsonLimits{}, &doc);
  REQUIRE(problem);
  CHECK(problem->offset == 6);
}

TEST_CASE("XML over the element limit is malformed, not a 3 GB tree", "[lint][mjcf][hostile]") {
  TempWorkspace ws;
  std::string xml = "<mujoco>";
  for (int i = 0; i < 210000; ++i) xml += "<a/>";
  xml += "</mujoco>";
  const std::vector<Diagnostic> found = CheckXmlFile(ws.root(), "s.xml", xml, SceneLimits{});
  INFO(Dump(found));
  auto malformed = OnlyWithCode(found, "xml/malformed");
  REQUIRE(malformed);
  CHECK(malformed->message.find("200000 elements") != std::string::npos);

  std::string attributes = "<mujoco>";
  for (int i = 0; i < 100000; ++i) attributes += "<a b='' c='' d='' e='' f=''/>";
  attributes += "</mujoco>";
  auto over = OnlyWithCode(CheckXmlFile(ws.root(), "s.xml", attributes, SceneLimits{}),
                           "xml/malformed");
  REQUIRE(over);
  CHECK(over->message.find("attributes") != std::string::npos);
  // Deep nesting stops at the depth limit.
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "<a>";
  REQUIRE(OnlyWithCode(CheckXmlFile(ws.root(), "s.xml", deep, SceneLimits{}), "xml/malformed"));
  // An entity-expansion bomb needs a DTD, which is refused.
  const std::string bomb =
      "<?xml version='1.0'?><!DOCTYPE m [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;'>]>"
      "<mujoco>&b;</mujoco>";
  auto refused = OnlyWithCode(CheckXmlFile(ws.root(), "s.xml", bomb, SceneLimits{}),
                              "xml/malformed");
  REQUIRE(refused);
  CHECK(refused->message.find("DOCTYPE") != std::string::npos);
}

TEST_CASE("MJCF values quoted in messages are cut, and zone sizes must be finite",
          "[lint][mjcf][hostile]") {
  TempWorkspace ws;
  const std::string long_name(10000, 'z');
  const std::string xml = "<mujoco><worldbody><site name='zone_goal" + long_name +
                          "' type='" + std::string(5000, 't') + "' size='1e999'/>"
                          "<site name='zone_goal_a' size='nan'/>"
                          "<geom name='" + long_name + "'/><geom name='" + long_name + "'/>"
                          "</worldbody><asset><mesh file='" + std::string(5000, 'f') +
                          ".stl'/></asset></mujoco>";
  const std::vector<Diagnostic> found = CheckXmlFile(ws.root(), "s.xml", xml, SceneLimits{});
  INFO(Dump(found));
  CHECK(lint_test::WithCode(found, "mjcf/zone-bad-size").size() == 2);
  CHECK(OnlyWithCode(found, "mjcf/zone-bad-type"));
  CHECK(OnlyWithCode(found, "mjcf/duplicate-name"));
  CHECK(found.size() >= 5);
  CheckBounded(found);
}

TEST_CASE("Mesh checks bound what a hostile STL or OBJ costs", "[lint][mesh][hostile]") {
  // A header claiming 4 billion triangles in an 84-byte file.
  std::string stl(84, '\0');
  stl[80] = stl[81] = stl[82] = stl[83] = '\xff';
  auto mismatch = OnlyWithCode(CheckMeshFile("a.stl", stl), "mesh/stl-size-mismatch");
  REQUIRE(mismatch);
  CHECK(mismatch->message.find("4294967295 triangles") != std::string::npos);

  // A one-line face with 100000 corners is refused without tokenising all of it.
  std::string obj = "v 0 0 0\nv 1 0 0\nv 0 1 0\nf";
  for (int i = 0; i < 100000; ++i) obj += " 1";
  obj += "\n";
  auto big_face = OnlyWithCode(CheckMeshFile("a.obj", obj), "mesh/obj-syntax");
  REQUIRE(big_face);
  CHECK(big_face->message.find("more than 65535") != std::string::npos);

  // Out-of-range, negative-overflow and non-numeric indices; NaN coordinates.
  const std::string bad =
      "v 0 0 0\nv nan 0 0\nv 1 1 1\nf 1 2 99999999999999999999\nf -9223372036854775808 1 2\n"
      "f 1 2 4\nf 1 2 x\n";
  const std::vector<Diagnostic> found = CheckMeshFile("b.obj", bad);
  INFO(Dump(found));
  CHECK(found.size() == 5);
  CheckBounded(found);

  // A million faces that all name a vertex the file never defines: at most 20 findings.
  std::string many = "v 0 0 0\n";
  for (int i = 0; i < 1000000; ++i) many += "f 1 1 9\n";
  CHECK(CheckMeshFile("c.obj", many).size() == 20);
}

TEST_CASE("A check whose budget ran out stops, and LintFile reports the budget",
          "[lint][budget][hostile]") {
  TempWorkspace ws;
  std::string obj;
  for (int i = 0; i < 200000; ++i) obj += "v 0 0 0\nf 1 1 1\n";
  ws.Write("big.obj", obj);
  Linter linter(LintOptions{});
  const CallBudget cancelled;
  cancelled.Cancel();
  absl::StatusOr<LintReport> report =
      linter.LintFile(ws.workspace, "big.obj", {.external = false, .budget = &cancelled});
  CHECK(report.status().code() == absl::StatusCode::kCancelled);
  const CallBudget expired(absl::Now() - absl::Seconds(1), nullptr, "the test's deadline");
  absl::StatusOr<LintReport> all =
      linter.LintWorkspace(ws.workspace, {.external = false, .budget = &expired});
  CHECK(all.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(std::string(all.status().message()).find("the test's deadline") != std::string::npos);
  // With time left the same file lints.
  const CallBudget plenty(absl::Now() + absl::Seconds(60), [] { return false; });
  CHECK(linter.LintFile(ws.workspace, "big.obj", {.external = false, .budget = &plenty}).ok());
}

}  // namespace
}  // namespace workerpair::light
