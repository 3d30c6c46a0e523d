#include "services/controller/heavy_client.h"

#include <cstdio>
#include <future>

#include "libs/common/grpc_status.h"
#include "libs/common/sha256.h"
#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"

namespace workerpair::controller {
namespace {

// A dns:/// target resolves to every pod; round_robin spreads calls (and retries) over them.
constexpr char kRoundRobinConfig[] = R"({"loadBalancingConfig":[{"round_robin":{}}]})";

// Sends the header then the payload in chunks on a bidi stream; false when the stream broke.
template <typename Request, typename Stream, typename SetHeader>
bool SendPayload(Stream& stream, const std::string& bytes, std::size_t chunk_bytes,
                 SetHeader set_header) {
  Request first;
  set_header(first.mutable_header());
  if (!stream.Write(first)) return false;
  for (std::size_t offset = 0; offset < bytes.size(); offset += chunk_bytes) {
    Request chunk;
    chunk.set_chunk(bytes.substr(offset, chunk_bytes));
    if (!stream.Write(chunk)) return false;
  }
  return stream.WritesDone();
}

// The status of a finished stream; a stream that ended "OK" without its final event broke.
absl::Status StreamStatus(const grpc::Status& finished, bool got_result, std::string_view what) {
  if (!finished.ok()) return FromGrpcStatus(finished);
  if (!got_result) {
    return absl::UnavailableError(StrCat(what, " stream ended without a result"));
  }
  return absl::OkStatus();
}

// The header's description of the payload that follows it.
void DescribePayload(const Payload& payload, v1::PayloadInfo* info) {
  info->set_size_bytes(payload.bytes.size());
  info->set_sha256(payload.sha256);
}

}  // namespace

HeavyClient::HeavyClient(std::vector<std::string> targets, HeavyClientOptions options)
    : targets_(std::move(targets)), options_(std::move(options)), rotation_(targets_) {}

absl::StatusOr<std::unique_ptr<v1::Heavy::Stub>> HeavyClient::StubFor(const std::string& target) {
  std::lock_guard lock(channels_mu_);
  auto& channel = channels_[target];
  if (!channel) {
    auto made = MakeClientChannel(target, options_.security,
                                  target.rfind("dns:", 0) == 0 ? kRoundRobinConfig : "");
    if (!made.ok()) {
      return absl::InvalidArgumentError(
          StrCat("cannot make a channel to ", target, ": ",
                 std::string(made.status().message())));
    }
    channel = *made;
  }
  return v1::Heavy::NewStub(channel);
}

absl::StatusOr<SimulationRun> HeavyClient::SimulateOnce(const std::string& target, int attempt,
                                                        const Payload& payload,
                                                        const v1::SimulateOptions& options,
                                                        const ProgressCallback& progress) {
  WP_ASSIGN_OR_RETURN(auto stub, StubFor(target));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.job_deadline));
  auto stream = stub->Simulate(&context);
  SendPayload<v1::SimulateRequest>(*stream, payload.bytes, options_.chunk_bytes,
                                   [&](v1::SimulateHeader* header) {
                                     DescribePayload(payload, header->mutable_payload());
                                     *header->mutable_options() = options;
                                   });
  SimulationRun run;
  bool got_result = false;
  const std::string replica = target;
  auto report = [&](std::string line) {
    if (progress) progress({replica, attempt, std::move(line)});
  };
  v1::SimulateEvent event;
  while (stream->Read(&event)) {
    switch (event.kind_case()) {
      case v1::SimulateEvent::kAccepted:
        report(StrCat("accepted as ", event.accepted().job_id(),
                      event.accepted().queue_position() > 0
                          ? StrCat(", queue position ", event.accepted().queue_position())
                          : std::string()));
        break;
      case v1::SimulateEvent::kQueue:
        report(StrCat("queue position ", event.queue().queue_position()));
        break;
      case v1::SimulateEvent::kStarted:
        report("started");
        break;
      case v1::SimulateEvent::kProgress:
        report(StrCat("simulated ", FixedDecimals(event.progress().sim_time_s(), 1), "/",
                      FixedDecimals(event.progress().duration_s(), 1), " s, ",
                      event.progress().frames_rendered(), " frames"));
        break;
      case v1::SimulateEvent::kArtifact: {
        const v1::ArtifactChunk& chunk = event.artifact();
        Artifact& artifact = run.artifacts[chunk.name()];
        artifact.media_type = chunk.media_type();
        artifact.data.append(chunk.data());
        if (chunk.last() && !chunk.sha256().empty() && Sha256Hex(artifact.data) != chunk.sha256()) {
          return absl::DataLossError(StrCat("artifact '", chunk.name(), "' from ", replica,
                                            " does not match its sha256"));
        }
        break;
      }
      case v1::SimulateEvent::kResult:
        run.result = event.result();
        got_result = true;
        break;
      case v1::SimulateEvent::KIND_NOT_SET:
        break;
    }
  }
  absl::Status status = StreamStatus(stream->Finish(), got_result, "Simulate");
  if (!status.ok()) return status;
  return run;
}

