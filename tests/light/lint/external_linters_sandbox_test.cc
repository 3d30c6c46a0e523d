// External linters run sandboxed: hostile workspace configuration cannot make them read (and
// us hand back) files outside the workspace; failures are reported in our words. The linters
// are installed by scripts/setup.sh, so these tests require them.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "services/light/core/lint/external_linters.h"
#include "libs/common/call_budget.h"
#include "services/light/core/lint/linter.h"
#include "tests/light/lint/lint_test_util.h"
#include "tests/sandbox/no_landlock.h"

namespace workerpair::light {
namespace {

using lint_test::Dump;
using lint_test::OnlyWithCode;
using lint_test::TempWorkspace;
using lint_test::WithCode;

constexpr const char* kCanary = "CANARY-7d2e41-outside-the-workspace";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// No diagnostic repeats any line of `host_file` (lines of at least 4 characters).
void CheckNothingFrom(const std::string& host_file, const std::vector<Diagnostic>& found) {
  const std::string dump = Dump(found);
  std::istringstream lines(ReadAll(host_file));
  int checked = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.size() < 4) continue;
    ++checked;
    INFO(host_file << " line: " << line);
    CHECK(dump.find(line) == std::string::npos);
    // Nor its first field (a group or user name with its separator).
    const std::size_t colon = line.find(':');
    if (colon != std::string::npos && colon > 0) {
      CHECK(dump.find(line.substr(0, colon + 1) + "x:") == std::string::npos);
    }
  }
  CHECK(checked > 0);
}

std::vector<std::string> Command(const LinterConfig& config, const std::string& glob) {
  const std::vector<std::string>& command = config.commands.at(glob);
  REQUIRE(FindExecutable(command[0]));
  return command;
}

TEST_CASE("A .yamllint that extends /etc/group hands back nothing of /etc/group",
          "[lint][external][sandbox]") {
  TempWorkspace ws;
  ws.Write(".yamllint", "extends: /etc/group\n");
  ws.Write("a.yaml", "a: 1\n");
  const LinterConfig config = DefaultLinterConfig();
  auto found = RunExternalLinter(ws.root(), Command(config, "*.yaml"), {"a.yaml"}, config);
  INFO(Dump(found));
  auto failed = OnlyWithCode(found, "lint/linter-failed");
  REQUIRE(failed);
  CHECK(failed->path == "a.yaml");
  CHECK_THAT(failed->message, Catch::Contains("yamllint") && Catch::Contains("inside the workspace"));
  CheckNothingFrom("/etc/group", found);
  CHECK(found.size() == 1);
  // A host file that does not exist gets the same words: no oracle for which files exist.
  ws.Write(".yamllint", "extends: /etc/workerpair-no-such-file\n");
  auto missing = RunExternalLinter(ws.root(), Command(config, "*.yaml"), {"a.yaml"}, config);
  INFO(Dump(missing));
  REQUIRE(missing.size() == 1);
  CHECK(missing[0].message == failed->message);
}

TEST_CASE("A .yamllint that extends a relative path out of the workspace is not read",
          "[lint][external][sandbox]") {
  TempWorkspace ws;
  // A valid yamllint config next to the workspace: were it read, a.yaml would break its rule.
  std::ofstream(ws.dir.path() / "outside.yaml")
      << "# " << kCanary << "\nextends: default\nrules:\n  line-length: {max: 3}\n";
  ws.Write(".yamllint", "extends: ../outside.yaml\n");
  ws.Write("a.yaml", "---\nkey: a-long-value\n");
  const LinterConfig config = DefaultLinterConfig();
  auto found = RunExternalLinter(ws.root(), Command(config, "*.yaml"), {"a.yaml"}, config);
  INFO(Dump(found));
  REQUIRE(OnlyWithCode(found, "lint/linter-failed"));
  CHECK(WithCode(found, "yamllint/line-length").empty());
  CHECK(Dump(found).find(kCanary) == std::string::npos);
}

TEST_CASE("A .yamllint planted as a symlink to a host file, or through a symlinked directory, is not read",
          "[lint][external][sandbox]") {
  TempWorkspace ws;
  ws.Write("a.yaml", "a: 1\n");
  std::filesystem::create_symlink("/etc/group", ws.root() / ".yamllint");
  const LinterConfig config = DefaultLinterConfig();
  auto found = RunExternalLinter(ws.root(), Command(config, "*.yaml"), {"a.yaml"}, config);
  INFO(Dump(found));
  REQUIRE(OnlyWithCode(found, "lint/linter-failed"));
  CheckNothingFrom("/etc/group", found);

  std::filesystem::remove(ws.root() / ".yamllint");
  std::filesystem::create_directory_symlink("/etc", ws.root() / "etc");
  ws.Write(".yamllint", "extends: etc/group\n");
  found = RunExternalLinter(ws.root(), Command(config, "*.yaml"), {"a.yaml"}, config);
  INFO(Dump(found));
  REQUIRE(OnlyWithCode(found, "lint/linter-failed"));
  CheckNothingFrom("/etc/group", found);
}

