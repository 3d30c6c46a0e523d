// ProbeSandbox, EnterSandbox and ApplyResourceLimits on the calling process (each in a forked
// child, since both are irreversible), and RunSandboxed from an unprivileged uid.
#include "libs/sandbox/sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <functional>
#include <thread>

#include "tests/sandbox/no_landlock.h"
#include "tests/sandbox/sandbox_test_util.h"

namespace workerpair::sandbox {
namespace {

using testing::kCanaryText;
using testing::TempDir;
using testing::WriteFile;

// Runs `body` in a forked child and returns its exit status (or 200 + signal). Bounded by an
// alarm so that a hang fails the test instead of stalling it.
int InChild(const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::alarm(60);
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

// Root becomes nobody (65534); a test run that is unprivileged already stays as it is.
bool DropToNobody() {
  if (::geteuid() != 0) return true;
  return ::setgroups(0, nullptr) == 0 && ::setgid(65534) == 0 && ::setuid(65534) == 0;
}

TEST_CASE("ProbeSandbox finds Landlock and seccomp on this kernel") {
  const SandboxReport report = ProbeSandbox();
  INFO(report.Describe());
  CHECK(report.landlock_abi > 0);
  CHECK(report.landlock);
  CHECK(report.seccomp);
  CHECK(report.Describe().starts_with("landlock abi "));
}

TEST_CASE("Without Landlock the probe, EnterSandbox and RunSandboxed say so in a warning") {
  TempDir work("work");
  const int code = InChild([&]() -> int {
    if (!testing::HideLandlock()) return 10;
    const SandboxReport probe = ProbeSandbox();
    if (probe.landlock || probe.landlock_abi != 0 || !probe.seccomp) return 11;
    if (probe.warnings.size() != 1 || probe.warnings[0].find("Landlock is unavailable") != 0) return 12;
    if (probe.Describe() != "NO landlock + seccomp (no network, no exec, no fork)") return 13;
    auto run = RunSandboxed(testing::Shell(work.path(), "echo ran"));
    if (!run.ok() || run->stdout_data != "ran\n" || run->sandbox.landlock ||
        run->sandbox.warnings.empty()) {
      return 14;
    }
    SandboxPolicy policy;
    auto entered = EnterSandbox(policy);
    if (!entered.ok() || entered->landlock || !entered->seccomp || entered->warnings.empty()) return 15;
    return 0;
  });
  CHECK(code == 0);
}

TEST_CASE("Describe says plainly when nothing is in force") {
  SandboxReport none;
  CHECK(none.Describe().starts_with("NONE"));
  SandboxReport both;
  both.landlock = true;
  both.landlock_abi = 7;
  both.seccomp = true;
  both.network_denied = true;
  both.exec_denied = true;
  CHECK(both.Describe() == "landlock abi 7 + seccomp (no network, no exec)");
  both.fork_denied = true;
  CHECK(both.Describe() == "landlock abi 7 + seccomp (no network, no exec, no fork)");
}

TEST_CASE("EnterSandbox confines an unprivileged process: files, network, exec") {
  TempDir work("work"), secret("secret");
  WriteFile(secret.path() / "canary.txt", kCanaryText);  // 0644: readable for nobody by DAC
  WriteFile(work.path() / "mine.txt", "mine");
  const int code = InChild([&]() -> int {
    if (!DropToNobody()) return 9;
    SandboxPolicy policy;
    policy.read_only = SystemReadOnlyPaths();
    policy.read_write = {work.path()};
    policy.deny_exec = true;
    auto report = EnterSandbox(policy);
    if (!report.ok() || !report->landlock || !report->seccomp) return 10;
    const int mine = ::open((work.path() / "mine.txt").c_str(), O_RDONLY);
    if (mine < 0) return 11;
    const int canary = ::open((secret.path() / "canary.txt").c_str(), O_RDONLY);
    if (canary >= 0 || errno != EACCES) return 12;
    const int passwd = ::open("/etc/passwd", O_RDONLY);
    if (passwd >= 0 || errno != EACCES) return 13;
    const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
    if (sock >= 0 || errno != EACCES) return 14;
    char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
    ::execv("/bin/true", argv);
    if (errno != EPERM) return 15;
    return 0;
  });
  CHECK(code == 0);
}

TEST_CASE("EnterSandbox holds for threads started afterwards and children they fork") {
  TempDir work("work");
  const int code = InChild([&]() -> int {
    SandboxPolicy policy;
    policy.read_only = SystemReadOnlyPaths();
    policy.read_write = {work.path()};
    if (!EnterSandbox(policy).ok()) return 10;
    const pid_t child = ::fork();
    if (child == 0) ::_exit(::open("/etc/passwd", O_RDONLY) < 0 && errno == EACCES ? 0 : 1);
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
  });
  CHECK(code == 0);
}

TEST_CASE("EnterSandbox refuses to run once other threads exist") {
  const int code = InChild([]() -> int {
    std::thread sleeper([] { ::pause(); });
    sleeper.detach();
    SandboxPolicy policy;
    auto report = EnterSandbox(policy);
    if (!absl::IsFailedPrecondition(report.status())) return 10;
    // Nothing was applied: files outside any policy are still readable.
    return ::access("/etc/passwd", R_OK) == 0 ? 0 : 11;
  });
  CHECK(code == 0);
}

TEST_CASE("ApplyResourceLimits sets the limits on the calling process") {
  const int code = InChild([]() -> int {
    ResourceLimits limits;
    limits.data_bytes = 64ull << 20;
    limits.open_files = 64;
    if (!ApplyResourceLimits(limits).ok()) return 10;
    rlimit value = {};
    ::getrlimit(RLIMIT_DATA, &value);
    if (value.rlim_cur != 64ull << 20) return 11;
    ::getrlimit(RLIMIT_CORE, &value);
    if (value.rlim_cur != 0) return 12;
    void* big = std::malloc(256ull << 20);
    if (big != nullptr) return 13;
    return 0;
  });
  CHECK(code == 0);
}

TEST_CASE("ApplyResourceLimits above the hard limit is INVALID_ARGUMENT for an unprivileged uid") {
  const int code = InChild([]() -> int {
    rlimit files = {256, 256};
    ::setrlimit(RLIMIT_NOFILE, &files);
    if (!DropToNobody()) return 10;
    ResourceLimits limits;
    limits.open_files = 4096;
    return absl::IsInvalidArgument(ApplyResourceLimits(limits)) ? 0 : 11;
  });
  CHECK(code == 0);
}

TEST_CASE("RunSandboxed confines an unprivileged uid the same way (nobody)") {
  TempDir work("work"), secret("secret");
  WriteFile(secret.path() / "canary.txt", kCanaryText);  // 0644: nobody could read it
  const int code = InChild([&]() -> int {
    if (!DropToNobody()) return 10;
    const std::string canary = (secret.path() / "canary.txt").string();
    // Without the sandbox nobody reads it (DAC allows it) ...
    if (::access(canary.c_str(), R_OK) != 0) return 11;
    // ... with the sandbox it does not, and has no network.
    SandboxedCommand command = testing::Shell(work.path(), "cat " + canary + "; echo rc=$?");
    auto run = RunSandboxed(command);
    if (!run.ok() || run->stdout_data != "rc=1\n") return 12;
    if (run->stderr_data.find(kCanaryText) != std::string::npos) return 13;
    command = testing::Python(work.path(), "import socket\nsocket.socket()");
    run = RunSandboxed(command);
    if (!run.ok() || run->stderr_data.find("PermissionError") == std::string::npos) return 14;
    return 0;
  });
  CHECK(code == 0);
}

}  // namespace
}  // namespace workerpair::sandbox
