#include "services/heavy/runner/runner_call.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <utility>

#include "libs/common/error_reason.h"
#include "libs/common/str_cat.h"
#include "services/heavy/core/intake/received_payload.h"
#include "services/heavy/runner/job_dir_files.h"
#include "services/heavy/runner/runner_message_check.h"
#include "services/heavy/runner/shared_scene_store.h"

namespace workerpair::heavy {
namespace fs = std::filesystem;
namespace {

constexpr absl::Duration kTick = absl::Milliseconds(50);
// A runner at or above this share of its memory limit when it died is taken as out of memory.
constexpr double kMemoryShare = 0.9;

// The job directory inside the runner's directory, removed however the job ends.
class JobDir {
 public:
  explicit JobDir(fs::path path) : path_(std::move(path)) {}
  ~JobDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string PhaseWords(std::string_view phase) {
  if (phase == "unpacking") return "while unpacking the payload";
  if (phase == "compiling") return "while compiling the scene";
  if (phase == "simulating") return "while simulating";
  if (phase == "rendering") return "while rendering";
  if (phase == "encoding") return "while encoding";
  if (phase == "sending") return "while sending the results";
  return "before the job started";
}

// The reason a runner may claim: only the payload's own (a runner cannot make a job look like
// the replica's fault and so get its payload retried elsewhere).
ErrorReason RunnerReason(const std::string& name) {
  std::optional<ErrorReason> reason = ErrorReasonFromName(name);
  if (!reason) return ErrorReason::kUnspecified;
  switch (*reason) {
    case ErrorReason::kPayloadInvalid:
    case ErrorReason::kPayloadLimit:
    case ErrorReason::kJobMemoryLimit:
    case ErrorReason::kJobTimeLimit:
    case ErrorReason::kSceneCrashed:
    case ErrorReason::kSandboxDenied:
      return *reason;
    default:
      return ErrorReason::kUnspecified;
  }
}

absl::Status FromDone(const internal::JobDone& done) {
  const int code = done.code();
  if (code == 0) return absl::OkStatus();
  const absl::StatusCode status_code =
      code > 0 && code <= 16 ? static_cast<absl::StatusCode>(code) : absl::StatusCode::kInternal;
  std::string message = done.message().substr(0, 4096);
  absl::Status status(status_code, message);
  const ErrorReason reason = RunnerReason(done.reason());
  // UNAVAILABLE is retried elsewhere without a reason; from a runner it never means that.
  if (reason == ErrorReason::kUnspecified && status_code == absl::StatusCode::kUnavailable) {
    return status;  // "no GL context": the same on every replica of this kind; left as is
  }
  return WithReason(std::move(status), reason);
}

}  // namespace

std::string SignalName(int signal) {
  const char* description = ::strsignal(signal);
  const char* abbrev = ::sigabbrev_np(signal);
  return StrCat(abbrev != nullptr ? StrCat("SIG", abbrev) : StrCat("signal ", signal), " (",
                description != nullptr ? description : "unknown", ")");
}

absl::Status RunOnRunner(RunnerPool::Lease lease, RunnerCall call, const RunnerCallLimits& limits) {
  JobDir job_dir(lease.dir() / call.job_dir);
  std::error_code ec;
  if (!fs::create_directory(job_dir.path(), ec) || ::chmod(job_dir.path().c_str(), 0700) != 0) {
    return absl::InternalError("cannot create the job's directory");
  }
  if (!call.place_payload) return absl::InternalError("no payload");
  // A runner that holds the payload's compiled model needs no archive; one that turns out not
  // to (JobDone.need_payload) gets it and the request again.
  bool placed = false;
  auto place = [&]() -> absl::Status {
    placed = true;
    return call.place_payload(job_dir.path() / "payload.tar.gz");
  };
  SharedSceneStore& store = lease.shared_scenes();
  const bool sharing = store.enabled() && !call.payload_sha256.empty();
  bool scene_placed = false;
  if (call.payload_sha256.empty() || !lease.Holds(call.payload_sha256)) {
    // Another runner's compile of this payload, when the pool keeps one: no unpack, no compile.
    if (std::shared_ptr<const std::string> pack =
            sharing ? store.Find(call.payload_sha256) : nullptr) {
      scene_placed = intake::WriteNewPayloadFile(job_dir.path() / kSharedSceneFileName, *pack).ok();
    }
    if (!scene_placed) {
      if (absl::Status status = place(); !status.ok()) return status;
    }
  }
  call.request.set_job_dir(call.job_dir);
  call.request.set_payload_sha256(call.payload_sha256);
  call.request.set_payload_placed(placed);
  call.request.set_scene_placed(scene_placed);
  const bool export_asked = sharing && !store.Contains(call.payload_sha256);
  call.request.set_export_scene(export_asked);
  bool scene_received = false;
  RunnerProcess& runner = lease.process();
  const absl::Time wall_deadline = absl::Now() + limits.max_wall;
  std::string phase = "starting";
  bool memory_exhausted = false;
  std::uint64_t peak_data_bytes = 0;

  // Stops the runner now and ends the job with `status`.
  auto stop = [&](RestartReason reason, absl::Status status) {
    runner.Kill();
    runner.Reap();
    lease.Retire(reason);
    return status;
  };

  absl::Status sent = runner.Send(call.request);
  while (true) {
    internal::RunnerMessage message;
    absl::StatusOr<bool> got = sent.ok() ? runner.Next(&message, absl::Now() + kTick)
                                         : absl::StatusOr<bool>(sent);
    if (got.ok() && *got) {
      // Nothing of the message is read before the whole of it is known to be well-formed.
      if (absl::Status valid = CheckRunnerMessage(message); !valid.ok()) {
        return stop(RestartReason::kLost,
                    WithReason(absl::AbortedError(StrCat("the job's runner broke the protocol (",
                                                         std::string(valid.message()), ")")),
                               ErrorReason::kRunnerLost));
      }
      switch (message.kind_case()) {
        case internal::RunnerMessage::kPhase:
          if (!IsKnownRunnerPhase(message.phase())) {
            return stop(RestartReason::kLost,
                        WithReason(absl::AbortedError(
                                       "the job's runner broke the protocol (an unknown phase)"),
                                   ErrorReason::kRunnerLost));
          }
          phase = message.phase();
          if (call.on_phase) call.on_phase(phase);
          continue;
        case internal::RunnerMessage::kMemoryExhausted:
          memory_exhausted = true;
          continue;
        case internal::RunnerMessage::kSharedScene: {
          // Only what was asked for, once; kept under the digest this process checked.
          if (!export_asked || scene_received) {
            return stop(RestartReason::kLost,
                        WithReason(absl::AbortedError("the job's runner sent a scene it was not "
                                                      "asked for (it broke the protocol)"),
                                   ErrorReason::kRunnerLost));
          }
          scene_received = true;
          internal::SharedScene& shared = *message.mutable_shared_scene();
          const bool kept = !shared.model_mjb().empty() && shared.declined().empty();
          if (kept) {
            store.Insert(call.payload_sha256, shared.SerializeAsString());
          } else {
            store.NoteDeclined();
          }
          if (call.on_scene_shared) call.on_scene_shared(kept && store.Contains(call.payload_sha256));
          continue;
        }
        case internal::RunnerMessage::kDone: {
          const internal::JobDone& done = message.done();
          if (done.need_payload()) {
            if (placed) {
              return stop(RestartReason::kLost,
                          WithReason(absl::AbortedError("the job's runner asked twice for the "
                                                        "payload (it broke the protocol)"),
                                     ErrorReason::kRunnerLost));
            }
            if (absl::Status status = place(); !status.ok()) return status;
            call.request.set_payload_placed(true);
            call.request.set_scene_placed(false);
            sent = runner.Send(call.request);
            continue;
          }
          lease.NoteScenes(done.compiled(), done.reused(), done.loaded(),
                           std::vector<std::string>(done.cached_scenes().begin(),
                                                    done.cached_scenes().end()));
          absl::Status status = FromDone(done);
          // A shared scene a job failed on is not handed out again: the next job compiles.
          if (!status.ok() && done.loaded()) store.Erase(call.payload_sha256);
          // A runner that hit its memory limit may have a fragmented heap: start afresh.
          if (memory_exhausted || ReasonOf(status) == ErrorReason::kJobMemoryLimit) {
            lease.Retire(RestartReason::kMemory);
          }
          return status;
        }
        case internal::RunnerMessage::kSimulate:
        case internal::RunnerMessage::kVerifyRun:
        case internal::RunnerMessage::kRenderViews:
        case internal::RunnerMessage::kBuildScene:
          if (absl::Status status = call.on_event(message); !status.ok()) {
            return stop(RestartReason::kCancel, status);
          }
          continue;
        default:
          return stop(RestartReason::kLost,
                      WithReason(absl::AbortedError("the job's runner broke the protocol"),
                                 ErrorReason::kRunnerLost));
      }
    }
    if (got.ok()) {
      // A tick with nothing complete: the clock, cancellation, memory.
      if (call.cancelled && call.cancelled()) {
        return stop(RestartReason::kCancel,
                    call.cancel_reason ? call.cancel_reason() : absl::CancelledError("cancelled"));
      }
      if (absl::Now() >= wall_deadline) {
        return stop(RestartReason::kWallTime,
                    WithReason(absl::DeadlineExceededError(StrCat(
                                   "the job passed its wall-clock limit of ",
                                   absl::FormatDuration(limits.max_wall), " ", PhaseWords(phase))),
                               ErrorReason::kJobTimeLimit));
      }
      peak_data_bytes = std::max(peak_data_bytes, runner.DataBytes());
      continue;
    }
    if (absl::IsResourceExhausted(got.status()) || absl::IsDataLoss(got.status())) {
      return stop(RestartReason::kLost,
                  WithReason(absl::AbortedError("the job's runner broke the protocol"),
                             ErrorReason::kRunnerLost));
    }
    // The runner is gone (or its socket broke): how did it end?
    runner.Kill();
    const RunnerExit exit = runner.Reap();
    const bool at_memory_limit =
        limits.memory_bytes > 0 &&
        (static_cast<double>(std::max(peak_data_bytes, exit.max_rss_bytes)) >=
         kMemoryShare * static_cast<double>(limits.memory_bytes));
    if (call.cancelled && call.cancelled()) {
      lease.Retire(RestartReason::kCancel);
      return call.cancel_reason ? call.cancel_reason() : absl::CancelledError("cancelled");
    }
    if (exit.signal == SIGXCPU) {
      lease.Retire(RestartReason::kCpuTime);
      return WithReason(absl::DeadlineExceededError(StrCat(
                            "the job passed its CPU-time limit of ", limits.cpu_seconds, " s ",
                            PhaseWords(phase))),
                        ErrorReason::kJobTimeLimit);
    }
    if (memory_exhausted || at_memory_limit) {
      lease.Retire(RestartReason::kMemory);
      return WithReason(absl::ResourceExhaustedError(StrCat(
                            "the job passed its memory limit of ", limits.memory_bytes >> 20,
                            " MiB ", PhaseWords(phase))),
                        ErrorReason::kJobMemoryLimit);
    }
    if (exit.signal == SIGXFSZ) {
      lease.Retire(RestartReason::kCrash);
      return WithReason(absl::ResourceExhaustedError(StrCat(
                            "the job wrote a file larger than its file-size limit ",
                            PhaseWords(phase))),
                        ErrorReason::kPayloadLimit);
    }
    if (exit.signal == SIGKILL) {
      lease.Retire(RestartReason::kLost);
      return WithReason(absl::AbortedError(StrCat(
                            "the job's runner process was killed from outside (SIGKILL) ",
                            PhaseWords(phase), "; the job did not finish")),
                        ErrorReason::kRunnerLost);
    }
    lease.Retire(RestartReason::kCrash);
    const std::string how = exit.signal != 0
                                ? SignalName(exit.signal)
                                : StrCat("an exit with status ", exit.code);
    return WithReason(absl::InvalidArgumentError(StrCat("the scene crashed the simulator: ", how,
                                                        " ", PhaseWords(phase))),
                      ErrorReason::kSceneCrashed);
  }
}

}  // namespace workerpair::heavy
