// The seccomp filter: default allow, and a list of system calls that fail with an errno (never
// kill: a confined program sees a clear error). Built with libseccomp and exported as BPF, so
// that loading it is one system call (also between fork and exec).
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "libs/sandbox/internal.h"

namespace workerpair::sandbox::internal {
namespace {

// Escaping or inspecting the host: other processes' memory, mounts, namespaces, kernel
// modules and keys, raw handles that bypass path checks, io_uring (whose operations seccomp
// cannot see), leaving the process group (so a kill of the group reaches every descendant).
constexpr const char* kAlwaysDenied[] = {
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig",
    "fsmount", "fspick", "mount_setattr", "unshare", "setns",
    "swapon", "swapoff", "reboot", "kexec_load", "kexec_file_load", "init_module",
    "finit_module", "delete_module", "bpf", "perf_event_open", "userfaultfd", "fanotify_init",
    "keyctl", "add_key", "request_key", "open_by_handle_at", "name_to_handle_at", "acct",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "quotactl", "quotactl_fd",
    "syslog", "vhangup", "iopl", "ioperm", "lookup_dcookie",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "setsid", "setpgid",
};

constexpr unsigned long kNamespaceFlags[] = {CLONE_NEWUSER, CLONE_NEWNS,  CLONE_NEWNET,
                                             CLONE_NEWPID,  CLONE_NEWUTS, CLONE_NEWIPC,
                                             CLONE_NEWCGROUP};

struct ContextDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};

absl::Status Check(int rc, std::string_view what) {
  if (rc == 0) return absl::OkStatus();
  return absl::InternalError(StrCat("sandbox: seccomp rule for ", what, " failed: ", ErrnoText(-rc)));
}

// Adds `action` for `name` (with optional argument comparisons); a name this architecture does
// not have is skipped.
absl::Status AddRule(scmp_filter_ctx ctx, std::uint32_t action, const char* name,
                     std::initializer_list<scmp_arg_cmp> args = {}) {
  const int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return absl::OkStatus();
  return Check(seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(args.size()),
                                      args.size() == 0 ? nullptr : args.begin()),
               name);
}

}  // namespace