TEST_CASE("A .yamllint inside the workspace still applies", "[lint][external][sandbox]") {
  TempWorkspace ws;
  ws.Write(".yamllint", "extends: default\nrules:\n  line-length: {max: 10}\n");
  ws.Write("dir/a.yaml", "---\nkey: a-value-longer-than-ten\nkey: 2\n");
  const LinterConfig config = DefaultLinterConfig();
  auto found = RunExternalLinter(ws.root(), Command(config, "*.yaml"), {"dir/a.yaml"}, config);
  INFO(Dump(found));
  CHECK(WithCode(found, "lint/linter-failed").empty());
  auto long_line = OnlyWithCode(found, "yamllint/line-length");
  REQUIRE(long_line);
  CHECK(long_line->line == 2);
  CHECK(OnlyWithCode(found, "yamllint/key-duplicates"));
}

TEST_CASE("shellcheck with source=/etc/passwd hands back nothing of /etc/passwd",
          "[lint][external][sandbox]") {
  TempWorkspace ws;
  // external-sources makes shellcheck follow the directive; the sandbox stops the read.
  ws.Write(".shellcheckrc", "external-sources=true\n");
  ws.Write("run.sh", "#!/bin/sh\n# shellcheck source=/etc/passwd\n. ./lib.sh\necho $1\n");
  ws.Write("lib.sh", "x=1\n");
  const LinterConfig config = DefaultLinterConfig();
  std::vector<std::string> command = Command(config, "*.sh");
  command.push_back("-x");
  auto found = RunExternalLinter(ws.root(), command, {"run.sh"}, config);
  INFO(Dump(found));
  CheckNothingFrom("/etc/passwd", found);
  // Its findings on the script itself still come back.
  CHECK(OnlyWithCode(found, "shellcheck/SC2086"));
}

TEST_CASE("pyflakes in the sandbox still reports real findings on several files",
          "[lint][external][sandbox]") {
  TempWorkspace ws;
  ws.Write("a.py", "import os\n");
  ws.Write("pkg/b.py", "def f():\n    return undefined_name\n");
  ws.Write("c.py", "x = = 1\n");
  const LinterConfig config = DefaultLinterConfig();
  auto found = RunExternalLinter(ws.root(), Command(config, "*.py"), {"a.py", "pkg/b.py", "c.py"},
                                 config);
  INFO(Dump(found));
  auto pyflakes = WithCode(found, "pyflakes");
  REQUIRE(pyflakes.size() == 3);
  CHECK(pyflakes[0].path == "a.py");
  CHECK_THAT(pyflakes[0].message, Catch::Contains("'os' imported but unused"));
  CHECK(pyflakes[1].path == "pkg/b.py");
  CHECK_THAT(pyflakes[1].message, Catch::Contains("undefined name"));
  CHECK(pyflakes[2].path == "c.py");
  CHECK(WithCode(found, "lint/linter-failed").empty());
}

TEST_CASE("A linter that reads a host file to print it is refused and says so in our words",
          "[lint][external][sandbox]") {
  TempWorkspace ws;
  ws.Write("a.txt", "x");
  // A stand-in linter that would turn /etc/passwd into "findings" on a.txt.
  auto found = RunExternalLinter(
      ws.root(), {"sh", "-c", "while read -r l; do echo \"$0:1: $l\"; done < /etc/passwd", "a.txt"},
      {"a.txt"}, LinterConfig{});
  INFO(Dump(found));
  auto failed = OnlyWithCode(found, "lint/linter-failed");
  REQUIRE(failed);
  CHECK_THAT(failed->message, Catch::Contains("inside the workspace"));
  CHECK_THAT(failed->message, !Catch::Contains("/etc/passwd"));
  CheckNothingFrom("/etc/passwd", found);
}

TEST_CASE("A linter gets a clean environment, cannot write the workspace, fork, exec or connect",
          "[lint][external][sandbox]") {
  TempWorkspace ws;
  ws.Write("a.txt", "original");
  ::setenv("WORKERPAIR_TEST_SECRET", "s3cret", 1);
  const std::string script =
      "echo \"$0:1: home=$HOME xdg=$XDG_CONFIG_HOME secret=${WORKERPAIR_TEST_SECRET:-none}\"; "
      "echo changed > a.txt || echo \"$0:2: write refused\"";
  auto found = RunExternalLinter(ws.root(), {"sh", "-c", script, "a.txt"}, {"a.txt"}, LinterConfig{});
  ::unsetenv("WORKERPAIR_TEST_SECRET");
  INFO(Dump(found));
  auto lines = WithCode(found, "sh");
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].message == "home=/nonexistent xdg=/nonexistent secret=none");
  CHECK(lines[1].message == "write refused");
  CHECK(ReadAll((ws.root() / "a.txt").string()) == "original");

  const std::string probe = R"(
import os, socket, sys
def attempt(line, what, call):
    try:
        call()
        print(f"{sys.argv[1]}:{line}: {what} allowed")
    except OSError as e:
        print(f"{sys.argv[1]}:{line}: {what} errno {e.errno}")