absl::StatusOr<FailoverOutcome<SimulationRun>> HeavyClient::Simulate(
    const Payload& payload, const v1::SimulateOptions& options, const ProgressCallback& progress) {
  if (targets_.empty()) return absl::InvalidArgumentError("no worker-heavy replica configured");
  return RunWithFailover<SimulationRun>(
      rotation_, options_.failover, [&](const std::string& target, int attempt) {
        return SimulateOnce(target, attempt, payload, options, progress);
      });
}

absl::StatusOr<v1::VerifyResult> HeavyClient::VerifyOnce(const std::string& target, int attempt,
                                                         const Payload& payload,
                                                         const v1::VerifyHeader& header,
                                                         const ProgressCallback& progress) {
  WP_ASSIGN_OR_RETURN(auto stub, StubFor(target));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.job_deadline));
  auto stream = stub->Verify(&context);
  SendPayload<v1::VerifyRequest>(*stream, payload.bytes, options_.chunk_bytes,
                                 [&](v1::VerifyHeader* out) { *out = header; });
  v1::VerifyResult result;
  bool got_result = false;
  v1::VerifyEvent event;
  while (stream->Read(&event)) {
    if (event.has_run() && progress) {
      progress({target, attempt,
                StrCat("run ", event.run().index(), " (seed ", event.run().seed(), "): ",
                       v1::Outcome_Name(event.run().outcome()))});
    }
    if (event.has_result()) {
      result = event.result();
      got_result = true;
    }
  }
  absl::Status status = StreamStatus(stream->Finish(), got_result, "Verify");
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<VerifySummary> HeavyClient::Verify(const Payload& payload, std::uint32_t runs,
                                                  std::uint64_t base_seed,
                                                  std::optional<double> jitter_m,
                                                  const ProgressCallback& progress) {
  if (targets_.empty()) return absl::InvalidArgumentError("no worker-heavy replica configured");
  if (runs == 0) return absl::InvalidArgumentError("verify needs at least one run");
  // Split the runs into one part per replica; part k starts at run `first` with seed
  // base_seed + first, so the merged result equals what one replica would have produced.
  const std::uint32_t parts = std::min<std::uint32_t>(runs, targets_.size());
  struct Part {
    std::uint32_t first = 0;
    v1::VerifyHeader header;
    std::future<absl::StatusOr<FailoverOutcome<v1::VerifyResult>>> future;
  };
  std::vector<Part> split(parts);
  std::uint32_t first = 0;
  for (std::uint32_t k = 0; k < parts; ++k) {
    const std::uint32_t count = runs / parts + (k < runs % parts ? 1 : 0);
    Part& part = split[k];
    part.first = first;
    DescribePayload(payload, part.header.mutable_payload());
    part.header.set_runs(count);
    part.header.set_base_seed(base_seed + first);
    if (jitter_m) part.header.set_jitter_m(*jitter_m);
    first += count;
  }
  for (Part& part : split) {
    part.future = std::async(std::launch::async, [this, &payload, &progress, &part] {
      return RunWithFailover<v1::VerifyResult>(
          rotation_, options_.failover, [&](const std::string& target, int attempt) {
            return VerifyOnce(target, attempt, payload, part.header, progress);
          });
    });
  }
  VerifySummary summary;
  for (Part& part : split) {
    auto outcome = part.future.get();
    if (!outcome.ok()) return outcome.status();
    summary.replicas.push_back(outcome->replica);
    summary.attempts += outcome->attempts;
    for (v1::VerifyRun run : outcome->value.runs()) {
      run.set_index(run.index() + part.first);
      *summary.result.add_runs() = std::move(run);
    }
    summary.result.set_successes(summary.result.successes() + outcome->value.successes());
    summary.result.set_parallelism(summary.result.parallelism() + outcome->value.parallelism());
  }
  std::sort(summary.result.mutable_runs()->begin(), summary.result.mutable_runs()->end(),
            [](const v1::VerifyRun& a, const v1::VerifyRun& b) { return a.index() < b.index(); });
  summary.result.set_success_rate(static_cast<double>(summary.result.successes()) / runs);
  return summary;
}

