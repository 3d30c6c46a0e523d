// RunSandboxed: fork, then in the child only async-signal-safe system calls (process group,
// signals, descriptors, limits, no_new_privs, Landlock, seccomp, exec); in the parent a poll
// loop over stdout/stderr and a pidfd, with the timeout and the cancel flag checked every
// 50 ms, and the whole process group killed at the end.
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "libs/sandbox/internal.h"
#include "libs/sandbox/sandbox.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace workerpair::sandbox {
namespace {

using internal::UniqueFd;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kTick{50};
// After the child exits (and its group is killed), how long leftovers may hold the pipes.
constexpr std::chrono::milliseconds kDrainLimit{1000};

enum SetupStep : int {
  kStepDescriptors = 1,
  kStepChdir,
  kStepRlimit,
  kStepNoNewPrivs,
  kStepLandlock,
  kStepCloseDescriptors,
  kStepSeccomp,
  kStepExec,
};

const char* StepName(int step) {
  switch (step) {
    case kStepDescriptors: return "setting up stdin/stdout/stderr";
    case kStepChdir: return "entering the working directory";
    case kStepRlimit: return "setting resource limits";
    case kStepNoNewPrivs: return "PR_SET_NO_NEW_PRIVS";
    case kStepLandlock: return "landlock_restrict_self";
    case kStepCloseDescriptors: return "closing inherited descriptors";
    case kStepSeccomp: return "loading the seccomp filter";
    case kStepExec: return "exec";
    default: return "child set-up";
  }
}

// Everything the child needs, prepared before fork.
struct ChildPlan {
  const char* exe;
  char* const* argv;
  char* const* envp;
  const char* cwd;  // nullptr: stay
  int stdin_fd, stdout_fd, stderr_fd, status_fd;
  int ruleset_fd;  // -1: no Landlock
  const internal::RlimitSetting* rlimits;
  std::size_t rlimit_count;
  sock_fprog* seccomp;  // nullptr: no filter
};

[[noreturn]] void FailChild(int status_fd, int step) {
  const int message[2] = {step, errno};
  [[maybe_unused]] ssize_t ignored = ::write(status_fd, message, sizeof(message));
  ::_exit(127);
}

// Between fork and exec: async-signal-safe calls only, no allocation, no locks.
[[noreturn]] void ChildMain(const ChildPlan& plan) {
  ::setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction default_action = {};
  default_action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &default_action, nullptr);

  // Move the three descriptors above 2 first, so that dup2 cannot clobber one with another.
  const int in = ::fcntl(plan.stdin_fd, F_DUPFD_CLOEXEC, 3);
  const int out = ::fcntl(plan.stdout_fd, F_DUPFD_CLOEXEC, 3);
  const int err = ::fcntl(plan.stderr_fd, F_DUPFD_CLOEXEC, 3);
  if (in < 0 || out < 0 || err < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 ||
      ::dup2(err, 2) < 0) {
    FailChild(plan.status_fd, kStepDescriptors);
  }
  if (plan.cwd != nullptr && ::chdir(plan.cwd) != 0) FailChild(plan.status_fd, kStepChdir);
  for (std::size_t i = 0; i < plan.rlimit_count; ++i) {
    if (::setrlimit(plan.rlimits[i].resource, &plan.rlimits[i].value) != 0) {
      FailChild(plan.status_fd, kStepRlimit);
    }
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) FailChild(plan.status_fd, kStepNoNewPrivs);
  if (plan.ruleset_fd >= 0) {
    if (const int error = internal::RestrictSelf(plan.ruleset_fd); error != 0) {
      errno = error;
      FailChild(plan.status_fd, kStepLandlock);
    }
  }
  // Nothing the parent had open survives the exec (the status pipe closes on it, too).
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    rlimit files = {};
    ::getrlimit(RLIMIT_NOFILE, &files);
    const int last = static_cast<int>(std::min<rlim_t>(files.rlim_cur, 65536));
    for (int fd = 3; fd < last; ++fd) {
      if (fd != plan.status_fd) ::close(fd);
    }
  }
  if (plan.seccomp != nullptr) {
    if (const int error = internal::LoadSeccompProgram(plan.seccomp, 0); error != 0) {
      errno = error;
      FailChild(plan.status_fd, kStepSeccomp);
    }
  }
  ::execve(plan.exe, plan.argv, plan.envp);
  FailChild(plan.status_fd, kStepExec);
}

// An anonymous mapping at a random address holding the exec's filename and argv array: the
// seccomp filter lets exactly these pointer values through once. A confined program would
// have to guess the address (~34 bits) to exec again.
class ExecPage {
 public:
  ExecPage() = default;
  ExecPage(const ExecPage&) = delete;
  ExecPage& operator=(const ExecPage&) = delete;
  ~ExecPage() {
    if (addr_ != nullptr) ::munmap(addr_, size_);
  }

