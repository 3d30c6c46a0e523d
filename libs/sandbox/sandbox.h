// Confining untrusted work with what an unprivileged Linux process may use: Landlock (which
// files), a seccomp filter (no network, no ptrace/mount/namespaces/io_uring, optionally no
// exec and no fork) and setrlimit (memory, CPU, file size, no core dumps). No gRPC, no global
// state.
//
//   // A program, confined in a child process (worker-light's linters):
//   SandboxedCommand command;
//   command.argv = {"/usr/bin/yamllint", "-f", "parsable", "a.yaml"};
//   command.working_dir = ws_root;
//   command.env = {"PATH=/usr/bin:/bin", "HOME=/nonexistent"};
//   command.policy.read_only = SystemReadOnlyPaths();
//   command.policy.read_only.push_back(ws_root);
//   command.limits.data_bytes = 512ull << 20;
//   WP_ASSIGN_OR_RETURN(SandboxedResult run, RunSandboxed(command));
//
//   // The calling process itself (worker-heavy's runners), before it starts any thread:
//   WP_RETURN_IF_ERROR(ApplyResourceLimits(limits));
//   WP_ASSIGN_OR_RETURN(SandboxReport report, EnterSandbox(policy));
//   log(report.Describe()); for (auto& w : report.warnings) warn(w);
//
// Memory limits with Mesa llvmpipe EGL + MuJoCo: use RLIMIT_DATA (`data_bytes`), not
// RLIMIT_AS. Measured here (Mesa 22.3.6 llvmpipe, MuJoCo 2.2.2, a 4-geom scene rendered 10x at
// 640x480 through mjr_render; tests/sandbox/memory_limit_probe.cc), smallest limit that still
// renders / what the process then shows:
//   llvmpipe 2 threads (2 cores):   RLIMIT_AS   700 MiB  (VmSize 695 MiB)   RSS 178 MiB
//                                   RLIMIT_DATA 180 MiB  (VmData 166 MiB)
//   LP_NUM_THREADS=16 (16 cores):   RLIMIT_AS  1600 MiB  (VmSize 1560 MiB)  RSS 178 MiB
//                                   RLIMIT_DATA 400 MiB  (VmData 391 MiB)
// So RLIMIT_AS must be 4-9x what the process uses (it grows with the core count: every
// llvmpipe thread reserves address space), while RLIMIT_DATA tracks the real use (thread stacks
// and heaps). Both stop a bomb cleanly once set-up is done (a 512 MiB allocation -> bad_alloc,
// MuJoCo -> "Could not allocate memory"), but too low a limit of either kind during EGL/GL set-up
// can make Mesa fail or even SIGSEGV: set the limit to (VmData after set-up + the job's budget),
// or apply it after the GL context exists (a limit below current use only stops new growth).
// NVIDIA's EGL reserves far more address space still (not measured here: no GPU), another
// reason to avoid RLIMIT_AS. llvmpipe and MuJoCo render under EnterSandbox with
// SystemReadOnlyPaths() + SystemDevicePaths() and no /proc/self.
#ifndef WORKERPAIR_LIBS_SANDBOX_SANDBOX_H_
#define WORKERPAIR_LIBS_SANDBOX_SANDBOX_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace workerpair::sandbox {

// Per-process kernel limits (setrlimit). 0 leaves that limit as it is.
//
// RLIMIT_AS vs RLIMIT_DATA: llvmpipe reserves large virtual areas (LLVM's JIT, one 8 MiB
// stack per rasteriser thread, Mesa's buffer managers) that are never touched, so the
// address-space size of a rendering process is several times what it uses; RLIMIT_AS then
// fails EGL/GL set-up long before the scene is a problem. RLIMIT_DATA counts private writable
// mappings (malloc, anonymous mmap, thread stacks), which is where a scene's memory goes
// (MuJoCo's mjData arena, meshes, textures), and stops a memory bomb with ENOMEM / std::bad_alloc.
// Use data_bytes for jobs; address_space_bytes only for programs known not to reserve.
struct ResourceLimits {
  std::uint64_t address_space_bytes = 0;  // RLIMIT_AS
  std::uint64_t data_bytes = 0;           // RLIMIT_DATA (recommended memory limit)
  std::uint64_t cpu_seconds = 0;          // RLIMIT_CPU soft (SIGXCPU); hard = soft + 2 (SIGKILL)
  std::uint64_t file_size_bytes = 0;      // RLIMIT_FSIZE (a larger write fails EFBIG / SIGXFSZ)
  std::uint64_t open_files = 0;           // RLIMIT_NOFILE
  std::uint64_t processes = 0;            // RLIMIT_NPROC (per real uid, so only a coarse cap)
  bool no_core_dumps = true;              // RLIMIT_CORE = 0
};

