#include "services/controller/heavy_client.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <random>

#include "libs/common/error_reason.h"
#include "libs/rpc/grpc_status.h"
#include "libs/common/job_log.h"
#include "libs/common/request_trace.h"
#include "libs/common/sha256.h"
#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "services/controller/core/silence_watchdog.h"

namespace workerpair::controller {
namespace {

LoadReport ToLoadReport(const v1::ReplicaLoad& load) {
  return {load.slots(), load.running(), load.queued(), load.queue_capacity(), load.draining()};
}

std::string Seconds(absl::Duration duration) {
  return StrCat(FixedDecimals(absl::ToDoubleSeconds(duration), 1), " s");
}

absl::Status ReplicaLost(const std::string& replica, std::string_view what) {
  return WithReason(absl::UnavailableError(StrCat("replica ", replica, " ", what)),
                    ErrorReason::kReplicaLost);
}

// The header's description of the payload that follows it.
void DescribePayload(const Payload& payload, v1::PayloadInfo* info) {
  info->set_size_bytes(payload.bytes.size());
  info->set_sha256(payload.sha256);
}

// Sends the header then the payload in chunks; `sent` is called after each message the stream
// took (a frozen replica stops taking them). False when the stream broke.
template <typename Request, typename Stream, typename SetHeader, typename Sent>
bool SendPayload(Stream& stream, const std::string& bytes, std::size_t chunk_bytes,
                 SetHeader set_header, Sent sent) {
  Request first;
  set_header(first.mutable_header());
  if (!stream.Write(first)) return false;
  sent();
  for (std::size_t offset = 0; offset < bytes.size(); offset += chunk_bytes) {
    Request chunk;
    chunk.set_chunk(bytes.substr(offset, chunk_bytes));
    if (!stream.Write(chunk)) return false;
    sent();
  }
  return stream.WritesDone();
}

// Sends the header with PayloadInfo.ask_cached and reads the replica's first event: when it
// says the replica holds this payload (same SHA-256 and size) no chunk is sent; otherwise the
// chunks follow as in SendPayload (heavy.proto, "Payload cache"). An event that is not the
// answer is left in `pending` for the caller to handle first. False when the stream broke or
// ended (its status then says why).
template <typename Request, typename Event, typename Stream, typename SetHeader, typename Sent>
bool SendPayloadAskingCache(Stream& stream, const std::string& bytes, std::size_t chunk_bytes,
                            SetHeader set_header, Sent sent, std::optional<Event>* pending,
                            bool* cached) {
  Request first;
  set_header(first.mutable_header());
  first.mutable_header()->mutable_payload()->set_ask_cached(true);
  if (!stream.Write(first)) return false;
  sent();
  Event answer;
  if (!stream.Read(&answer)) return false;
  sent();
  if (!answer.has_payload_cache()) {
    *pending = std::move(answer);
  } else if (answer.payload_cache().cached()) {
    *cached = true;
    return stream.WritesDone();
  }
  for (std::size_t offset = 0; offset < bytes.size(); offset += chunk_bytes) {
    Request chunk;
    chunk.set_chunk(bytes.substr(offset, chunk_bytes));
    if (!stream.Write(chunk)) return false;
    sent();
  }
  return stream.WritesDone();
}

// What one job stream needs besides its messages.
struct StreamSetup {
  v1::HeavyService::Stub* stub;
  const AttemptContext* attempt;
  const Payload* payload;
  std::size_t chunk_bytes;
  const LivenessOptions* liveness;
  Router* router;
  std::function<void(std::string)> report;  // a progress line for this attempt
  Cancellation* cancel = nullptr;            // the job's; cancels the stream when it fires
  std::string* job_id = nullptr;             // set to the replica's job id once accepted
};

// The controller's job-phase line about one attempt on one replica (libs/common/job_log.h),
// under the calling thread's request trace.
void LogAttempt(spdlog::level::level_enum level, std::string_view event,
                const AttemptContext& attempt, const Payload& payload, const std::string& job_id,
                std::vector<JobLogField> fields = {}) {
  const RequestTrace* trace = CurrentRequestTrace();
  JobLog log({.service = "controller",
              .trace = trace != nullptr ? *trace : RequestTrace{},
              .job_id = job_id,
              .payload_sha256 = payload.sha256,
              .replica = attempt.replica,
              .kind = "heavy"});
  fields.insert(fields.begin(), JobLogField("attempt", JobLogValue::Number(attempt.attempt)));
  log.Log(level, event, fields);
}

// Cancels `context` when `cancel` fires, while the returned registration is held.
std::shared_ptr<void> CancelCallOn(Cancellation* cancel, grpc::ClientContext& context) {
  if (cancel == nullptr) return nullptr;
  return cancel->OnCancel([&context] { context.TryCancel(); });
}

// One attempt's bidi job stream (Simulate, Verify, RenderViews): sends the payload and reads
// events to the end while a watchdog watches for silence: a replica that stops taking payload
// chunks, does not accept the job within first_event_timeout once the payload is sent, or goes
// silent for silent_intervals heartbeat intervals is lost (REPLICA_LOST), as is one whose
// stream breaks or ends without a result. Every accepted / heartbeat event's load goes to the
// router. `on_event` sees every event; an error from it ends the attempt with that error.
template <typename Request, typename Event, typename StartCall, typename SetHeader,
          typename OnEvent>
absl::Status RunJobStream(const StreamSetup& setup, StartCall start_call, SetHeader set_header,
                          OnEvent on_event, const bool& got_result, std::string_view what) {
  const std::string& replica = setup.attempt->replica;
  const LivenessOptions& liveness = *setup.liveness;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(setup.attempt->deadline));
  SilenceWatchdog watchdog(liveness.default_heartbeat_interval * liveness.silent_intervals,
                           [&context] { context.TryCancel(); });
  auto stream = start_call(&context);
  // Cancelling the job cancels the call: worker-heavy ends the job and frees its slot.
  const std::shared_ptr<void> cancel_registration = CancelCallOn(setup.cancel, context);
  // The replica may hold the payload already: then nothing but the header goes out.
  std::optional<Event> pending;
  bool cached = false;
  const bool sent = SendPayloadAskingCache<Request, Event>(
      *stream, setup.payload->bytes, setup.chunk_bytes, set_header, [&] { watchdog.Feed(); },
      &pending, &cached);
  if (cached) setup.report("payload already held by the replica: not sent again");
  if (sent) {
    watchdog.Feed();
    watchdog.SetLimit(liveness.first_event_timeout);
  }
  bool accepted = false;
  std::string phase;
  absl::Status handled;
  Event event;
  auto next = [&] {
    if (!pending) return stream->Read(&event);
    event = std::move(*pending);
    pending.reset();
    return true;
  };
  while (handled.ok() && next()) {
    watchdog.Feed();
    if (event.has_accepted()) {
      accepted = true;
      const v1::JobAccepted& info = event.accepted();
      if (setup.job_id != nullptr) *setup.job_id = info.job_id();
      LogAttempt(spdlog::level::info, "accepted", *setup.attempt, *setup.payload, info.job_id(),
                 {{"what", std::string(what)},
                  {"queue_position", JobLogValue::Number(info.queue_position())}});
      if (info.has_load()) setup.router->RecordLoad(replica, ToLoadReport(info.load()));
      // A replica that announces no interval sends no heartbeats: keepalive alone watches it.
      watchdog.SetLimit(info.heartbeat_interval_ms() > 0
                            ? absl::Milliseconds(info.heartbeat_interval_ms()) *
                                  liveness.silent_intervals
                            : absl::InfiniteDuration());
    } else if (!accepted) {
      accepted = true;
      watchdog.SetLimit(liveness.default_heartbeat_interval * liveness.silent_intervals);
    }
    if (event.has_heartbeat()) {
      const v1::Heartbeat& beat = event.heartbeat();
      if (beat.has_load()) setup.router->RecordLoad(replica, ToLoadReport(beat.load()));
      if (!beat.phase().empty() && beat.phase() != phase) {
        phase = beat.phase();
        setup.report(phase);
      }
    }
    handled = on_event(event);
  }
  if (!handled.ok()) {
    context.TryCancel();
    while (stream->Read(&event)) {
    }
  }
  const grpc::Status finished = stream->Finish();
  if (setup.cancel != nullptr && setup.cancel->cancelled()) return CancelledByCaller();
  if (!handled.ok()) return handled;
  if (watchdog.fired()) {
    return ReplicaLost(replica, StrCat(accepted ? "went silent: no event for "
                                                : "did not take or accept the job for ",
                                       Seconds(watchdog.fired_limit()), " (", what, ")"));
  }
  if (!finished.ok()) {
    absl::Status status = FromGrpcStatus(finished);
    if (absl::IsUnavailable(status) && ReasonOf(status) == ErrorReason::kUnspecified) {
      return ReplicaLost(replica, StrCat("broke the ", what, " stream: ", std::string(status.message())));
    }
    return status;
  }
  if (!got_result) return ReplicaLost(replica, StrCat("ended the ", what, " stream without a result"));
  return absl::OkStatus();
}

}  // namespace

