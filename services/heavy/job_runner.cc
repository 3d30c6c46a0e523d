#include "services/heavy/job_runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "libs/common/error_reason.h"
#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "libs/scene/scene_names.h"
#include "services/heavy/heavy_metrics.h"

namespace workerpair::heavy {
namespace fs = std::filesystem;
namespace {

// A runner for `job`: waits while its slot's runner (re)starts. An idle runner that holds the
// payload's compiled model is preferred.
absl::StatusOr<RunnerPool::Lease> AcquireRunner(admission::JobContext& job, const JobEnv& env,
                                                const intake::JobPayload& payload) {
  absl::StatusOr<RunnerPool::Lease> lease = env.runners->Acquire(
      [&job] { return job.cancelled(); }, absl::Now() + env.config->runner_wait,
      payload.sha256());
  if (!lease.ok() && job.cancelled()) return job.cancel_reason();
  return lease;
}

// The parts of a RunnerCall every job shares: its directory name, the payload's digest,
// cancellation and phases.
RunnerCall BaseCall(admission::JobContext& job, std::string dir_name,
                    const intake::JobPayload& payload) {
  RunnerCall call;
  call.job_dir = std::move(dir_name);
  call.payload_sha256 = payload.sha256();
  call.request.set_job_id(job.id());
  call.request.set_request_id(job.request_id());
  call.cancelled = [&job] { return job.cancelled(); };
  call.cancel_reason = [&job] { return job.cancel_reason(); };
  call.on_phase = [&job](std::string_view phase) { job.SetWorkPhase(std::string(phase)); };
  return call;
}

std::string JobDirName(const admission::JobContext& job) { return StrCat("job-", job.id()); }

// The payload put into the runner's job directory (a cached one written, an upload renamed
// when spilled, else written).
std::function<absl::Status(const fs::path&)> PlacePayload(intake::JobPayload& payload) {
  return [&payload](const fs::path& destination) {
    RecordPayloadBytes(payload.size());
    return payload.PlaceAt(destination);
  };
}

absl::Status CallGone(admission::JobContext& job) {
  return job.cancelled() ? job.cancel_reason() : absl::CancelledError("the call went away");
}

absl::Status NoResult() {
  return WithReason(absl::AbortedError("the job's runner ended without a result"),
                    ErrorReason::kRunnerLost);
}

bool Finite(double value) { return std::isfinite(value); }

// The outcome label of a result ("success", "SCENE_UNSTABLE" without its "FAIL_REASON_"
// prefix). The runner's messages are checked before they get here (CheckRunnerMessage), but a
// label is never derived by position from a name that may be empty.
std::string OutcomeLabel(v1::Outcome outcome, v1::FailReason reason) {
  if (outcome == v1::OUTCOME_SUCCESS) return "success";
  constexpr std::string_view kPrefix = "FAIL_REASON_";
  const std::string& name = v1::FailReason_Name(reason);
  if (name.size() <= kPrefix.size() || name.compare(0, kPrefix.size(), kPrefix) != 0) {
    return "unknown";
  }
  return name.substr(kPrefix.size());
}

}  // namespace

absl::Status CheckSimulateOptions(const v1::SimulateOptions& options, const SceneLimits& limits) {
  if (options.has_duration_s() && !(options.duration_s() > 0 && Finite(options.duration_s()))) {
    return absl::InvalidArgumentError(
        StrCat("options.duration_s must be a finite number > 0, got ", options.duration_s()));
  }
  if (options.has_timestep_s() && !(options.timestep_s() >= limits.min_timestep_s &&
                                    options.timestep_s() <= limits.max_timestep_s)) {
    return absl::InvalidArgumentError(StrCat("options.timestep_s must be within ",
                                             limits.min_timestep_s, " .. ",
                                             limits.max_timestep_s, ", got ",
                                             options.timestep_s()));
  }
  for (auto [name, has, value] : {std::tuple{"width", options.has_width(), options.width()},
                                  std::tuple{"height", options.has_height(), options.height()}}) {
    if (has && (value == 0 || !scene::IsEvenVideoSize(value))) {
      return absl::InvalidArgumentError(
          StrCat("options.", name, " must be even and > 0, got ", value));
    }
  }
  if (options.has_fps() && options.fps() == 0) {
    return absl::InvalidArgumentError("options.fps must be > 0");
  }
  if (!(options.progress_interval_s() >= 0) || !Finite(options.progress_interval_s())) {
    return absl::InvalidArgumentError("options.progress_interval_s must be a finite number >= 0");
  }
  if (options.camera().size() > 256) {
    return absl::InvalidArgumentError("options.camera is longer than 256 characters");
  }
  return absl::OkStatus();
}

absl::Status CheckVerifyHeader(const v1::VerifyHeader& header, const HeavyConfig& config) {
  if (header.runs() < 1 || header.runs() > static_cast<std::uint32_t>(config.max_verify_runs)) {
    return absl::InvalidArgumentError(StrCat("runs must be within 1 .. ", config.max_verify_runs,
                                             ", got ", header.runs()));
  }
  if (header.has_jitter_m() && !(header.jitter_m() >= 0 && Finite(header.jitter_m()))) {
    return absl::InvalidArgumentError("jitter_m must be a finite number >= 0");
  }
  if (header.has_duration_s() && !(header.duration_s() > 0 && Finite(header.duration_s()))) {
    return absl::InvalidArgumentError("duration_s must be a finite number > 0");
  }
  return absl::OkStatus();
}

absl::Status CheckRenderViewsHeader(const v1::RenderViewsHeader& header,
                                    const SceneLimits& limits) {
  const v1::RenderViewsOptions& options = header.options();
  if (options.width() > static_cast<std::uint32_t>(limits.max_width) ||
      options.height() > static_cast<std::uint32_t>(limits.max_height)) {
    return absl::InvalidArgumentError(StrCat("image size over the cap ", limits.max_width, "x",
                                             limits.max_height));
  }
  if (options.azimuth_count() > 360) {
    return absl::InvalidArgumentError("azimuth_count must be at most 360");
  }
  if (options.elevations_deg_size() > 90) {
    return absl::InvalidArgumentError("at most 90 elevations");
  }
  for (double elevation : options.elevations_deg()) {
    if (!(elevation >= -90 && elevation <= 90)) {
      return absl::InvalidArgumentError("elevations_deg must be within -90 .. 90");
    }
  }
  if (!(options.distance_m() >= 0) || !Finite(options.distance_m())) {
    return absl::InvalidArgumentError("distance_m must be a finite number >= 0");
  }
  if (!(options.at_time_s() >= 0 && options.at_time_s() <= limits.max_duration_s)) {
    return absl::InvalidArgumentError(
        StrCat("at_time_s must be within 0 .. ", limits.max_duration_s));
  }
  if (options.camera().size() > 256) {
    return absl::InvalidArgumentError("camera is longer than 256 characters");
  }
  return absl::OkStatus();
}

absl::Status RunSimulate(admission::JobContext& job, const v1::SimulateRequest& request,
                         intake::JobPayload& payload, const JobEnv& env,
                         const EmitFn<v1::SimulateResponse>& emit) {
  WP_ASSIGN_OR_RETURN(RunnerPool::Lease lease, AcquireRunner(job, env, payload));
  RunnerCall call = BaseCall(job, JobDirName(job), payload);
  *call.request.mutable_simulate() = request.header();
  call.place_payload = PlacePayload(payload);
  bool have_result = false;
  call.on_event = [&](internal::RunnerMessage& message) -> absl::Status {
    if (!message.has_simulate()) return absl::OkStatus();
    v1::SimulateResponse& event = *message.mutable_simulate();
    switch (event.kind_case()) {
      case v1::SimulateResponse::kProgress:
      case v1::SimulateResponse::kArtifact:
        break;
      case v1::SimulateResponse::kResult:
        if (have_result) return absl::OkStatus();
        have_result = true;
        RecordOutcome(OutcomeLabel(event.result().outcome(), event.result().fail_reason()));
        break;
      default:
        return absl::OkStatus();  // accepted/started/queue are this process's to send
    }
    if (!emit(std::move(event))) return CallGone(job);
    return absl::OkStatus();
  };
  absl::Status status = RunOnRunner(std::move(lease), std::move(call), env.config->job_limits);
  if (status.ok() && !have_result) return NoResult();
  return status;
}

absl::Status RunVerify(admission::JobContext& job, const v1::VerifyRequest& request,
                       intake::JobPayload& payload, const JobEnv& env,
                       const EmitFn<v1::VerifyResponse>& emit) {
  const v1::VerifyHeader& header = request.header();
  const int runs = static_cast<int>(header.runs());
  WP_ASSIGN_OR_RETURN(RunnerPool::Lease first, AcquireRunner(job, env, payload));
  std::vector<RunnerPool::Lease> leases;
  leases.push_back(std::move(first));
  int wanted = runs;
  if (header.max_parallel() > 0) wanted = std::min(wanted, static_cast<int>(header.max_parallel()));
  admission::JobContext::ExtraSlots extra = job.TryBorrowSlots(wanted - 1);
  for (int i = 0; i < extra.count(); ++i) {
    std::optional<RunnerPool::Lease> lease = env.runners->TryAcquire(payload.sha256());
    if (!lease) break;
    leases.push_back(std::move(*lease));
  }
  const int parallelism = static_cast<int>(leases.size());

  // One share, or a cached payload: each share's job directory gets the payload placed (a
  // private copy of a cached one). Several shares of an upload: it moves to a staging file
  // beside the runner directories (no runner can read it) and each share gets a copy, so no
  // two runners share a file they may write.
  std::function<absl::Status(const fs::path&)> place = PlacePayload(payload);
  fs::path staging;
  if (parallelism > 1 && !payload.cached()) {
    staging = leases[0].dir().parent_path() / StrCat(JobDirName(job), "-verify.tar.gz");
    RecordPayloadBytes(payload.size());
    WP_RETURN_IF_ERROR(payload.PlaceAt(staging));
    place = [&staging](const fs::path& destination) {
      std::error_code ec;
      fs::copy_file(staging, destination, ec);
      return ec ? absl::InternalError("cannot copy the payload for a verify share")
                : absl::OkStatus();
    };
  }

  // Compiled once per replica: while the pool keeps no scene of this payload and a share's
  // runner does not hold its model, that share waits until the first share's runner has sent
  // its compile to the pool (or declined, or ended), then loads it instead of compiling.
  SharedSceneStore& shared = env.runners->shared_scenes();
  const std::string& digest = payload.sha256();
  const bool await_first = parallelism > 1 && shared.enabled() && !digest.empty() &&
                           !shared.Contains(digest) && !leases[0].Holds(digest);
  std::mutex first_mu;
  std::condition_variable first_cv;
  bool first_settled = false;  // guarded by first_mu
  auto settle_first = [&] {
    {
      std::lock_guard<std::mutex> lock(first_mu);
      first_settled = true;
    }
    first_cv.notify_all();
  };

  std::mutex mu;  // guards what follows
  std::atomic<bool> stop{false};
  absl::Status first_error;
  std::vector<v1::VerifyRun> results(static_cast<std::size_t>(runs));
  std::vector<bool> done(static_cast<std::size_t>(runs), false);

  auto run_share = [&](int share, RunnerPool::Lease lease) {
    RunnerCall call = BaseCall(job, StrCat(JobDirName(job), "-", share), payload);
    call.cancelled = [&job, &stop] { return job.cancelled() || stop.load(); };
    call.cancel_reason = [&job] {
      return job.cancelled() ? job.cancel_reason()
                             : absl::CancelledError("another part of the verify failed");
    };
    if (share != 0) call.on_phase = nullptr;  // the first share speaks for the job
    internal::VerifyShare* out = call.request.mutable_verify();
    *out->mutable_header() = header;
    std::vector<bool> mine(static_cast<std::size_t>(runs), false);
    for (int index = share; index < runs; index += parallelism) {
      out->add_run_indices(static_cast<std::uint32_t>(index));
      mine[static_cast<std::size_t>(index)] = true;
    }
    call.place_payload = place;
    if (share == 0) {
      call.on_scene_shared = [&](bool) { settle_first(); };
    } else if (await_first && !lease.Holds(digest)) {
      std::unique_lock<std::mutex> lock(first_mu);
      while (!first_settled && !stop.load() && !job.cancelled()) {
        first_cv.wait_for(lock, std::chrono::milliseconds(50));
      }
    }
    call.on_event = [&, mine](internal::RunnerMessage& message) -> absl::Status {
      if (!message.has_verify_run()) return absl::OkStatus();
      const std::uint32_t index = message.verify_run().index();
      if (index >= static_cast<std::uint32_t>(runs) || !mine[index]) return absl::OkStatus();
      v1::VerifyResponse event;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (done[index]) return absl::OkStatus();
        done[index] = true;
        results[index] = message.verify_run();
        *event.mutable_run() = results[index];
      }
      RecordOutcome(OutcomeLabel(event.run().outcome(), event.run().fail_reason()));
      if (!emit(std::move(event))) return CallGone(job);
      return absl::OkStatus();
    };
    absl::Status status = RunOnRunner(std::move(lease), std::move(call), env.config->job_limits);
    if (share == 0) settle_first();
    if (!status.ok()) {
      std::lock_guard<std::mutex> lock(mu);
      // A share stopped because another failed reports nothing of its own.
      if (first_error.ok() && !(stop.load() && absl::IsCancelled(status))) first_error = status;
      stop = true;
    }
  };