attempt(1, "connect", lambda: socket.create_connection(("127.0.0.1", 9)))
attempt(2, "fork", os.fork)
attempt(3, "exec", lambda: os.execv("/bin/true", ["true"]))
)";
  auto refused = RunExternalLinter(ws.root(), {"/usr/bin/python3", "-c", probe, "a.txt"}, {"a.txt"},
                                   LinterConfig{});
  INFO(Dump(refused));
  auto attempts = WithCode(refused, "python");
  REQUIRE(attempts.size() == 3);
  CHECK(attempts[0].message == "connect errno 13");
  CHECK(attempts[1].message == "fork errno 1");
  CHECK(attempts[2].message == "exec errno 1");
}

TEST_CASE("A linter past its memory or CPU limit is stopped and says which",
          "[lint][external][sandbox]") {
  TempWorkspace ws;
  ws.Write("a.txt", "x");
  LinterConfig config;
  config.memory_bytes = 128ull << 20;
  auto memory = RunExternalLinter(ws.root(), {"/usr/bin/python3", "-c", "b = bytearray(1 << 30)"},
                                  {"a.txt"}, config);
  INFO(Dump(memory));
  auto failed = OnlyWithCode(memory, "lint/linter-failed");
  REQUIRE(failed);
  CHECK_THAT(failed->message, Catch::Contains("128 MiB memory limit"));

  config.cpu_seconds = 1;
  auto cpu = RunExternalLinter(ws.root(), {"sh", "-c", "while :; do :; done"}, {"a.txt"}, config);
  INFO(Dump(cpu));
  failed = OnlyWithCode(cpu, "lint/linter-failed");
  REQUIRE(failed);
  CHECK_THAT(failed->message, Catch::Contains("1 s of CPU time"));
}

TEST_CASE("A linter is stopped when its caller stops waiting", "[lint][external][sandbox]") {
  TempWorkspace ws;
  ws.Write("a.txt", "x");
  LinterConfig config;
  config.allow_subprocesses = true;
  std::atomic<int> asked{0};
  auto found = RunExternalLinter(ws.root(), {"sh", "-c", "sleep 60 & sleep 60"}, {"a.txt"}, config,
                                 [&] { return ++asked > 4; });
  INFO(Dump(found));
  CHECK(OnlyWithCode(found, "lint/linter-stopped"));
  CHECK(WithCode(found, "lint/linter-timeout").empty());
}

TEST_CASE("Without Landlock a linter is not run and the diagnostic says why",
          "[lint][external][sandbox]") {
  TempWorkspace ws;
  ws.Write("a.py", "import os\n");
  const LinterConfig config = DefaultLinterConfig();
  const std::vector<std::string> command = Command(config, "*.py");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::alarm(60);
    if (!sandbox::testing::HideLandlock()) ::_exit(10);
    auto found = RunExternalLinter(ws.root(), command, {"a.py"}, config);
    auto failed = OnlyWithCode(found, "lint/linter-failed");
    const bool right = found.size() == 1 && failed &&
                       failed->message.find("was not run: this kernel cannot sandbox it") !=
                           std::string::npos;
    ::_exit(right ? 0 : 11);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("LintWorkspace stops a running linter when the call's budget runs out",
          "[lint][external][sandbox]") {
  TempWorkspace ws;
  ws.Write("slow.txt", "x");
  LintOptions options;
  options.linters.commands["*.txt"] = {"sh", "-c", "while :; do :; done", "{files}"};
  options.linters.timeout = std::chrono::milliseconds(60000);
  Linter linter(options);
  CallBudget budget(absl::Now() + absl::Milliseconds(300), {}, "the test's deadline");
  WorkspaceLintOptions run;
  run.budget = &budget;
  auto report = linter.LintWorkspace(ws.workspace, run);
  CHECK(absl::IsDeadlineExceeded(report.status()));
}

TEST_CASE("LintWorkspace with hostile linter configs hands back nothing from the host",
          "[lint][external][sandbox]") {
  TempWorkspace ws;
  std::ofstream(ws.dir.path() / "outside.yaml") << "# " << kCanary << "\n";
  ws.Write(".yamllint", "extends: /etc/group\nignore-from-file: ../outside.yaml\n");
  ws.Write(".shellcheckrc", "external-sources=true\nsource-path=/etc\n");
  ws.Write("conf/a.yaml", "a: 1\n");
  ws.Write("run.sh", "#!/bin/sh\n# shellcheck source=/etc/passwd\n. ./x\necho $1\n");
  ws.Write("tool.py", "import os\n");
  Linter linter{LintOptions{}};
  auto report = linter.LintWorkspace(ws.workspace, WorkspaceLintOptions{});
  REQUIRE(report.ok());
  const std::vector<Diagnostic>& found = report->diagnostics();
  INFO(Dump(found));
  CheckNothingFrom("/etc/group", found);
  CheckNothingFrom("/etc/passwd", found);
  CHECK(Dump(found).find(kCanary) == std::string::npos);
  CHECK(OnlyWithCode(found, "lint/linter-failed"));  // yamllint, on conf/a.yaml
  CHECK(OnlyWithCode(found, "shellcheck/SC2086"));
  CHECK(OnlyWithCode(found, "pyflakes"));
}

}  // namespace
}  // namespace workerpair::light