bool SeccompAvailable() {
  std::uint32_t action = SECCOMP_RET_ERRNO;
  return ::syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

absl::StatusOr<SeccompProgram> BuildSeccompProgram(const SandboxPolicy& policy,
                                                   const ExecAllowance* allowance) {
  std::unique_ptr<void, ContextDeleter> owned(seccomp_init(SCMP_ACT_ALLOW));
  if (owned == nullptr) return absl::InternalError("sandbox: seccomp_init failed");
  scmp_filter_ctx ctx = owned.get();
  // 32-bit and x32 system calls would skip the rules below: refuse them all.
  if (int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(ENOSYS)); rc != 0) {
    return Check(rc, "foreign architectures");
  }
  // The filter is loaded by hand (LoadSeccompProgram): libseccomp must not set no_new_privs.
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);

  const std::uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
  for (const char* name : kAlwaysDenied) WP_RETURN_IF_ERROR(AddRule(ctx, eperm, name));
  for (unsigned long flag : kNamespaceFlags) {
    WP_RETURN_IF_ERROR(AddRule(ctx, eperm, "clone", {SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)}));
  }
  // kill(-1, ...) signals every process of our uid (the service too, where Landlock's signal
  // scope, ABI 6, is missing).
  WP_RETURN_IF_ERROR(
      AddRule(ctx, eperm, "kill", {SCMP_A0(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, 0xFFFFFFFFu)}));
  // Other processes of our uid (the service) are out of reach for scheduling, priority and
  // limits too; pid 0 (this process) stays allowed.
  for (const char* name : {"prlimit64", "sched_setaffinity", "sched_setparam", "sched_setscheduler",
                           "sched_setattr", "migrate_pages", "move_pages"}) {
    WP_RETURN_IF_ERROR(AddRule(ctx, eperm, name, {SCMP_A0(SCMP_CMP_NE, 0)}));
  }
  // setpriority/ioprio_set: only (PRIO_PROCESS / IOPRIO_WHO_PROCESS, 0); PRIO_USER would reach
  // every process of our uid.
  WP_RETURN_IF_ERROR(AddRule(ctx, eperm, "setpriority", {SCMP_A0(SCMP_CMP_NE, PRIO_PROCESS)}));
  WP_RETURN_IF_ERROR(AddRule(ctx, eperm, "setpriority", {SCMP_A1(SCMP_CMP_NE, 0)}));
  constexpr unsigned kIoprioWhoProcess = 1;
  WP_RETURN_IF_ERROR(AddRule(ctx, eperm, "ioprio_set", {SCMP_A0(SCMP_CMP_NE, kIoprioWhoProcess)}));
  WP_RETURN_IF_ERROR(AddRule(ctx, eperm, "ioprio_set", {SCMP_A1(SCMP_CMP_NE, 0)}));
  if (policy.deny_fork) {
    WP_RETURN_IF_ERROR(AddRule(ctx, eperm, "fork"));
    WP_RETURN_IF_ERROR(AddRule(ctx, eperm, "vfork"));
    WP_RETURN_IF_ERROR(
        AddRule(ctx, eperm, "clone", {SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0)}));
  }
  // clone3 passes its flags in memory, where the filter cannot look: glibc falls back to clone.
  WP_RETURN_IF_ERROR(AddRule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3"));
  // Typing into the controlling terminal of whoever started us.
  for (unsigned long request : {static_cast<unsigned long>(TIOCSTI), static_cast<unsigned long>(TIOCLINUX)}) {
    WP_RETURN_IF_ERROR(
        AddRule(ctx, eperm, "ioctl", {SCMP_A1(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, request)}));
  }

  if (policy.deny_network) {
    const std::uint32_t eacces = SCMP_ACT_ERRNO(EACCES);
    if (policy.allow_unix_sockets) {
      WP_RETURN_IF_ERROR(AddRule(ctx, eacces, "socket", {SCMP_A0(SCMP_CMP_NE, AF_UNIX)}));
    } else {
      for (const char* name : {"socket", "connect", "bind", "listen", "accept", "accept4"}) {
        WP_RETURN_IF_ERROR(AddRule(ctx, eacces, name));
      }
    }
  }

  if (policy.deny_exec) {
    WP_RETURN_IF_ERROR(AddRule(ctx, eperm, "execveat"));
    if (allowance == nullptr) {
      WP_RETURN_IF_ERROR(AddRule(ctx, eperm, "execve"));
    } else {
      // Rules for one call are OR'ed: refused unless both pointers are exactly ours.
      WP_RETURN_IF_ERROR(
          AddRule(ctx, eperm, "execve", {SCMP_A0(SCMP_CMP_NE, allowance->filename)}));
      WP_RETURN_IF_ERROR(
          AddRule(ctx, eperm, "execve", {SCMP_A1(SCMP_CMP_NE, allowance->argv)}));
    }
  }

  // Export the BPF through a memfd and read it back.
  UniqueFd memfd(static_cast<int>(::syscall(SYS_memfd_create, "seccomp-bpf", MFD_CLOEXEC)));
  if (!memfd.valid()) {
    return absl::InternalError(StrCat("sandbox: memfd_create failed: ", ErrnoText(errno)));
  }
  if (int rc = seccomp_export_bpf(ctx, memfd.get()); rc != 0) return Check(rc, "export");
  struct stat st;
  if (::fstat(memfd.get(), &st) != 0 || st.st_size <= 0 ||
      st.st_size % static_cast<off_t>(sizeof(sock_filter)) != 0) {
    return absl::InternalError("sandbox: exported seccomp program has a bad size");
  }
  SeccompProgram program;
  program.instructions.resize(static_cast<std::size_t>(st.st_size) / sizeof(sock_filter));
  if (::pread(memfd.get(), program.instructions.data(), static_cast<std::size_t>(st.st_size), 0) !=
      st.st_size) {
    return absl::InternalError("sandbox: reading the exported seccomp program failed");
  }
  return program;
}

int LoadSeccompProgram(sock_fprog* program, unsigned int flags) {
  const long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, program);
  if (rc == 0) return 0;
  return rc > 0 ? EBUSY : errno;  // TSYNC: a positive value names a thread that could not sync
}

}  // namespace workerpair::sandbox::internal