struct HeavyClient::VerifyPart {
  std::uint32_t first = 0;  // batch index of the part's first run
  std::uint32_t count = 0;
  std::uint64_t batch_base_seed = 0;
  std::optional<double> jitter_m;
  std::mutex mu;
  std::map<std::uint32_t, v1::VerifyRun> runs;  // by batch index; guarded by mu
  std::uint32_t parallelism = 0;                // guarded by mu
  std::uint32_t kept = 0;                       // guarded by mu
};

HeavyClient::HeavyClient(std::vector<std::string> targets, HeavyClientOptions options)
    : options_(std::move(options)),
      pool_(std::move(targets), options_.security, options_.resolve_interval, options_.ejection) {}

template <typename T>
absl::StatusOr<FailoverOutcome<T>> HeavyClient::RunJob(
    const std::function<absl::StatusOr<T>(const AttemptContext&)>& attempt_fn,
    const Payload& payload, const ProgressCallback& progress, Cancellation* cancel,
    bool prefer_holder) {
  if (pool_.targets().empty()) return absl::InvalidArgumentError("no worker-heavy replica configured");
  // A job whose caller set no trace (the library used directly) still gets one, so the
  // controller's lines and every replica's name the same request id.
  std::optional<ScopedRequestTrace> own_trace;
  if (CurrentRequestTrace() == nullptr) own_trace.emplace(NewRequestTrace());
  const absl::Time total_deadline = absl::Now() + options_.total_deadline;
  if (pool_.replicas().empty()) {
    pool_.ResolveSoon();
    if (!pool_.is_dns()) {
      absl::Status error = pool_.config_error();
      if (!error.ok()) return error;
    }
    WP_RETURN_IF_ERROR(WaitForReplicas(total_deadline, progress, cancel));
  }
  pool_.WarmUp(options_.liveness.connect_timeout);
  FailoverHooks hooks;
  hooks.on_capacity_wait = [&](const CapacityWait& wait) { ReportCapacityWait(wait, progress); };
  if (cancel != nullptr) {
    hooks.sleep = [cancel](absl::Duration duration) { cancel->SleepFor(duration); };
    hooks.should_stop = [cancel]() -> absl::Status {
      return cancel->cancelled() ? CancelledByCaller() : absl::OkStatus();
    };
  }
  if (prefer_holder) {
    hooks.preferred = [this, &payload] { return pool_.HolderOf(payload.sha256); };
  }
  absl::StatusOr<FailoverOutcome<T>> outcome = RunWithFailover<T>(
      pool_.router(), options_.failover, total_deadline, options_.attempt_deadline,
      [&](const AttemptContext& attempt) -> absl::StatusOr<T> {
        if (attempt.attempt > 1 && progress) {
          progress({attempt.replica, attempt.attempt,
                    StrCat("attempt ", attempt.attempt, " after: ", std::string(attempt.previous.message()))});
        }
        absl::StatusOr<T> result = attempt_fn(attempt);
        if (!result.ok()) {
          LogAttempt(spdlog::level::warn, "attempt failed", attempt, {}, "",
                     StatusFields(result.status()));
        }
        return result;
      },
      hooks);
  if (outcome.ok()) pool_.NoteHolder(payload.sha256, outcome->replica);
  return outcome;
}

