// Pieces of the sandbox shared by EnterSandbox (the calling process) and RunSandboxed (a child
// between fork and exec): everything is built up front, so that applying it is a handful of
// async-signal-safe system calls.
#ifndef WORKERPAIR_LIBS_SANDBOX_INTERNAL_H_
#define WORKERPAIR_LIBS_SANDBOX_INTERNAL_H_

#include <linux/filter.h>
#include <sys/resource.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/sandbox/sandbox.h"

namespace workerpair::sandbox::internal {

// An owned file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release();
  void Reset();

 private:
  int fd_ = -1;
};

// "Permission denied (errno 13)".
std::string ErrnoText(int error);

// The Landlock ABI the kernel offers, 0 when it has none (or it is disabled).
int LandlockAbi();

// A Landlock ruleset for `policy` under `abi` (> 0), ready for landlock_restrict_self.
absl::StatusOr<UniqueFd> BuildLandlockRuleset(const SandboxPolicy& policy, int abi);

// landlock_restrict_self(ruleset_fd); the caller has set PR_SET_NO_NEW_PRIVS. Returns 0 or
// errno. Async-signal-safe.
int RestrictSelf(int ruleset_fd);

// Whether the kernel accepts seccomp filters with SECCOMP_RET_ERRNO.
bool SeccompAvailable();

// When set, the one execve the filter lets through (RunSandboxed's own exec): the exact
// pointer values of its filename and argv arguments.
struct ExecAllowance {
  std::uint64_t filename = 0;
  std::uint64_t argv = 0;
};

// A compiled seccomp BPF program for `policy`.
struct SeccompProgram {
  std::vector<sock_filter> instructions;
  sock_fprog Fprog() {
    return sock_fprog{static_cast<unsigned short>(instructions.size()), instructions.data()};
  }
};
absl::StatusOr<SeccompProgram> BuildSeccompProgram(const SandboxPolicy& policy,
                                                   const ExecAllowance* allowance);

// seccomp(SECCOMP_SET_MODE_FILTER, flags, prog). Returns 0 or errno (TSYNC failing: EBUSY).
// Async-signal-safe.
int LoadSeccompProgram(sock_fprog* program, unsigned int flags);

// One setrlimit call prepared from ResourceLimits.
struct RlimitSetting {
  int resource;
  rlimit value;
  const char* name;
};
std::vector<RlimitSetting> RlimitSettings(const ResourceLimits& limits);

}  // namespace workerpair::sandbox::internal

#endif  // WORKERPAIR_LIBS_SANDBOX_INTERNAL_H_