  std::vector<std::thread> threads;
  for (int share = 1; share < parallelism; ++share) {
    threads.emplace_back(run_share, share, std::move(leases[static_cast<std::size_t>(share)]));
  }
  run_share(0, std::move(leases[0]));
  for (std::thread& thread : threads) thread.join();
  if (!staging.empty()) {
    std::error_code ec;
    fs::remove(staging, ec);
  }

  if (job.cancelled()) return job.cancel_reason();
  WP_RETURN_IF_ERROR(first_error);
  if (!std::all_of(done.begin(), done.end(), [](bool d) { return d; })) return NoResult();
  v1::VerifyResponse summary;
  v1::VerifyResult* out = summary.mutable_result();
  std::uint32_t successes = 0;
  for (v1::VerifyRun& run : results) {
    if (run.outcome() == v1::OUTCOME_SUCCESS) ++successes;
    *out->add_runs() = std::move(run);
  }
  out->set_successes(successes);
  out->set_success_rate(static_cast<double>(successes) / runs);
  out->set_parallelism(static_cast<std::uint32_t>(parallelism));
  emit(std::move(summary));
  return absl::OkStatus();
}

absl::Status RunRenderViews(admission::JobContext& job, const v1::RenderViewsRequest& request,
                            intake::JobPayload& payload, const JobEnv& env,
                            const EmitFn<v1::RenderViewsResponse>& emit) {
  WP_ASSIGN_OR_RETURN(RunnerPool::Lease lease, AcquireRunner(job, env, payload));
  RunnerCall call = BaseCall(job, JobDirName(job), payload);
  *call.request.mutable_render_views() = request.header();
  call.place_payload = PlacePayload(payload);
  bool have_result = false;
  call.on_event = [&](internal::RunnerMessage& message) -> absl::Status {
    if (!message.has_render_views()) return absl::OkStatus();
    v1::RenderViewsResponse& event = *message.mutable_render_views();
    if (event.kind_case() == v1::RenderViewsResponse::kResult) {
      if (have_result) return absl::OkStatus();
      have_result = true;
    } else if (event.kind_case() != v1::RenderViewsResponse::kView) {
      return absl::OkStatus();
    }
    if (!emit(std::move(event))) return CallGone(job);
    return absl::OkStatus();
  };
  absl::Status status = RunOnRunner(std::move(lease), std::move(call), env.config->job_limits);
  if (status.ok() && !have_result) return NoResult();
  return status;
}

absl::StatusOr<v1::BuildSceneResponse> RunBuildScene(admission::JobContext& job,
                                                     const v1::BuildSceneRequest& request,
                                                     intake::JobPayload& payload,
                                                     const JobEnv& env) {
  WP_ASSIGN_OR_RETURN(RunnerPool::Lease lease, AcquireRunner(job, env, payload));
  RunnerCall call = BaseCall(job, JobDirName(job), payload);
  *call.request.mutable_build_scene() = request.header();
  call.place_payload = PlacePayload(payload);
  std::optional<v1::BuildSceneResponse> response;
  call.on_event = [&](internal::RunnerMessage& message) -> absl::Status {
    if (message.has_build_scene() && !response) response = std::move(*message.mutable_build_scene());
    return absl::OkStatus();
  };
  absl::Status status = RunOnRunner(std::move(lease), std::move(call), env.config->job_limits);
  if (!status.ok()) return status;
  if (!response) return NoResult();
  return std::move(*response);
}

}  // namespace workerpair::heavy