absl::Status HeavyClient::WaitForReplicas(absl::Time deadline, const ProgressCallback& progress,
                                          Cancellation* cancel) {
  const absl::Time started = absl::Now();
  std::mt19937_64 random(std::random_device{}());
  for (int waits = 1; pool_.replicas().empty(); ++waits) {
    if (cancel != nullptr && cancel->cancelled()) return CancelledByCaller();
    const absl::Time now = absl::Now();
    if (now >= deadline) {
      return absl::UnavailableError(StrCat(
          "the worker-heavy pool ", pool_.targets().front(), " had no replica for the job's "
          "whole wait (", Seconds(now - started), "); last resolution: ",
          pool_.config_error().ok() ? std::string("no address")
                                    : std::string(pool_.config_error().message())));
    }
    const absl::Duration wait = std::min(CapacityBackoff(waits, options_.failover, random),
                                         deadline - now);
    if (progress) {
      progress({"", 0,
                StrCat("pool empty: no worker-heavy replica behind ", pool_.targets().front(),
                       " yet, waiting ", Seconds(wait)),
                true});
    }
    if (cancel != nullptr) {
      cancel->SleepFor(wait);
    } else {
      absl::SleepFor(wait);
    }
    pool_.ResolveSoon();
  }
  return absl::OkStatus();
}

