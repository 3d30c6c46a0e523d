// RunSandboxed with real programs: files outside the allowed directories, network, exec,
// limits, timeout, cancel and bounded output.
#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "libs/sandbox/sandbox.h"
#include "tests/sandbox/sandbox_test_util.h"

namespace workerpair::sandbox {
namespace {

using testing::kCanaryText;
using testing::Python;
using testing::Shell;
using testing::TempDir;
using testing::WriteFile;

// "R" (running), "S", "Z" (zombie) or "" when the process is gone.
std::string ProcessState(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return "";
  const std::size_t close = line.rfind(')');
  return close == std::string::npos || close + 2 >= line.size() ? "" : line.substr(close + 2, 1);
}

bool GoneOrZombie(pid_t pid) {
  for (int i = 0; i < 200; ++i) {
    const std::string state = ProcessState(pid);
    if (state.empty() || state == "Z") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST_CASE("A sandboxed child cannot read a file outside its allowed directories") {
  TempDir work("work"), secret("secret");
  WriteFile(secret.path() / "canary.txt", kCanaryText);
  const std::string canary = (secret.path() / "canary.txt").string();
  // Directly, through a symlink planted in the workspace, and by listing its directory.
  std::filesystem::create_symlink(canary, work.path() / "link.txt");
  auto run = RunSandboxed(Shell(work.path(), "cat " + canary + "; echo rc=$?; cat link.txt; echo rc=$?; "
                                             "ls " + secret.path().string() + "; echo rc=$?"));
  REQUIRE(run.ok());
  CHECK(run->sandbox.landlock);
  CHECK(run->stdout_data == "rc=1\nrc=1\nrc=2\n");
  CHECK(run->stderr_data.find("Permission denied") != std::string::npos);
  CHECK(run->stdout_data.find(kCanaryText) == std::string::npos);
  CHECK(run->stderr_data.find(kCanaryText) == std::string::npos);
}

TEST_CASE("A sandboxed child cannot read /etc/passwd or write outside its directory") {
  TempDir work("work"), other("other");
  auto run = RunSandboxed(Shell(work.path(), "cat /etc/passwd > /dev/null; echo rc=$?; "
                                             "echo x > " + (other.path() / "f").string() +
                                             "; echo rc=$?; echo x > /tmp/wp-sandbox-escape; echo rc=$?"));
  REQUIRE(run.ok());
  CHECK(run->stdout_data == "rc=1\nrc=2\nrc=2\n");
  CHECK_FALSE(std::filesystem::exists(other.path() / "f"));
}

TEST_CASE("A sandboxed child can read, write, rename and remove inside its read_write directory") {
  TempDir work("work");
  WriteFile(work.path() / "in.txt", "input");
  auto run = RunSandboxed(Shell(work.path(),
                                "cat in.txt && echo out > out.txt && mkdir d && mv out.txt d/o && "
                                "cat d/o && rm d/o && rmdir d && : > in.txt && echo done"));
  REQUIRE(run.ok());
  CHECK(run->exit_code == 0);
  CHECK(run->stdout_data == "inputout\ndone\n");
  CHECK(run->stderr_data.empty());
}

TEST_CASE("A read_only directory can be read but not written") {
  TempDir work("work"), data("data");
  WriteFile(data.path() / "a.txt", "A");
  SandboxedCommand command = Shell(work.path(), "cat " + (data.path() / "a.txt").string() +
                                                    "; echo; echo x > " + (data.path() / "a.txt").string() +
                                                    "; echo rc=$?");
  command.policy.read_only.push_back(data.path());
  auto run = RunSandboxed(command);
  REQUIRE(run.ok());
  CHECK(run->stdout_data == "A\nrc=2\n");
}

TEST_CASE("A sandboxed child cannot create an AF_INET, AF_INET6 or netlink socket") {
  TempDir work("work");
  auto run = RunSandboxed(Python(work.path(), R"(
import socket
for family, kind in ((socket.AF_INET, socket.SOCK_STREAM), (socket.AF_INET6, socket.SOCK_DGRAM),
                     (socket.AF_NETLINK, socket.SOCK_RAW), (socket.AF_UNIX, socket.SOCK_STREAM)):
    try:
        socket.socket(family, kind)
        print("open")
    except OSError as e:
        print("errno", e.errno)
a, b = socket.socketpair()
a.send(b"ok")
print(b.recv(2).decode())
)"));
  REQUIRE(run.ok());
  CHECK(run->exit_code == 0);
  CHECK(run->stdout_data == "errno 13\nerrno 13\nerrno 13\nerrno 13\nok\n");
}

TEST_CASE("allow_unix_sockets lets AF_UNIX through and still refuses AF_INET") {
  TempDir work("work");
  SandboxedCommand command = Python(work.path(), R"(
import socket
for family in (socket.AF_UNIX, socket.AF_INET):
    try:
        socket.socket(family, socket.SOCK_STREAM)
        print("open")
    except OSError as e:
        print("errno", e.errno)
)");
  command.policy.allow_unix_sockets = true;
  auto run = RunSandboxed(command);
  REQUIRE(run.ok());
  CHECK(run->stdout_data == "open\nerrno 13\n");
}

TEST_CASE("deny_exec lets the program start but refuses every exec after it") {
  TempDir work("work");
  SandboxedCommand command = Shell(work.path(), "/bin/true; echo rc=$?; echo still here");
  command.policy.deny_exec = true;
  auto run = RunSandboxed(command);
  REQUIRE(run.ok());
  CHECK(run->sandbox.exec_denied);
  CHECK(run->exit_code == 0);
  CHECK(run->stdout_data == "rc=126\nstill here\n");
  // Without deny_exec the same script may exec.
  command.policy.deny_exec = false;
  run = RunSandboxed(command);
  REQUIRE(run.ok());
  CHECK(run->stdout_data == "rc=0\nstill here\n");
}

TEST_CASE("Namespaces, ptrace and leaving the process group are refused") {
  TempDir work("work");
  auto run = RunSandboxed(Python(work.path(), R"(
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
print("unshare", libc.unshare(0x10000000), ctypes.get_errno())   # CLONE_NEWUSER
print("ptrace", libc.ptrace(16, os.getppid(), 0, 0), ctypes.get_errno())  # PTRACE_ATTACH
print("setsid", libc.setsid(), ctypes.get_errno())
print("setpgid", libc.setpgid(0, 0), ctypes.get_errno())
print("kill", libc.kill(-1, 0), ctypes.get_errno())          # every process of our uid
)"));
  REQUIRE(run.ok());
  CHECK(run->stdout_data == "unshare -1 1\nptrace -1 1\nsetsid -1 1\nsetpgid -1 1\nkill -1 1\n");
}

TEST_CASE("Other processes of the same uid are out of reach for priority, limits and affinity") {
  TempDir work("work");
  // Each call sets what is already there, so nothing changes should the filter be missing.
  auto run = RunSandboxed(Python(work.path(), R"(
import os, resource
parent = os.getppid()
def attempt(what, call):
    try:
        call()
        print(what, "allowed")
    except OSError as e:
        print(what, "errno", e.errno)
mine = os.getpriority(os.PRIO_PROCESS, 0)
attempt("self priority", lambda: os.setpriority(os.PRIO_PROCESS, 0, mine))
attempt("self rlimit", lambda: resource.setrlimit(resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE)))
attempt("parent priority", lambda: os.setpriority(os.PRIO_PROCESS, parent, os.getpriority(os.PRIO_PROCESS, parent)))
attempt("uid priority", lambda: os.setpriority(os.PRIO_USER, 0, mine))
attempt("parent rlimit", lambda: resource.prlimit(parent, resource.RLIMIT_NOFILE))
attempt("parent affinity", lambda: os.sched_setaffinity(parent, os.sched_getaffinity(parent)))
)"));
  REQUIRE(run.ok());
  CHECK(run->stdout_data ==
        "self priority allowed\nself rlimit allowed\nparent priority errno 1\n"
        "uid priority errno 1\nparent rlimit errno 1\nparent affinity errno 1\n");
}

TEST_CASE("deny_fork refuses new processes but lets threads start") {
  TempDir work("work");
  SandboxedCommand command = Python(work.path(), R"(
import os, threading
done = []
t = threading.Thread(target=lambda: done.append(1))
t.start(); t.join()
print("thread", len(done))
try:
    os.fork()
    print("forked")
except OSError as e:
    print("fork errno", e.errno)
)");
  command.policy.deny_fork = true;
  auto run = RunSandboxed(command);
  REQUIRE(run.ok());
  CHECK(run->sandbox.fork_denied);
  CHECK(run->stdout_data == "thread 1\nfork errno 1\n");
}

TEST_CASE("RLIMIT_DATA makes a large allocation fail with MemoryError") {
  TempDir work("work");
  SandboxedCommand command = Python(work.path(), "b = bytearray(1 << 30)\nprint('allocated')");
  command.limits.data_bytes = 256ull << 20;
  auto run = RunSandboxed(command);
  REQUIRE(run.ok());
  CHECK(run->exit_code == 1);
  CHECK(run->stdout_data.empty());
  CHECK(run->stderr_data.find("MemoryError") != std::string::npos);
  // Below the limit it works.
  command.argv.back() = "b = bytearray(16 << 20)\nprint('allocated')";
  run = RunSandboxed(command);
  REQUIRE(run.ok());
  CHECK(run->stdout_data == "allocated\n");
  CHECK(run->peak_rss_bytes >= (16ull << 20));
}

TEST_CASE("RLIMIT_CPU ends a busy loop with SIGXCPU") {
  TempDir work("work");
  SandboxedCommand command = Shell(work.path(), "while :; do :; done");
  command.limits.cpu_seconds = 1;
  command.timeout = absl::Seconds(30);
  auto run = RunSandboxed(command);
  REQUIRE(run.ok());
  CHECK_FALSE(run->timed_out);
  CHECK(run->exit_code == -1);
  CHECK(run->term_signal == SIGXCPU);
  // The limit is enforced on tick-sampled CPU time, rusage reports exact time: on a loaded machine
  // the two differ by more than a tick, so only check that the loop did burn CPU.
  CHECK(run->cpu_time >= absl::Milliseconds(500));
}

TEST_CASE("RLIMIT_FSIZE stops a large write and no core file is written") {
  TempDir work("work");
  SandboxedCommand command = Shell(work.path(), "head -c 1000000 /dev/zero > big; echo rc=$?");
  command.limits.file_size_bytes = 100000;
  auto run = RunSandboxed(command);
  REQUIRE(run.ok());
  CHECK(run->stdout_data != "rc=0\n");
  CHECK(std::filesystem::file_size(work.path() / "big") <= 100000);
}

TEST_CASE("The timeout kills a sleeping child and its grandchildren") {
  TempDir work("work");
  SandboxedCommand command = Shell(work.path(), "sleep 1000 & echo $!; sleep 1000");
  command.timeout = absl::Milliseconds(300);
  auto run = RunSandboxed(command);
  REQUIRE(run.ok());
  CHECK(run->timed_out);
  CHECK_FALSE(run->cancelled);
  CHECK(run->term_signal == SIGKILL);
  const pid_t grandchild = static_cast<pid_t>(std::stol(run->stdout_data));
  REQUIRE(grandchild > 0);
  CHECK(GoneOrZombie(grandchild));
}

TEST_CASE("Turning the cancel flag kills the child and its grandchildren") {
  TempDir work("work");
  std::atomic<bool> cancel{false};
  SandboxedCommand command = Shell(work.path(), "(sleep 1000; echo never) & echo $!; sleep 1000");
  command.cancel = &cancel;
  command.timeout = absl::Seconds(120);
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel = true;
  });
  auto run = RunSandboxed(command);
  canceller.join();
  REQUIRE(run.ok());
  CHECK(run->cancelled);
  CHECK_FALSE(run->timed_out);
  CHECK(run->term_signal == SIGKILL);
  CHECK(GoneOrZombie(static_cast<pid_t>(std::stol(run->stdout_data))));
}

TEST_CASE("A background process left behind after a normal exit is killed") {
  TempDir work("work");
  auto run = RunSandboxed(Shell(work.path(), "sleep 1000 & echo $!"));
  REQUIRE(run.ok());
  CHECK(run->exit_code == 0);
  CHECK_FALSE(run->timed_out);
  CHECK(GoneOrZombie(static_cast<pid_t>(std::stol(run->stdout_data))));
}

TEST_CASE("Output capture is bounded per stream and the rest is drained") {
  TempDir work("work");
  SandboxedCommand command =
      Shell(work.path(), "head -c 10000000 /dev/zero; head -c 300 /dev/zero >&2; exit 3");
  command.max_output_bytes = 65536;
  auto run = RunSandboxed(command);
  REQUIRE(run.ok());
  CHECK(run->exit_code == 3);
  CHECK(run->output_truncated);
  CHECK(run->stdout_data.size() == 65536);
  CHECK(run->stderr_data.size() == 300);
}

TEST_CASE("stdin_data reaches the child and the environment is only what was given") {
  TempDir work("work");
  SandboxedCommand command = Shell(work.path(), "cat; echo; echo \"home=$HOME only=$ONLY\"");
  command.stdin_data = "from stdin";
  command.env.push_back("ONLY=1");
  auto run = RunSandboxed(command);
  REQUIRE(run.ok());
  CHECK(run->stdout_data == "from stdin\nhome= only=1\n");
}

TEST_CASE("Set-up failures are results that name the step") {
  TempDir work("work");
  SandboxedCommand command = Shell(work.path() / "missing", "true");
  auto run = RunSandboxed(command);
  REQUIRE(run.ok());
  CHECK(run->exit_code == 127);
  CHECK(run->setup_error.find("working directory") != std::string::npos);

  command = Shell(work.path(), "");
  command.argv = {"/usr/bin/workerpair-no-such-program"};
  run = RunSandboxed(command);
  REQUIRE(run.ok());
  CHECK(run->exit_code == 127);
  CHECK(run->setup_error.find("exec") == 0);

  command.argv = {"sh", "-c", "true"};
  CHECK(absl::IsInvalidArgument(RunSandboxed(command).status()));
  command.argv.clear();
  CHECK(absl::IsInvalidArgument(RunSandboxed(command).status()));
}

TEST_CASE("Concurrent runs from several threads each get their own output and exit") {
  TempDir work("work");
  constexpr int kThreads = 6, kRuns = 5;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRuns; ++i) {
        const std::string tag = std::to_string(t) + "-" + std::to_string(i);
        SandboxedCommand command = Shell(work.path(), "echo " + tag + "; exit " + std::to_string(i));
        auto run = RunSandboxed(command);
        if (run.ok() && run->stdout_data == tag + "\n" && run->exit_code == i) ++good;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(good == kThreads * kRuns);
}

}  // namespace
}  // namespace workerpair::sandbox