  absl::Status Fill(const std::string& exe, const std::vector<char*>& argv) {
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::size_t needed = argv.size() * sizeof(char*) + exe.size() + 1;
    size_ = (needed + page - 1) / page * page;
    for (int attempt = 0; attempt < 8 && addr_ == nullptr; ++attempt) {
      std::uint64_t random = 0;
      if (::getrandom(&random, sizeof(random), 0) != sizeof(random)) break;
      const std::uint64_t low = 1ULL << 32, high = 1ULL << 46;
      const std::uint64_t hint = (low + random % (high - low)) & ~(static_cast<std::uint64_t>(page) - 1);
      void* addr = ::mmap(reinterpret_cast<void*>(hint), size_, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
      if (addr != MAP_FAILED) addr_ = addr;
    }
    if (addr_ == nullptr) {
      void* addr = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (addr == MAP_FAILED) {
        return absl::InternalError(StrCat("sandbox: mmap failed: ", internal::ErrnoText(errno)));
      }
      addr_ = addr;
    }
    char** args = static_cast<char**>(addr_);
    std::copy(argv.begin(), argv.end(), args);
    char* name = reinterpret_cast<char*>(args + argv.size());
    std::memcpy(name, exe.c_str(), exe.size() + 1);
    filename_ = name;
    argv_ = args;
    return absl::OkStatus();
  }

  const char* filename() const { return filename_; }
  char* const* argv() const { return argv_; }

 private:
  void* addr_ = nullptr;
  std::size_t size_ = 0;
  const char* filename_ = nullptr;
  char* const* argv_ = nullptr;
};

absl::Status MakePipe(UniqueFd* read_end, UniqueFd* write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return absl::InternalError(StrCat("sandbox: pipe failed: ", internal::ErrnoText(errno)));
  }
  *read_end = UniqueFd(fds[0]);
  *write_end = UniqueFd(fds[1]);
  return absl::OkStatus();
}

// stdin: a memfd holding `data`, or /dev/null.
absl::StatusOr<UniqueFd> MakeStdin(const std::string& data) {
  if (data.empty()) {
    UniqueFd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!null_fd.valid()) {
      return absl::InternalError(StrCat("sandbox: /dev/null: ", internal::ErrnoText(errno)));
    }
    return null_fd;
  }
  UniqueFd memfd(static_cast<int>(::syscall(SYS_memfd_create, "stdin", MFD_CLOEXEC)));
  if (!memfd.valid()) {
    return absl::InternalError(StrCat("sandbox: memfd_create: ", internal::ErrnoText(errno)));
  }
  for (std::size_t written = 0; written < data.size();) {
    const ssize_t n = ::write(memfd.get(), data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::InternalError(StrCat("sandbox: writing stdin: ", internal::ErrnoText(errno)));
    written += static_cast<std::size_t>(n);
  }
  ::lseek(memfd.get(), 0, SEEK_SET);
  return memfd;
}

// True once `pid` has exited; it is left unreaped, so its process group id stays ours.
bool ChildExited(pid_t pid) {
  siginfo_t info = {};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid;
}

// Reads what is available from `fd` into `out` (up to `cap`; the rest is dropped). Returns
// false at EOF or on an error.
bool ReadSome(int fd, std::string* out, std::size_t cap, bool* truncated) {
  char buffer[16384];
  const ssize_t n = ::read(fd, buffer, sizeof(buffer));
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  const std::size_t room = cap - std::min(cap, out->size());
  if (static_cast<std::size_t>(n) > room) *truncated = true;
  out->append(buffer, std::min(room, static_cast<std::size_t>(n)));
  return true;
}

}  // namespace