void HeavyClient::ReportCapacityWait(const CapacityWait& wait, const ProgressCallback& progress) {
  for (const std::string& replica : pool_.router().StaleReplicas()) {
    auto channel = pool_.Channel(replica);
    if (!channel.ok()) continue;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
    v1::InfoResponse info;
    if (v1::HeavyService::NewStub(*channel)->Info(&context, v1::InfoRequest(), &info).ok()) {
      pool_.router().RecordLoad(replica, {info.slots(), info.running(), info.queued(),
                                          info.queue_capacity(), info.draining()});
    }
  }
  if (!progress) return;
  const PoolLoad load = pool_.router().Load();
  std::string figures =
      load.reporting > 0 ? StrCat(load.running, "/", load.slots, " slots busy, ", load.queued,
                                  " queued")
                         : StrCat("every one of ", load.replicas, " replica(s) refused the job");
  if (load.healthy < load.replicas) {
    figures += StrCat(", ", load.replicas - load.healthy, " replica(s) skipped after failing");
  }
  progress({"", 0, StrCat("pool full: ", figures, ", waiting ", Seconds(wait.wait)), true});
}

absl::StatusOr<std::unique_ptr<v1::HeavyService::Stub>> HeavyClient::ConnectedStub(
    const AttemptContext& attempt) {
  WP_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, pool_.Channel(attempt.replica));
  const absl::Time connect_by =
      std::min(absl::Now() + options_.liveness.connect_timeout, attempt.deadline);
  if (!channel->WaitForConnected(absl::ToChronoTime(connect_by))) {
    pool_.ResolveSoon();  // a dns pool: the pod may be gone, and others may have come
    return ReplicaLost(attempt.replica,
                       StrCat("did not connect within ", Seconds(options_.liveness.connect_timeout)));
  }
  return v1::HeavyService::NewStub(channel);
}

absl::StatusOr<SimulationRun> HeavyClient::SimulateOnce(const AttemptContext& attempt,
                                                        const Payload& payload,
                                                        const v1::SimulateOptions& options,
                                                        const ProgressCallback& progress,
                                                        Cancellation* cancel) {
  WP_ASSIGN_OR_RETURN(auto stub, ConnectedStub(attempt));
  std::string job_id;  // the replica's, once it accepted the job
  auto report = [&](std::string line) {
    if (!progress) return;
    HeavyProgress event{attempt.replica, attempt.attempt, std::move(line)};
    event.job_id = job_id;
    progress(event);
  };
  SimulationRun run;
  bool got_result = false;
  const StreamSetup setup{stub.get(), &attempt, &payload, options_.chunk_bytes,
                          &options_.liveness, &pool_.router(), report, cancel, &job_id};
  WP_RETURN_IF_ERROR((RunJobStream<v1::SimulateRequest, v1::SimulateResponse>(
      setup, [&](grpc::ClientContext* context) { return stub->Simulate(context); },
      [&](v1::SimulateHeader* header) {
        DescribePayload(payload, header->mutable_payload());
        *header->mutable_options() = options;
      },
      [&](const v1::SimulateResponse& event) -> absl::Status {
        switch (event.kind_case()) {
          case v1::SimulateResponse::kAccepted:
            report(StrCat("accepted as ", event.accepted().job_id(),
                          event.accepted().queue_position() > 0
                              ? StrCat(", queue position ", event.accepted().queue_position())
                              : std::string()));
            break;
          case v1::SimulateResponse::kQueue:
            report(StrCat("queue position ", event.queue().queue_position()));
            break;
          case v1::SimulateResponse::kStarted:
            report("started");
            break;
          case v1::SimulateResponse::kProgress:
            report(StrCat("simulated ", FixedDecimals(event.progress().sim_time_s(), 1), "/",
                          FixedDecimals(event.progress().duration_s(), 1), " s, ",
                          event.progress().frames_rendered(), " frames"));
            break;
          case v1::SimulateResponse::kArtifact: {
            const v1::ArtifactChunk& chunk = event.artifact();
            Artifact& artifact = run.artifacts[chunk.name()];
            artifact.media_type = chunk.media_type();
            artifact.data.append(chunk.data());
            if (chunk.last() && !chunk.sha256().empty() &&
                Sha256Hex(artifact.data) != chunk.sha256()) {
              return absl::DataLossError(StrCat("artifact '", chunk.name(), "' from ",
                                                attempt.replica, " does not match its sha256"));
            }
            break;
          }
          case v1::SimulateResponse::kResult:
            run.result = event.result();
            got_result = true;
            break;
          default:
            break;
        }
        return absl::OkStatus();
      },
      got_result, "Simulate")));
  return run;
}

