// One job on one leased runner, from worker-heavy's side: the payload is placed in a fresh job
// directory inside the runner's own directory, the request is sent, and the runner's messages
// are pumped until its "done", while the parent watches the clock and the job's cancellation.
//
// Compiled once per replica: a runner that holds the payload's model gets nothing placed; one
// that does not gets the pool's SharedScene of the payload (shared_scene_store.h) when there is
// one, and the archive only when there is none or it cannot load it (JobDone.need_payload).
// While the store lacks the payload's scene the runner is asked to send it as soon as it has
// compiled it (JobRequest.export_scene); the store keeps it under the digest the parent
// checked. A job that ran on a shared scene and failed drops it from the store.
//
// The parent never trusts the runner after it has touched a payload: every frame is capped
// (RunnerLaunch::max_frame_bytes), every message is checked whole before any field of it is read
// (CheckRunnerMessage: enum numbers, string and repeated sizes, unknown fields; phases from a
// fixed list), only the message kinds the caller may see are handed to `on_event`, and the
// reason names it sends back are mapped to payload reasons only. How a job
// ends when the runner does not say "done":
//   cancelled (caller, deadline, drain) or `on_event` failing   the runner is SIGKILLed and
//                                       replaced; the caller's reason comes back.
//   past --max_job_wall_s               SIGKILL; DEADLINE_EXCEEDED JOB_TIME_LIMIT
//   SIGXCPU (RLIMIT_CPU)                DEADLINE_EXCEEDED JOB_TIME_LIMIT
//   an allocation failed, or VmData / peak RSS at the memory limit, then died
//                                       RESOURCE_EXHAUSTED JOB_MEMORY_LIMIT
//   SIGXFSZ (RLIMIT_FSIZE)              RESOURCE_EXHAUSTED PAYLOAD_LIMIT
//   SIGKILL not sent by worker-heavy    ABORTED RUNNER_LOST (killed from outside: OOM killer,
//                                       an operator); also a runner that breaks the protocol
//                                       (a malformed, oversized or unparsable frame)
//   any other signal or exit            INVALID_ARGUMENT SCENE_CRASHED naming the signal and
//                                       the phase it happened in
// In every such case the runner is retired (killed, its directory emptied, a new one started
// in the background) and the job directory is gone when this returns.
#ifndef WORKERPAIR_SERVICES_HEAVY_RUNNER_RUNNER_CALL_H_
#define WORKERPAIR_SERVICES_HEAVY_RUNNER_RUNNER_CALL_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/heavy/runner/runner_pool.h"
#include "workerpair/internal/runner.pb.h"

namespace workerpair::heavy {

struct RunnerCallLimits {
  absl::Duration max_wall = absl::Seconds(300);
  std::uint64_t memory_bytes = 0;  // the runners' RLIMIT_DATA, for classification
  std::uint64_t cpu_seconds = 0;   // for the message
};

struct RunnerCall {
  // A directory name unique among this runner's jobs ([A-Za-z0-9_-]).
  std::string job_dir;
  // The payload's SHA-256 (lowercase): a runner that holds its compiled model gets no archive
  // (place_payload is called only if it turns out to need one).
  std::string payload_sha256;
  // The request (job_dir is filled in).
  internal::JobRequest request;
  // Puts the payload archive at the given path (inside the job directory), e.g.
  // JobPayload::PlaceAt. Called at most once.
  std::function<absl::Status(const std::filesystem::path& destination)> place_payload;
  // Polled every 50 ms; true stops the job (the runner is killed) and returns
  // `cancel_reason()`.
  std::function<bool()> cancelled;
  std::function<absl::Status()> cancel_reason;
  // The runner's phase reports ("unpacking", "compiling", ...).
  std::function<void(std::string_view phase)> on_phase;
  // Each event message (simulate, verify_run, render_views, build_scene). An error stops the
  // job (the runner is killed) and is returned.
  std::function<absl::Status(internal::RunnerMessage& message)> on_event;
  // Optional: told once when the runner has sent the job's scene for the pool's
  // SharedSceneStore (true: the store holds it now; false: the runner declined).
  std::function<void(bool kept)> on_scene_shared;
};

// Runs `call` on `lease`'s runner; the lease is released (or retired) before this returns.
absl::Status RunOnRunner(RunnerPool::Lease lease, RunnerCall call, const RunnerCallLimits& limits);

// "SIGSEGV (Segmentation fault)".
std::string SignalName(int signal);

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_RUNNER_RUNNER_CALL_H_