// Applies `limits` to the calling process (every thread: rlimits are per process).
// INVALID_ARGUMENT when a limit is above the current hard limit and cannot be raised,
// INTERNAL for another setrlimit failure. Only lowers or sets; never raises a hard limit above
// what the process already had unless it is privileged.
absl::Status ApplyResourceLimits(const ResourceLimits& limits);

// Always refused once confined (seccomp, EPERM unless noted): ptrace, process_vm_readv/writev,
// pidfd_getfd, kcmp; mount and the new mount API, pivot_root, chroot; unshare, setns and clone
// with CLONE_NEW* (clone3: ENOSYS, so glibc falls back to clone); bpf, perf_event_open,
// userfaultfd, fanotify_init, keyctl/add_key/request_key, open_by_handle_at, modules, kexec,
// reboot, swap, clocks, syslog, iopl/ioperm; io_uring (its operations bypass seccomp); setsid and
// setpgid (a confined process cannot leave its process group); kill(-1); TIOCSTI/TIOCLINUX;
// prlimit64, sched_set{affinity,param,scheduler,attr}, migrate_pages and move_pages on any pid
// but 0, and setpriority/ioprio_set other than (process, 0): other processes of the same uid
// (the service) are out of reach. Note that this also refuses these calls with a thread's own
// tid (pthread_setaffinity_np, pthread_setschedparam); Mesa and MuJoCo do not need them.
// Foreign system call ABIs (i386, x32) fail with ENOSYS.
struct SandboxPolicy {
  // Read, list and execute beneath these (files or directories).
  std::vector<std::filesystem::path> read_only;
  // Full access beneath these directories (read, write, create, remove, rename, truncate).
  std::vector<std::filesystem::path> read_write;
  // Device nodes opened read-write with ioctls, never created or removed (SystemDevicePaths()).
  std::vector<std::filesystem::path> devices;
  // seccomp: socket() fails with EACCES for every family but AF_UNIX (and AF_UNIX too unless
  // allow_unix_sockets); without allow_unix_sockets connect/bind/listen/accept fail as well.
  // socketpair() and inherited descriptors keep working. With Landlock ABI >= 4, TCP bind and
  // connect are refused by Landlock too.
  bool deny_network = true;
  bool allow_unix_sockets = false;
  // seccomp: execve/execveat fail with EPERM. For RunSandboxed, after its one exec of argv[0]:
  // the filter lets through exactly that call's pointer values, held in a page mapped at a
  // random address (~34 bits) that the new program would have to guess and map to exec again.
  bool deny_exec = false;
  // seccomp: no new processes: fork, vfork and clone without CLONE_THREAD fail with EPERM
  // (threads still start). Stops fork bombs, which RLIMIT_NPROC (per uid) cannot bound well.
  bool deny_fork = false;
};

// What the kernel offers or what was applied.
struct SandboxReport {
  int landlock_abi = 0;   // 0 = Landlock unavailable
  bool landlock = false;  // applied (or available, from ProbeSandbox)
  bool seccomp = false;   // applied (or available)
  bool network_denied = false;
  bool exec_denied = false;
  bool fork_denied = false;
  std::vector<std::string> warnings;  // a mechanism the kernel lacks, said plainly
  // "landlock abi 7 + seccomp (no network, no exec, no fork)" or "NONE: ...".
  std::string Describe() const;
};

