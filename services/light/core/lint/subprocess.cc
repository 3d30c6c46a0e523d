#include "services/light/core/lint/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <thread>

#include "absl/status/status.h"
#include "libs/common/str_cat.h"

namespace workerpair::light {
namespace {

using Clock = std::chrono::steady_clock;

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void ExecChild(int out_fd, const char* cwd, const char* exe, char* const* argv) {
  ::setpgid(0, 0);
  // The server blocks SIGINT/SIGTERM in every thread and may ignore SIGPIPE; undo both.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction default_action = {};
  default_action.sa_handler = SIG_DFL;
  ::sigaction(SIGPIPE, &default_action, nullptr);
  const int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd < 0 || ::dup2(null_fd, STDIN_FILENO) < 0 || ::dup2(out_fd, STDOUT_FILENO) < 0 ||
      ::dup2(out_fd, STDERR_FILENO) < 0 || ::chdir(cwd) != 0) {
    ::_exit(126);
  }
  // Close everything else the server had open.
  if (::syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
    for (int fd = 3; fd < 4096; ++fd) ::close(fd);
  }
  ::execv(exe, argv);
  ::_exit(127);
}

// True once `pid` has exited; it is left unreaped.
bool ChildExited(pid_t pid) {
  siginfo_t info = {};
  return ::waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
}

}  // namespace

std::optional<std::string> FindExecutable(std::string_view name) {
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string_view::npos) {
    std::string path(name);
    if (IsExecutableFile(path)) return path;
    return std::nullopt;
  }
  const char* env = std::getenv("PATH");
  std::string_view dirs = env != nullptr ? env : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const std::size_t colon = dirs.find(':');
    std::string_view dir = dirs.substr(0, colon);
    if (dir.empty()) dir = ".";
    std::string candidate = StrCat(dir, "/", name);
    if (IsExecutableFile(candidate)) return candidate;
    if (colon == std::string_view::npos) return std::nullopt;
    dirs.remove_prefix(colon + 1);
  }
}

absl::StatusOr<SubprocessResult> RunSubprocess(const std::vector<std::string>& argv,
                                               const SubprocessOptions& options) {
  if (argv.empty()) return absl::InvalidArgumentError("empty command");
  std::optional<std::string> exe = FindExecutable(argv[0]);
  if (!exe) return absl::NotFoundError(StrCat("'", argv[0], "' is not installed (not on PATH)"));

  // Everything the child needs is prepared before fork.
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const std::string cwd = options.cwd.empty() ? "." : options.cwd.string();

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return absl::InternalError(StrCat("pipe failed: errno ", errno));
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return absl::InternalError(StrCat("fork failed: errno ", errno));
  }
  if (pid == 0) ExecChild(fds[1], cwd.c_str(), exe->c_str(), args.data());
  ::close(fds[1]);
  // Also from the parent, so the group exists before any kill below.
  ::setpgid(pid, pid);

  SubprocessResult result;
  const Clock::time_point deadline = Clock::now() + options.timeout;
  auto remaining_ms = [&] {
    return std::max<long long>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
  };

  // Read until EOF (every writer closed) or the deadline.
  char buffer[16384];
  while (true) {
    const long long wait_ms = remaining_ms();
    if (wait_ms == 0) {
      result.timed_out = true;
      break;
    }
    pollfd pfd{fds[0], POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(wait_ms, 200)));
    if (ready < 0 && errno != EINTR) break;
    if (ready == 0 && ChildExited(pid)) break;  // quiet, and only leftovers hold the pipe
    if (ready <= 0) continue;
    const ssize_t n = ::read(fds[0], buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    const std::size_t room = options.max_output_bytes - std::min(options.max_output_bytes,
                                                                 result.output.size());
    if (static_cast<std::size_t>(n) > room) result.output_truncated = true;
    result.output.append(buffer, std::min(room, static_cast<std::size_t>(n)));
  }
  ::close(fds[0]);

  // Wait for the exit without reaping, so the group id cannot be recycled before the kill.
  while (!result.timed_out) {
    if (ChildExited(pid)) break;
    if (remaining_ms() == 0) {
      result.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Kill the whole group: the child on timeout, anything it left behind otherwise.
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.term_signal = WTERMSIG(status);
  }
  return result;
}

}  // namespace workerpair::light
