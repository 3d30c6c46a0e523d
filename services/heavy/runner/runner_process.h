// RunnerProcess: worker-heavy's handle on one worker-heavy-runner process (parent side).
//
// Spawn forks and immediately execs the runner binary (nothing but async-signal-safe system
// calls between fork and exec, as the parent is a multi-threaded gRPC server): the child gets
// one end of a socketpair as fd 3 and no other descriptor, an allow-listed environment, an
// empty signal mask and PR_SET_PDEATHSIG(SIGKILL) so it dies with the thread that spawned it
// (the pool's supervisor thread, which lives as long as the pool). The runner sets its own
// nice level, rlimits and sandbox before it reads anything (runner_main.cc).
//
//   WP_ASSIGN_OR_RETURN(auto runner, RunnerProcess::Spawn(launch));
//   WP_ASSIGN_OR_RETURN(internal::RunnerReady ready, runner->AwaitReady(deadline));
//   WP_RETURN_IF_ERROR(runner->Send(request));
//   while (...) { absl::StatusOr<bool> got = runner->Next(&message, tick); ... }
//   runner->Kill(); RunnerExit exit = runner->Reap();
#ifndef WORKERPAIR_SERVICES_HEAVY_RUNNER_RUNNER_PROCESS_H_
#define WORKERPAIR_SERVICES_HEAVY_RUNNER_RUNNER_PROCESS_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/heavy/runner/frame_io.h"
#include "workerpair/internal/runner.pb.h"

namespace workerpair::heavy {

struct RunnerLaunch {
  std::filesystem::path executable;  // worker-heavy-runner
  std::filesystem::path dir;         // the runner's private directory (exists, empty)
  int nice = 10;
  std::uint64_t memory_mb = 0;       // RLIMIT_DATA
  std::uint64_t file_size_mb = 0;    // RLIMIT_FSIZE
  internal::RunnerSettings settings;
  // The runner's whole environment (KEY=VALUE); see RunnerEnvironment().
  std::vector<std::string> env;
  // Largest frame accepted from the runner.
  std::size_t max_frame_bytes = 64 << 20;
};

// The allow-listed part of this process's environment a runner gets: locale, time zone, and
// the Mesa / EGL / NVIDIA knobs; never credentials. HOME and TMPDIR point at `dir`.
std::vector<std::string> RunnerEnvironment(const std::filesystem::path& dir);

// How a runner process ended.
struct RunnerExit {
  bool exited = false;  // exit() with `code`
  int code = 0;
  int signal = 0;       // killed by this signal
  std::uint64_t max_rss_bytes = 0;
};

class RunnerProcess {
 public:
  // INTERNAL when the socketpair or fork fails; an exec failure shows as the child exiting
  // with 127 before it is ready.
  static absl::StatusOr<std::unique_ptr<RunnerProcess>> Spawn(const RunnerLaunch& launch);
  // Kills (SIGKILL) and reaps the process if still there; closes the socket.
  ~RunnerProcess();
  RunnerProcess(const RunnerProcess&) = delete;
  RunnerProcess& operator=(const RunnerProcess&) = delete;

  // Waits for the runner's "ready". UNAVAILABLE when it died or sent something else first,
  // DEADLINE_EXCEEDED when `deadline` passed.
  absl::StatusOr<internal::RunnerReady> AwaitReady(absl::Time deadline);
  // Sends a frame. UNAVAILABLE when the runner is gone.
  absl::Status Send(const google::protobuf::MessageLite& message);
  // The next message, or false when none arrived by `deadline` (FrameReader::Read).
  absl::StatusOr<bool> Next(internal::RunnerMessage* message, absl::Time deadline);
  // SIGKILL (idempotent; harmless on a process that already died).
  void Kill();
  // Waits for the process to end and returns how (call Kill first unless it is known dead).
  RunnerExit Reap();
  // Private writable memory now (VmData of /proc/<pid>/status), 0 when unknown.
  std::uint64_t DataBytes() const;

  pid_t pid() const { return pid_; }

 private:
  RunnerProcess(pid_t pid, int fd, std::size_t max_frame_bytes)
      : pid_(pid), fd_(fd), reader_(fd, max_frame_bytes) {}

  pid_t pid_;
  int fd_;
  FrameReader reader_;
  std::optional<RunnerExit> exit_;
};

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_RUNNER_RUNNER_PROCESS_H_
