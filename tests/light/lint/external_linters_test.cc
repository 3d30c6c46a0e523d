#include "services/light/core/lint/external_linters.h"

#include <catch2/catch.hpp>
#include <chrono>

#include "tests/light/lint/lint_test_util.h"

namespace workerpair::light {
namespace {

using lint_test::Dump;
using lint_test::OnlyWithCode;
using lint_test::TempWorkspace;
using lint_test::WithCode;

TEST_CASE("Linter output in gcc, parsable and pyflakes shapes becomes diagnostics",
          "[lint][external]") {
  const std::vector<std::string> files = {"run.sh", "dir:x/a.yaml", "-odd.py"};
  const std::vector<std::string> args = {"run.sh", "dir:x/a.yaml", "./-odd.py"};
  const std::string output =
      "run.sh:2:6: note: Double quote to prevent globbing and word splitting. [SC2086]\n"
      "run.sh:7:1: error: Couldn't parse this function. [SC1073]\n"
      "dir:x/a.yaml:2:1: [error] duplication of key \"a\" in mapping (key-duplicates)\n"
      "./-odd.py:1: 'os' imported but unused\n"
      "./-odd.py:3:5: invalid syntax\n"
      "    x = = 1\n"
      "        ^\n"
      "other.py:1:1: not one of ours\n";
  auto found = ParseLinterOutput("tool", output, files, args);
  INFO(Dump(found));
  REQUIRE(found.size() == 5);
  CHECK(found[0].path == "run.sh");
  CHECK(found[0].line == 2);
  CHECK(found[0].column == 6);
  CHECK(found[0].code == "tool/SC2086");
  CHECK(found[0].severity == Severity::kInfo);
  CHECK(found[0].message == "Double quote to prevent globbing and word splitting.");
  CHECK(found[1].severity == Severity::kError);
  CHECK(found[2].path == "dir:x/a.yaml");
  CHECK(found[2].code == "tool/key-duplicates");
  CHECK(found[2].severity == Severity::kError);
  CHECK(found[2].message == "duplication of key \"a\" in mapping");
  CHECK(found[3].path == "-odd.py");
  CHECK(found[3].line == 1);
  CHECK(found[3].column == 0);
  CHECK(found[3].code == "tool");
  CHECK(found[3].severity == Severity::kWarning);
  CHECK(found[4].column == 5);
}

TEST_CASE("A linter that is not installed is a linter-missing warning, never a pass",
          "[lint][external]") {
  TempWorkspace ws;
  ws.Write("a.py", "import os\n");
  LinterConfig config;
  auto found = RunExternalLinter(ws.root(), {"workerpair-no-such-linter-x", "--flag"},
                                 {"a.py"}, config);
  INFO(Dump(found));
  auto missing = OnlyWithCode(found, "lint/linter-missing");
  REQUIRE(missing);
  CHECK(missing->path == "a.py");
  CHECK(missing->severity == Severity::kWarning);
  CHECK_THAT(missing->message, Catch::Contains("workerpair-no-such-linter-x"));
}

TEST_CASE("pyflakes reports an unused import (or is reported missing)", "[lint][external]") {
  TempWorkspace ws;
  ws.Write("pkg/mod.py", "import os\n\nprint('hi')\n");
  const LinterConfig config = DefaultLinterConfig();
  const std::vector<std::string>& command = config.commands.at("*.py");
  auto found = RunExternalLinter(ws.root(), command, {"pkg/mod.py"}, config);
  INFO(Dump(found));
  if (FindExecutable(command[0])) {
    auto unused = OnlyWithCode(found, "pyflakes");
    REQUIRE(unused);
    CHECK(unused->path == "pkg/mod.py");
    CHECK(unused->line == 1);
    CHECK_THAT(unused->message, Catch::Contains("'os' imported but unused"));
  } else {
    auto missing = OnlyWithCode(found, "lint/linter-missing");
    REQUIRE(missing);
    CHECK_THAT(missing->message, Catch::Contains("pyflakes"));
  }
}

TEST_CASE("shellcheck findings carry their SC code (or shellcheck is reported missing)",
          "[lint][external]") {
  TempWorkspace ws;
  ws.Write("run.sh", "#!/bin/sh\necho $1\n");
  const LinterConfig config = DefaultLinterConfig();
  auto found = RunExternalLinter(ws.root(), config.commands.at("*.sh"), {"run.sh"}, config);
  INFO(Dump(found));
  if (FindExecutable("shellcheck")) {
    auto finding = OnlyWithCode(found, "shellcheck/SC2086");
    REQUIRE(finding);
    CHECK(finding->line == 2);
    CHECK(finding->column == 6);
  } else {
    CHECK(OnlyWithCode(found, "lint/linter-missing"));
  }
}

TEST_CASE("A linter past its timeout is killed with its process group and reported",
          "[lint][external]") {
  TempWorkspace ws;
  ws.Write("slow.txt", "x");
  LinterConfig config;
  config.timeout = std::chrono::milliseconds(300);
  config.allow_subprocesses = true;  // the stand-in linter starts `sleep`
  // sh starts a background sleeper too: both must go, and the call must return promptly.
  const auto start = std::chrono::steady_clock::now();
  auto found = RunExternalLinter(ws.root(), {"sh", "-c", "sleep 30 & sleep 30; echo", "{files}"},
                                 {"slow.txt"}, config);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  INFO(Dump(found));
  CHECK(OnlyWithCode(found, "lint/linter-timeout"));
  CHECK(elapsed < std::chrono::seconds(5));
}

TEST_CASE("A failing linter without parsable output is a linter-failed warning",
          "[lint][external]") {
  TempWorkspace ws;
  ws.Write("a.txt", "x");
  auto found = RunExternalLinter(ws.root(), {"sh", "-c", "echo boom >&2; exit 2", "sh"},
                                 {"a.txt"}, LinterConfig{});
  INFO(Dump(found));
  auto failed = OnlyWithCode(found, "lint/linter-failed");
  REQUIRE(failed);
  // Why, in our words; the linter's own output is never repeated.
  CHECK_THAT(failed->message, Catch::Contains("exit 2"));
  CHECK_THAT(failed->message, !Catch::Contains("boom"));
  CHECK(LinterName("/usr/bin/pyflakes3") == "pyflakes");
}

}  // namespace
}  // namespace workerpair::light