absl::StatusOr<FailoverOutcome<SimulationRun>> HeavyClient::Simulate(
    const Payload& payload, const v1::SimulateOptions& options, const ProgressCallback& progress,
    Cancellation* cancel) {
  return RunJob<SimulationRun>(
      [&](const AttemptContext& attempt) {
        return SimulateOnce(attempt, payload, options, progress, cancel);
      },
      payload, progress, cancel);
}

absl::Status HeavyClient::VerifyRange(const AttemptContext& attempt, const Payload& payload,
                                      std::uint32_t first, std::uint32_t count, VerifyPart& part,
                                      const ProgressCallback& progress, Cancellation* cancel) {
  WP_ASSIGN_OR_RETURN(auto stub, ConnectedStub(attempt));
  std::string job_id;  // the replica's, once it accepted the job
  auto report = [&](std::string line) {
    if (!progress) return;
    HeavyProgress event{attempt.replica, attempt.attempt, std::move(line)};
    event.job_id = job_id;
    progress(event);
  };
  bool got_result = false;
  const StreamSetup setup{stub.get(), &attempt, &payload, options_.chunk_bytes,
                          &options_.liveness, &pool_.router(), report, cancel, &job_id};
  return RunJobStream<v1::VerifyRequest, v1::VerifyResponse>(
      setup, [&](grpc::ClientContext* context) { return stub->Verify(context); },
      [&](v1::VerifyHeader* header) {
        DescribePayload(payload, header->mutable_payload());
        header->set_runs(count);
        // Run i of this stream is run `first + i` of the batch, with the seed one replica
        // running the whole batch would have given it.
        header->set_base_seed(part.batch_base_seed + first);
        if (part.jitter_m) header->set_jitter_m(*part.jitter_m);
      },
      [&](const v1::VerifyResponse& event) -> absl::Status {
        if (event.has_run()) {
          if (event.run().index() >= count) {
            return absl::DataLossError(StrCat("replica ", attempt.replica, " sent run ",
                                              event.run().index(), " of a ", count, "-run batch"));
          }
          v1::VerifyRun run = event.run();
          run.set_index(first + run.index());
          report(StrCat("run ", run.index(), " (seed ", run.seed(), "): ",
                        v1::Outcome_Name(run.outcome())));
          std::lock_guard lock(part.mu);
          part.runs[run.index()] = std::move(run);
        }
        if (event.has_result()) {
          std::lock_guard lock(part.mu);
          part.parallelism = std::max(part.parallelism, event.result().parallelism());
          got_result = true;
        }
        return absl::OkStatus();
      },
      got_result, "Verify");
}