absl::StatusOr<FailoverOutcome<v1::BuildSceneResponse>> HeavyClient::BuildScene(
    const Payload& payload, bool return_mjcf) {
  if (targets_.empty()) return absl::InvalidArgumentError("no worker-heavy replica configured");
  return RunWithFailover<v1::BuildSceneResponse>(
      rotation_, options_.failover,
      [&](const std::string& target, int) -> absl::StatusOr<v1::BuildSceneResponse> {
        WP_ASSIGN_OR_RETURN(auto stub, StubFor(target));
        grpc::ClientContext context;
        context.set_deadline(absl::ToChronoTime(absl::Now() + options_.job_deadline));
        v1::BuildSceneResponse response;
        auto writer = stub->BuildScene(&context, &response);
        const bool sent = SendPayload<v1::BuildSceneRequest>(
            *writer, payload.bytes, options_.chunk_bytes, [&](v1::BuildSceneHeader* header) {
              DescribePayload(payload, header->mutable_payload());
              header->set_return_mjcf(return_mjcf);
            });
        grpc::Status finished = writer->Finish();
        if (!finished.ok()) return FromGrpcStatus(finished);
        if (!sent) return absl::UnavailableError("BuildScene stream broke while sending");
        return response;
      });
}

absl::StatusOr<RenderedViews> HeavyClient::RenderViewsOnce(const std::string& target,
                                                           int attempt, const Payload& payload,
                                                           const v1::RenderViewsOptions& options,
                                                           const ProgressCallback& progress) {
  WP_ASSIGN_OR_RETURN(auto stub, StubFor(target));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.job_deadline));
  auto stream = stub->RenderViews(&context);
  SendPayload<v1::RenderViewsRequest>(*stream, payload.bytes, options_.chunk_bytes,
                                      [&](v1::RenderViewsHeader* header) {
                                        DescribePayload(payload, header->mutable_payload());
                                        *header->mutable_options() = options;
                                      });
  RenderedViews rendered;
  bool got_result = false;
  v1::RenderViewsEvent event;
  while (stream->Read(&event)) {
    if (event.has_view()) {
      if (progress) progress({target, attempt, StrCat("rendered view ", event.view().name())});
      rendered.views.push_back(event.view());
    }
    if (event.has_result()) {
      rendered.result = event.result();
      got_result = true;
    }
  }
  absl::Status status = StreamStatus(stream->Finish(), got_result, "RenderViews");
  if (!status.ok()) return status;
  return rendered;
}

absl::StatusOr<FailoverOutcome<RenderedViews>> HeavyClient::RenderViews(
    const Payload& payload, const v1::RenderViewsOptions& options,
    const ProgressCallback& progress) {
  if (targets_.empty()) return absl::InvalidArgumentError("no worker-heavy replica configured");
  return RunWithFailover<RenderedViews>(
      rotation_, options_.failover, [&](const std::string& target, int attempt) {
        return RenderViewsOnce(target, attempt, payload, options, progress);
      });
}

absl::StatusOr<v1::InfoResponse> HeavyClient::Info(const std::string& target) {
  WP_ASSIGN_OR_RETURN(auto stub, StubFor(target));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.call_deadline));
  v1::InfoResponse response;
  absl::Status status = FromGrpcStatus(stub->Info(&context, v1::InfoRequest(), &response));
  if (!status.ok()) return status;
  return response;
}

}  // namespace workerpair::controller