absl::StatusOr<SandboxedResult> RunSandboxed(const SandboxedCommand& command) {
  if (command.argv.empty()) return absl::InvalidArgumentError("sandbox: empty argv");
  if (!command.argv[0].starts_with('/')) {
    return absl::InvalidArgumentError("sandbox: argv[0] must be an absolute path");
  }
  SandboxedResult result;
  const SandboxReport probe = ProbeSandbox();
  result.sandbox = probe;
  result.sandbox.network_denied = probe.seccomp && command.policy.deny_network;
  result.sandbox.exec_denied = probe.seccomp && command.policy.deny_exec;
  result.sandbox.fork_denied = probe.seccomp && command.policy.deny_fork;

  // Everything the child uses, built now.
  std::vector<char*> argv;
  for (const std::string& arg : command.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& entry : command.env) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  const std::string cwd = command.working_dir.string();
  const std::vector<internal::RlimitSetting> rlimits = internal::RlimitSettings(command.limits);

  ExecPage exec_page;
  const char* exe = command.argv[0].c_str();
  char* const* exec_argv = argv.data();
  internal::ExecAllowance allowance;
  const bool pin_exec = probe.seccomp && command.policy.deny_exec;
  if (pin_exec) {
    WP_RETURN_IF_ERROR(exec_page.Fill(command.argv[0], argv));
    exe = exec_page.filename();
    exec_argv = exec_page.argv();
    allowance.filename = reinterpret_cast<std::uint64_t>(exe);
    allowance.argv = reinterpret_cast<std::uint64_t>(exec_argv);
  }
  UniqueFd ruleset;
  if (probe.landlock) {
    WP_ASSIGN_OR_RETURN(ruleset, internal::BuildLandlockRuleset(command.policy, probe.landlock_abi));
  }
  internal::SeccompProgram program;
  sock_fprog fprog = {};
  if (probe.seccomp) {
    WP_ASSIGN_OR_RETURN(program,
                        internal::BuildSeccompProgram(command.policy, pin_exec ? &allowance : nullptr));
    fprog = program.Fprog();
  }
  WP_ASSIGN_OR_RETURN(UniqueFd stdin_fd, MakeStdin(command.stdin_data));
  UniqueFd out_read, out_write, err_read, err_write, status_read, status_write;
  WP_RETURN_IF_ERROR(MakePipe(&out_read, &out_write));
  WP_RETURN_IF_ERROR(MakePipe(&err_read, &err_write));
  WP_RETURN_IF_ERROR(MakePipe(&status_read, &status_write));

  const ChildPlan plan{exe,
                       exec_argv,
                       envp.data(),
                       cwd.empty() ? nullptr : cwd.c_str(),
                       stdin_fd.get(),
                       out_write.get(),
                       err_write.get(),
                       status_write.get(),
                       ruleset.valid() ? ruleset.get() : -1,
                       rlimits.data(),
                       rlimits.size(),
                       probe.seccomp ? &fprog : nullptr};
  const pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError(StrCat("sandbox: fork failed: ", internal::ErrnoText(errno)));
  if (pid == 0) ChildMain(plan);
  // Also from the parent, so the group exists before any kill below.
  ::setpgid(pid, pid);
  out_write.Reset();
  err_write.Reset();
  status_write.Reset();
  stdin_fd.Reset();
  ruleset.Reset();

  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline =
      command.timeout == absl::InfiniteDuration() || command.timeout > absl::Hours(24 * 365)
          ? Clock::time_point::max()
          : start + std::chrono::nanoseconds(absl::ToInt64Nanoseconds(command.timeout));
  bool killed = false, exited = false;
  Clock::time_point drain_until = Clock::time_point::max();
  while (true) {
    const Clock::time_point now = Clock::now();
    if (!killed) {
      if ((command.cancel != nullptr && command.cancel->load()) ||
          (command.should_stop && command.should_stop())) {
        result.cancelled = true;
      } else if (now >= deadline) {
        result.timed_out = true;
      }
      if (result.cancelled || result.timed_out) {
        ::kill(-pid, SIGKILL);
        killed = true;
      }
    }
    if (!exited && ChildExited(pid)) {
      exited = true;
      ::kill(-pid, SIGKILL);  // whatever it left behind in its group
      drain_until = Clock::now() + kDrainLimit;
    }
    if (exited && ((!out_read.valid() && !err_read.valid()) || Clock::now() >= drain_until)) break;

    pollfd fds[3];
    int count = 0;
    int out_index = -1, err_index = -1;
    if (out_read.valid()) {
      out_index = count;
      fds[count++] = pollfd{out_read.get(), POLLIN, 0};
    }
    if (err_read.valid()) {
      err_index = count;
      fds[count++] = pollfd{err_read.get(), POLLIN, 0};
    }
    if (!exited && pidfd.valid()) fds[count++] = pollfd{pidfd.get(), POLLIN, 0};
    std::chrono::milliseconds wait = kTick;
    if (!exited && !pidfd.valid() && count == 0) wait = std::chrono::milliseconds(5);
    const int ready = ::poll(fds, static_cast<nfds_t>(count), static_cast<int>(wait.count()));
    if (ready <= 0) continue;
    if (out_index >= 0 && (fds[out_index].revents & (POLLIN | POLLHUP | POLLERR)) != 0 &&
        !ReadSome(out_read.get(), &result.stdout_data, command.max_output_bytes,
                  &result.output_truncated)) {
      out_read.Reset();
    }
    if (err_index >= 0 && (fds[err_index].revents & (POLLIN | POLLHUP | POLLERR)) != 0 &&
        !ReadSome(err_read.get(), &result.stderr_data, command.max_output_bytes,
                  &result.output_truncated)) {
      err_read.Reset();
    }
  }

  // A failure before exec is reported through the status pipe (closed unread by the exec).
  int message[2] = {0, 0};
  ::fcntl(status_read.get(), F_SETFL, O_NONBLOCK);
  if (::read(status_read.get(), message, sizeof(message)) == sizeof(message) && message[0] != 0) {
    result.setup_error = StrCat(StepName(message[0]), ": ", internal::ErrnoText(message[1]));
  }
  int status = 0;
  rusage usage = {};
  while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  result.cpu_time = absl::DurationFromTimeval(usage.ru_utime) + absl::DurationFromTimeval(usage.ru_stime);
  result.peak_rss_bytes = static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.term_signal = WTERMSIG(status);
  }
  return result;
}

}  // namespace workerpair::sandbox
