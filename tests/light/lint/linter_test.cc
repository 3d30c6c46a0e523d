#include "services/light/core/lint/linter.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/light/lint/lint_test_util.h"

namespace workerpair::light {
namespace {

using lint_test::Dump;
using lint_test::OnlyWithCode;
using lint_test::TempWorkspace;
using lint_test::WithCode;

// Built-in checks plus one external "linter" that is certainly installed (grep), so results
// do not depend on which linters a machine has.
LintOptions TestOptions() {
  LintOptions options;
  options.linters.commands.clear();
  options.linters.commands["*.txt"] = {"grep", "-n", "-H", "TODO"};
  return options;
}

TEST_CASE("LintWorkspace runs every applicable check and skips .git", "[lint][workspace]") {
  TempWorkspace ws;
  ws.Write("scene.xml", "<mujoco><asset><mesh file=\"m/gone.stl\"/></asset></mujoco>");
  ws.Write("m/bad.stl", std::string(100, '\x01'));
  ws.Write("m/good.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n");
  ws.Write("p/manifest.json", "{\"version\": 1, \"scene\": \"s.xml\", \"extra\": 1}");
  ws.Write("notes.txt", "line\nTODO fix\n");
  ws.Write("README.md", "# not checked\n");
  ws.Write(".git/config.xml", "<broken");
  Linter linter(TestOptions());
  auto report = linter.LintWorkspace(ws.workspace, {});
  REQUIRE(report.ok());
  INFO(Dump(report->diagnostics()));
  CHECK(report->files_checked() == 5);
  CHECK_FALSE(report->ok());
  CHECK(OnlyWithCode(report->diagnostics(), "mjcf/missing-asset"));
  CHECK(OnlyWithCode(report->diagnostics(), "mesh/stl-size-mismatch"));
  CHECK(OnlyWithCode(report->diagnostics(), "manifest/unknown-key"));
  CHECK(OnlyWithCode(report->diagnostics(), "manifest/missing-file"));
  auto todo = OnlyWithCode(report->diagnostics(), "grep");
  REQUIRE(todo);
  CHECK(todo->path == "notes.txt");
  CHECK(todo->line == 2);
  CHECK(report->diagnostics().size() == 5);
  CHECK(report->error_count() == 4);
  // Sorted by path.
  CHECK(report->diagnostics().front().path == "m/bad.stl");
}

TEST_CASE("LintWorkspace honours the directory and the glob", "[lint][workspace]") {
  TempWorkspace ws;
  ws.Write("a/x.xml", "<broken");
  ws.Write("b/y.xml", "<broken");
  ws.Write("b/z.stl", "");
  Linter linter(TestOptions());
  auto sub = linter.LintWorkspace(ws.workspace, {.path = "b"});
  REQUIRE(sub.ok());
  CHECK(sub->files_checked() == 2);
  auto xml_only = linter.LintWorkspace(ws.workspace, {.glob = "*.xml"});
  REQUIRE(xml_only.ok());
  CHECK(xml_only->files_checked() == 2);
  CHECK(WithCode(xml_only->diagnostics(), "xml/malformed").size() == 2);
  CHECK(absl::IsPermissionDenied(linter.LintWorkspace(ws.workspace, {.path = ".."}).status()));
  CHECK(absl::IsNotFound(linter.LintWorkspace(ws.workspace, {.path = "nope"}).status()));
  CHECK(absl::IsFailedPrecondition(
      linter.LintWorkspace(ws.workspace, {.path = "a/x.xml"}).status()));
}

TEST_CASE("LintFile checks one file and says when nothing applies", "[lint][workspace]") {
  TempWorkspace ws;
  ws.Write("scene.xml", "<mujoco>\n<worldbody><site name=\"zone_goal\"/></worldbody></mujoco>");
  ws.Write("notes.txt", "TODO\n");
  ws.Write("README.md", "hi");
  Linter linter(TestOptions());
  auto scene = linter.LintFile(ws.workspace, "scene.xml");
  REQUIRE(scene.ok());
  INFO(Dump(scene->diagnostics()));
  auto zone = OnlyWithCode(scene->diagnostics(), "mjcf/zone-without-size");
  REQUIRE(zone);
  CHECK(zone->line == 2);
  CHECK(scene->files_checked() == 1);

  auto readme = linter.LintFile(ws.workspace, "README.md");
  REQUIRE(readme.ok());
  CHECK(OnlyWithCode(readme->diagnostics(), "lint/no-checks"));
  CHECK(readme->ok());

  auto skipped = linter.LintFile(ws.workspace, "notes.txt", {.external = false});
  REQUIRE(skipped.ok());
  CHECK(OnlyWithCode(skipped->diagnostics(), "lint/no-checks"));
  auto notes = linter.LintFile(ws.workspace, "notes.txt");
  REQUIRE(notes.ok());
  CHECK(OnlyWithCode(notes->diagnostics(), "grep"));

  CHECK(absl::IsNotFound(linter.LintFile(ws.workspace, "missing.xml").status()));
  CHECK(absl::IsPermissionDenied(linter.LintFile(ws.workspace, "../x.xml").status()));
  ws.Write("dir/inner.xml", "<a/>");
  CHECK(absl::IsFailedPrecondition(linter.LintFile(ws.workspace, "dir").status()));
}

TEST_CASE("A file over the size cap is reported, not read", "[lint][workspace]") {
  TempWorkspace ws;
  ws.Write("big.stl", std::string(2000, 'x'));
  LintOptions options = TestOptions();
  options.max_file_bytes = 1000;
  Linter linter(options);
  auto report = linter.LintFile(ws.workspace, "big.stl");
  REQUIRE(report.ok());
  auto big = OnlyWithCode(report->diagnostics(), "lint/file-too-large");
  REQUIRE(big);
  CHECK(big->severity == Severity::kWarning);
}

TEST_CASE("Reports cap their diagnostics but keep counting errors", "[lint][workspace]") {
  LintReport report(2);
  for (int i = 0; i < 5; ++i) {
    report.Add(Diagnostic{"f", i, 1, "x/y", Severity::kError, "m"});
  }
  CHECK(report.diagnostics().size() == 2);
  CHECK(report.truncated());
  CHECK(report.error_count() == 5);
  CHECK_FALSE(report.ok());
  CHECK(LineColumnAt("ab\ncd", 4).line == 2);
  CHECK(LineColumnAt("ab\ncd", 4).column == 2);
}

}  // namespace
}  // namespace workerpair::light
