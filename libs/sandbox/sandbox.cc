// ProbeSandbox and EnterSandbox: Landlock + seccomp applied to the calling process.
#include "libs/sandbox/sandbox.h"

#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "libs/sandbox/internal.h"

namespace workerpair::sandbox {
namespace internal {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    Reset();
    fd_ = other.Release();
  }
  return *this;
}

int UniqueFd::Release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

void UniqueFd::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::string ErrnoText(int error) {
  char buffer[128];
  // GNU strerror_r returns the message (maybe not in buffer).
  const char* text = ::strerror_r(error, buffer, sizeof(buffer));
  return StrCat(text, " (errno ", error, ")");
}

}  // namespace internal

namespace {

constexpr const char* kNoLandlock =
    "Landlock is unavailable (kernel without it, or 'landlock' missing from the lsm= boot "
    "list): file access is NOT confined";
constexpr const char* kNoSeccomp =
    "seccomp filters are unavailable: network, ptrace, mount and exec are NOT restricted";

// Threads of this process (entries of /proc/self/task); 0 when it cannot be read.
int ThreadCount() {
  std::error_code error;
  int count = 0;
  for (std::filesystem::directory_iterator it("/proc/self/task", error), end; !error && it != end;
       it.increment(error)) {
    ++count;
  }
  return error ? 0 : count;
}

std::string LandlockGaps(int abi) {
  std::string gaps;
  if (abi < 2) gaps += " renames and links between directories always refused (EXDEV);";
  if (abi < 3) gaps += " truncate of readable files not restricted;";
  if (abi < 4) gaps += " TCP not restricted by Landlock (seccomp still applies);";
  if (abi < 5) gaps += " device ioctls not restricted;";
  if (abi < 6) gaps += " abstract unix sockets and signals to outside processes not restricted;";
  return gaps;
}

}  // namespace

std::string SandboxReport::Describe() const {
  if (!landlock && !seccomp) return "NONE: neither Landlock nor seccomp is in force";
  std::string text;
  if (landlock) {
    text = StrCat("landlock abi ", landlock_abi);
  } else {
    text = "NO landlock";
  }
  text += seccomp ? " + seccomp" : " + NO seccomp";
  if (seccomp) {
    std::string modes;
    if (network_denied) modes = "no network";
    if (exec_denied) modes += modes.empty() ? "no exec" : ", no exec";
    if (fork_denied) modes += modes.empty() ? "no fork" : ", no fork";
    if (!modes.empty()) text += StrCat(" (", modes, ")");
  }
  return text;
}

SandboxReport ProbeSandbox() {
  SandboxReport report;
  report.landlock_abi = internal::LandlockAbi();
  report.landlock = report.landlock_abi > 0;
  report.seccomp = internal::SeccompAvailable();
  report.network_denied = report.seccomp;
  report.exec_denied = report.seccomp;
  report.fork_denied = report.seccomp;
  if (!report.landlock) {
    report.warnings.push_back(kNoLandlock);
  } else if (std::string gaps = LandlockGaps(report.landlock_abi); !gaps.empty()) {
    report.warnings.push_back(StrCat("Landlock ABI ", report.landlock_abi, " is old:", gaps));
  }
  if (!report.seccomp) report.warnings.push_back(kNoSeccomp);
  return report;
}

absl::StatusOr<SandboxReport> EnterSandbox(const SandboxPolicy& policy) {
  // Landlock confines only the calling thread: with other threads running, they would stay
  // free to open anything.
  if (const int threads = ThreadCount(); threads > 1) {
    return absl::FailedPreconditionError(
        StrCat("sandbox: EnterSandbox must run before any other thread starts (", threads,
               " threads are running): Landlock confines only the calling thread"));
  }
  SandboxReport report = ProbeSandbox();
  report.network_denied = false;
  report.exec_denied = false;
  report.fork_denied = false;
  // Everything is built before anything is applied.
  internal::UniqueFd ruleset;
  if (report.landlock) {
    WP_ASSIGN_OR_RETURN(ruleset, internal::BuildLandlockRuleset(policy, report.landlock_abi));
  }
  internal::SeccompProgram program;
  if (report.seccomp) {
    WP_ASSIGN_OR_RETURN(program, internal::BuildSeccompProgram(policy, nullptr));
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return absl::InternalError(
        StrCat("sandbox: PR_SET_NO_NEW_PRIVS failed: ", internal::ErrnoText(errno)));
  }
  if (report.landlock) {
    if (int error = internal::RestrictSelf(ruleset.get()); error != 0) {
      return absl::InternalError(
          StrCat("sandbox: landlock_restrict_self failed: ", internal::ErrnoText(error)));
    }
  }
  if (report.seccomp) {
    sock_fprog fprog = program.Fprog();
    if (int error = internal::LoadSeccompProgram(&fprog, SECCOMP_FILTER_FLAG_TSYNC); error != 0) {
      if (error == EBUSY) {
        return absl::FailedPreconditionError(
            "sandbox: seccomp TSYNC failed: another thread has a conflicting filter");
      }
      return absl::InternalError(
          StrCat("sandbox: loading the seccomp filter failed: ", internal::ErrnoText(error)));
    }
    report.network_denied = policy.deny_network;
    report.exec_denied = policy.deny_exec;
    report.fork_denied = policy.deny_fork;
  }
  return report;
}

}  // namespace workerpair::sandbox