absl::StatusOr<VerifySummary> HeavyClient::Verify(const Payload& payload, std::uint32_t runs,
                                                  std::uint64_t base_seed,
                                                  std::optional<double> jitter_m,
                                                  const ProgressCallback& progress,
                                                  Cancellation* cancel) {
  if (pool_.targets().empty()) return absl::InvalidArgumentError("no worker-heavy replica configured");
  if (runs == 0) return absl::InvalidArgumentError("verify needs at least one run");
  // One part per replica, each with failover of its own. Part k covers runs [first, first +
  // count): its seeds are those one replica would have used, so the merge is that batch.
  const std::uint32_t replicas =
      static_cast<std::uint32_t>(std::max<std::size_t>(1, pool_.replicas().size()));
  const std::uint32_t parts = std::min(runs, replicas);
  std::vector<std::unique_ptr<VerifyPart>> split;
  std::uint32_t first = 0;
  for (std::uint32_t k = 0; k < parts; ++k) {
    auto part = std::make_unique<VerifyPart>();
    part->first = first;
    part->count = runs / parts + (k < runs % parts ? 1 : 0);
    part->batch_base_seed = base_seed;
    part->jitter_m = jitter_m;
    first += part->count;
    split.push_back(std::move(part));
  }
  // A part's attempt runs what the part still lacks: after a lost replica, only the runs it
  // had not streamed back, as contiguous ranges (each one Verify stream) on one replica.
  // The parts run on threads of their own: each takes the caller's request trace along.
  // A caller that set no trace gets one for the whole verify (see RunJob).
  const RequestTrace* const caller_trace = CurrentRequestTrace();
  const std::optional<RequestTrace> trace =
      caller_trace != nullptr ? *caller_trace : NewRequestTrace();
  auto attempt_part = [&](VerifyPart& part, const AttemptContext& attempt) -> absl::Status {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges;  // (first, count)
    std::size_t before = 0;
    {
      std::lock_guard lock(part.mu);
      before = part.runs.size();
      for (std::uint32_t i = part.first; i < part.first + part.count; ++i) {
        if (part.runs.count(i) > 0) continue;
        if (!ranges.empty() && ranges.back().first + ranges.back().second == i) {
          ++ranges.back().second;
        } else {
          ranges.emplace_back(i, 1);
        }
      }
    }
    std::vector<std::future<absl::Status>> streams;
    for (const auto& [range_first, range_count] : ranges) {
      streams.push_back(std::async(std::launch::async, [&, range_first, range_count] {
        std::optional<ScopedRequestTrace> scope;
        if (trace) scope.emplace(*trace);
        return VerifyRange(attempt, payload, range_first, range_count, part, progress, cancel);
      }));
    }
    absl::Status status;
    for (auto& stream : streams) {
      absl::Status one = stream.get();
      // A payload error outranks a lost replica: it would fail anywhere.
      if (!one.ok() && (status.ok() || !RetryElsewhere(one))) status = one;
    }
    if (!status.ok()) {
      std::lock_guard lock(part.mu);
      part.kept += static_cast<std::uint32_t>(part.runs.size() - before);
    }
    return status;
  };
  std::vector<std::future<absl::StatusOr<FailoverOutcome<bool>>>> futures;
  // The first part goes to the replica that holds the payload when it has room; the others
  // spread over the pool as usual (one part per replica).
  for (std::size_t k = 0; k < split.size(); ++k) {
    futures.push_back(std::async(std::launch::async, [&, k, part = split[k].get()] {
      std::optional<ScopedRequestTrace> scope;
      if (trace) scope.emplace(*trace);
      return RunJob<bool>(
          [&](const AttemptContext& attempt) -> absl::StatusOr<bool> {
            WP_RETURN_IF_ERROR(attempt_part(*part, attempt));
            return true;
          },
          payload, progress, cancel, /*prefer_holder=*/k == 0);
    }));
  }
  VerifySummary summary;
  absl::Status failed;
  for (std::size_t k = 0; k < split.size(); ++k) {
    auto outcome = futures[k].get();
    if (!outcome.ok()) {
      if (failed.ok()) failed = outcome.status();
      continue;
    }
    summary.replicas.push_back(outcome->replica);
    summary.attempts += outcome->attempts;
  }
  if (!failed.ok()) return failed;
  for (auto& part : split) {
    std::lock_guard lock(part->mu);
    for (auto& [index, run] : part->runs) {
      if (run.outcome() == v1::OUTCOME_SUCCESS) {
        summary.result.set_successes(summary.result.successes() + 1);
      }
      *summary.result.add_runs() = std::move(run);
    }
    summary.result.set_parallelism(summary.result.parallelism() + part->parallelism);
    summary.kept_runs += part->kept;
  }
  summary.result.set_success_rate(static_cast<double>(summary.result.successes()) / runs);
  return summary;
}

