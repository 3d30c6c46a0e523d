#include "services/heavy/runner/runner_process.h"

#include "services/heavy/runner/runner_message_check.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string_view>

#include "libs/common/str_cat.h"

extern char** environ;

namespace workerpair::heavy {
namespace {

bool Allowed(std::string_view entry) {
  static constexpr std::string_view kExact[] = {"PATH=", "LANG=", "TZ=", "WORKERPAIR_EGL_DEVICE="};
  for (std::string_view exact : kExact) {
    if (entry.substr(0, exact.size()) == exact) return true;
  }
  static constexpr std::string_view kPrefixes[] = {
      "LC_", "MESA_", "LP_", "GALLIUM_", "LIBGL_", "EGL_", "__EGL_", "__GL_", "__NV_",
      "NVIDIA_", "CUDA_VISIBLE_DEVICES="};
  for (std::string_view prefix : kPrefixes) {
    if (entry.substr(0, prefix.size()) == prefix) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> RunnerEnvironment(const std::filesystem::path& dir) {
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    if (Allowed(*entry)) env.emplace_back(*entry);
  }
  env.push_back("HOME=" + dir.string());
  env.push_back("TMPDIR=" + dir.string());
  // Nothing to cache across jobs on disk: the shader cache would outlive the job's directory.
  env.push_back("MESA_SHADER_CACHE_DISABLE=true");
  return env;
}

absl::StatusOr<std::unique_ptr<RunnerProcess>> RunnerProcess::Spawn(const RunnerLaunch& launch) {
  // Everything the child needs is built before fork.
  std::vector<std::string> args = {
      launch.executable.string(),
      "--fd=3",
      StrCat("--dir=", launch.dir.string()),
      StrCat("--parent_pid=", ::getpid()),
      StrCat("--nice=", launch.nice),
      StrCat("--memory_mb=", launch.memory_mb),
      StrCat("--file_size_mb=", launch.file_size_mb),
  };
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = launch.env;
  std::vector<char*> envp;
  for (std::string& entry : env) envp.push_back(entry.data());
  envp.push_back(nullptr);
  const std::string path = launch.executable.string();

  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return absl::InternalError(StrCat("socketpair: ", std::strerror(errno)));
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int error = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return absl::InternalError(StrCat("fork: ", std::strerror(error)));
  }
  if (pid == 0) {
    // Child: async-signal-safe calls only, then exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    if (fds[1] == 3) {
      ::fcntl(3, F_SETFD, 0);
    } else if (::dup2(fds[1], 3) < 0) {  // dup2 clears FD_CLOEXEC on fd 3
      ::_exit(127);
    }
    if (::syscall(SYS_close_range, 4u, ~0u, 0u) != 0) {
      for (int fd = 4; fd < 4096; ++fd) ::close(fd);
    }
    ::execve(path.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  auto process =
      std::unique_ptr<RunnerProcess>(new RunnerProcess(pid, fds[0], launch.max_frame_bytes));
  if (absl::Status sent = process->Send(launch.settings); !sent.ok()) {
    // The runner died at once (e.g. exec failed); AwaitReady reports it.
  }
  return process;
}

RunnerProcess::~RunnerProcess() {
  if (!exit_) {
    Kill();
    Reap();
  }
  ::close(fd_);
}

absl::StatusOr<internal::RunnerReady> RunnerProcess::AwaitReady(absl::Time deadline) {
  internal::RunnerMessage message;
  absl::StatusOr<bool> got = reader_.Read(&message, deadline);
  if (!got.ok()) {
    Kill();
    const RunnerExit exit = Reap();
    return absl::UnavailableError(
        exit.exited ? StrCat("the runner exited with status ", exit.code, " before it was ready")
                    : StrCat("the runner died (signal ", exit.signal, ") before it was ready"));
  }
  if (!*got) return absl::DeadlineExceededError("the runner did not become ready in time");
  if (!message.has_ready()) return absl::UnavailableError("the runner sent something else first");
  if (absl::Status valid = CheckRunnerMessage(message); !valid.ok()) {
    return absl::UnavailableError(StrCat("the runner's ready message is malformed (",
                                         std::string(valid.message()), ")"));
  }
  return message.ready();
}

absl::Status RunnerProcess::Send(const google::protobuf::MessageLite& message) {
  return WriteFrame(fd_, message);
}

absl::StatusOr<bool> RunnerProcess::Next(internal::RunnerMessage* message, absl::Time deadline) {
  return reader_.Read(message, deadline);
}

void RunnerProcess::Kill() {
  if (!exit_) ::kill(pid_, SIGKILL);
}

RunnerExit RunnerProcess::Reap() {
  if (exit_) return *exit_;
  RunnerExit exit;
  int status = 0;
  rusage usage{};
  pid_t got;
  do {
    got = ::wait4(pid_, &status, 0, &usage);
  } while (got < 0 && errno == EINTR);
  if (got == pid_) {
    if (WIFEXITED(status)) {
      exit.exited = true;
      exit.code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      exit.signal = WTERMSIG(status);
    }
    exit.max_rss_bytes = static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
  }
  exit_ = exit;
  return exit;
}

std::uint64_t RunnerProcess::DataBytes() const {
  if (exit_) return 0;
  std::ifstream in(StrCat("/proc/", pid_, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmData:", 0) == 0) {
      return std::strtoull(line.c_str() + 7, nullptr, 10) * 1024;
    }
  }
  return 0;
}

}  // namespace workerpair::heavy