// What this kernel offers; applies nothing. `landlock`/`seccomp` say whether each is available.
SandboxReport ProbeSandbox();

// Irreversibly confines the calling thread and every thread and child it creates afterwards.
// Landlock applies to the calling thread only (call it before starting threads); seccomp is
// synchronised to every thread (TSYNC). PR_SET_NO_NEW_PRIVS is set first. Paths that do not
// exist are skipped. A mechanism the kernel lacks is a warning in the report, not an error.
// FAILED_PRECONDITION when other threads are already running (nothing applied) or TSYNC
// fails; INTERNAL when preparing or applying fails.
absl::StatusOr<SandboxReport> EnterSandbox(const SandboxPolicy& policy);

// Read-only paths a dynamically linked program (and Mesa / NVIDIA EGL, Python) needs: /usr,
// /lib*, /bin, /sbin, /etc/ld.so.*, /etc/alternatives, /etc/python3*, /etc/glvnd, /etc/localtime,
// /sys/devices, /sys/dev, /proc/cpuinfo, /proc/meminfo, /proc/driver/nvidia, ... Never /etc as a
// whole, /home, /root, /tmp, /var, /run or /proc/<pid>. Only those that exist are returned.
std::vector<std::filesystem::path> SystemReadOnlyPaths();

// Device nodes for SandboxPolicy::devices: /dev/null, /dev/zero, /dev/full, /dev/random,
// /dev/urandom, and for rendering /dev/dri and /dev/nvidia* (those that exist).
std::vector<std::filesystem::path> SystemDevicePaths();

// A program to run confined: fork, own process group, limits, sandbox, exec.
struct SandboxedCommand {
  std::vector<std::string> argv;     // argv[0] is an absolute path (no PATH lookup)
  std::filesystem::path working_dir;  // empty = the caller's
  std::vector<std::string> env;       // the full environment (KEY=VALUE); nothing is inherited
  SandboxPolicy policy;
  ResourceLimits limits;
  absl::Duration timeout = absl::Seconds(30);  // wall clock; the group is killed when it passes
  const std::atomic<bool>* cancel = nullptr;   // the group is killed when it turns true
  std::function<bool()> should_stop;           // asked every 50 ms; true: killed like cancel
  std::size_t max_output_bytes = 1 << 20;      // kept per stream; the rest is read and dropped
  std::string stdin_data;                      // written to stdin, then closed (empty: /dev/null)
};

struct SandboxedResult {
  int exit_code = -1;    // the exit status; -1 when killed by a signal
  int term_signal = 0;   // the signal that ended it (SIGKILL after timeout/cancel, SIGXCPU, ...)
  bool timed_out = false;
  bool cancelled = false;
  // The child could not be set up or exec'ed: which step and errno (exit_code is then 127).
  std::string setup_error;  // e.g. "exec: Permission denied (errno 13)"; empty when exec'ed
  std::string stdout_data, stderr_data;
  bool output_truncated = false;  // either stream passed max_output_bytes
  absl::Duration cpu_time;        // user + system CPU of the child (wait4 rusage)
  std::uint64_t peak_rss_bytes = 0;  // its largest resident set (ru_maxrss)
  SandboxReport sandbox;          // what was applied to the child
};

// Runs `command` confined and waits for it (and kills whatever it left in its process group).
// The Landlock ruleset and the seccomp program are built before fork; between fork and exec
// the child makes only async-signal-safe system calls. The whole process group is killed
// (SIGKILL) within ~100 ms of the timeout, of *cancel turning true or of should_stop()
// returning true (`cancelled` is then set); a confined process cannot
// leave its group (setsid/setpgid are refused). INVALID_ARGUMENT for an empty argv or a
// relative argv[0], INTERNAL when pipes/fork/sandbox preparation fail. A non-zero exit, a
// signal, a timeout or a failed exec is a result, not an error.
absl::StatusOr<SandboxedResult> RunSandboxed(const SandboxedCommand& command);

}  // namespace workerpair::sandbox

#endif  // WORKERPAIR_LIBS_SANDBOX_SANDBOX_H_