absl::StatusOr<FailoverOutcome<v1::BuildSceneResponse>> HeavyClient::BuildScene(
    const Payload& payload, bool return_mjcf, const ProgressCallback& progress,
    Cancellation* cancel) {
  return RunJob<v1::BuildSceneResponse>(
      [&](const AttemptContext& attempt) -> absl::StatusOr<v1::BuildSceneResponse> {
        WP_ASSIGN_OR_RETURN(auto stub, ConnectedStub(attempt));
        grpc::ClientContext context;
        context.set_deadline(absl::ToChronoTime(attempt.deadline));
        v1::BuildSceneResponse response;
        auto writer = stub->BuildScene(&context, &response);
        const std::shared_ptr<void> cancel_registration = CancelCallOn(cancel, context);
        const bool sent = SendPayload<v1::BuildSceneRequest>(
            *writer, payload.bytes, options_.chunk_bytes,
            [&](v1::BuildSceneHeader* header) {
              DescribePayload(payload, header->mutable_payload());
              header->set_return_mjcf(return_mjcf);
            },
            [] {});
        absl::Status status = FromGrpcStatus(writer->Finish());
        if (cancel != nullptr && cancel->cancelled()) return CancelledByCaller();
        if (absl::IsUnavailable(status) && ReasonOf(status) == ErrorReason::kUnspecified) {
          return ReplicaLost(attempt.replica, StrCat("broke the BuildScene call: ", std::string(status.message())));
        }
        if (!status.ok()) return status;
        if (!sent) return ReplicaLost(attempt.replica, "broke the BuildScene call while sending");
        return response;
      },
      payload, progress, cancel);
}

absl::StatusOr<RenderedViews> HeavyClient::RenderViewsOnce(const AttemptContext& attempt,
                                                           const Payload& payload,
                                                           const v1::RenderViewsOptions& options,
                                                           const ProgressCallback& progress,
                                                           Cancellation* cancel) {
  WP_ASSIGN_OR_RETURN(auto stub, ConnectedStub(attempt));
  std::string job_id;  // the replica's, once it accepted the job
  auto report = [&](std::string line) {
    if (!progress) return;
    HeavyProgress event{attempt.replica, attempt.attempt, std::move(line)};
    event.job_id = job_id;
    progress(event);
  };
  RenderedViews rendered;
  bool got_result = false;
  const StreamSetup setup{stub.get(), &attempt, &payload, options_.chunk_bytes,
                          &options_.liveness, &pool_.router(), report, cancel, &job_id};
  WP_RETURN_IF_ERROR((RunJobStream<v1::RenderViewsRequest, v1::RenderViewsResponse>(
      setup, [&](grpc::ClientContext* context) { return stub->RenderViews(context); },
      [&](v1::RenderViewsHeader* header) {
        DescribePayload(payload, header->mutable_payload());
        *header->mutable_options() = options;
      },
      [&](const v1::RenderViewsResponse& event) -> absl::Status {
        if (event.has_view()) {
          report(StrCat("rendered view ", event.view().name()));
          rendered.views.push_back(event.view());
        }
        if (event.has_result()) {
          rendered.result = event.result();
          got_result = true;
        }
        return absl::OkStatus();
      },
      got_result, "RenderViews")));
  return rendered;
}

absl::StatusOr<FailoverOutcome<RenderedViews>> HeavyClient::RenderViews(
    const Payload& payload, const v1::RenderViewsOptions& options,
    const ProgressCallback& progress, Cancellation* cancel) {
  return RunJob<RenderedViews>(
      [&](const AttemptContext& attempt) {
        return RenderViewsOnce(attempt, payload, options, progress, cancel);
      },
      payload, progress, cancel);
}

absl::StatusOr<v1::InfoResponse> HeavyClient::Info(const std::string& target) {
  WP_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, pool_.Channel(target));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.call_deadline));
  v1::InfoResponse response;
  absl::Status status =
      FromGrpcStatus(v1::HeavyService::NewStub(channel)->Info(&context, v1::InfoRequest(), &response));
  if (!status.ok()) return status;
  pool_.router().RecordLoad(target, {response.slots(), response.running(), response.queued(),
                                     response.queue_capacity(), response.draining()});
  return response;
}

}  // namespace workerpair::controller
