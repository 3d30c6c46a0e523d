// Uploads cannot exhaust worker-heavy: stalled uploads hold at most the memory or disk cap, the
// rest are refused UPLOADS_BUSY, stalled ones end after the idle timeout, and a payload that
// spills to the scratch disk still simulates. Real binary, RSS read from /proc.
#include <random>

#include "libs/common/error_reason.h"
#include "libs/rpc/grpc_status.h"
#include "libs/common/sha256.h"
#include "tests/heavy/liveness/liveness_support.h"

namespace workerpair::heavy::liveness {
namespace {

constexpr std::uint64_t kMiB = 1 << 20;
constexpr int kUploads = 40;
constexpr std::uint64_t kDeclared = 250 * kMiB;
constexpr int kSentMiB = 25;

struct StallOutcome {
  int busy = 0;       // RESOURCE_EXHAUSTED UPLOADS_BUSY
  int idle = 0;       // DEADLINE_EXCEEDED from the idle timeout
  int other = 0;
  std::uint64_t rss_while_stalled = 0;
  double held_while_stalled = 0;
  std::string last_other;
  // One more upload, started while the others stall: how it ended.
  absl::Status late;
};

// 40 uploads that each declare 250 MiB, send 25 MiB and stall; then every call's end.
StallOutcome StallUploads(Heavy& heavy, const std::string& held_metric) {
  const std::string mebibyte(kMiB, 'z');
  const std::string digest = Sha256Hex("never completes");
  std::vector<std::unique_ptr<SimulateStream>> calls;
  for (int i = 0; i < kUploads; ++i) {
    calls.push_back(std::make_unique<SimulateStream>(heavy.stub.get(), absl::Seconds(60)));
    SimulateStream& call = *calls.back();
    if (!call.Header(kDeclared, digest, QuietOptions())) continue;
    for (int sent = 0; sent < kSentMiB; ++sent) {
      if (!call.Chunk(mebibyte)) break;  // refused: the server ended the call
    }
  }
  StallOutcome outcome;
  // Let the server take in what is in flight, then measure while every survivor is stalled.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  outcome.rss_while_stalled = RssBytes(heavy.process->pid());
  outcome.held_while_stalled = heavy.Metric(held_metric);
  {
    // The stalled uploads hold the store to within one upload of its cap: one more that sends
    // more than that is refused, at its header or at the chunk that would pass the cap.
    SimulateStream late(heavy.stub.get(), absl::Seconds(60));
    if (late.Header(kDeclared, digest, QuietOptions())) {
      for (int sent = 0; sent < kSentMiB + 5 && late.Chunk(mebibyte); ++sent) {
      }
    }
    late.stream->WritesDone();
    outcome.late = FromGrpcStatus(late.Drain());
  }
  for (auto& call : calls) {
    const absl::Status status = FromGrpcStatus(call->Drain());
    if (status.code() == absl::StatusCode::kResourceExhausted &&
        ReasonOf(status) == ErrorReason::kUploadsBusy) {
      ++outcome.busy;
    } else if (status.code() == absl::StatusCode::kDeadlineExceeded &&
               status.message().find("upload_idle_timeout_s") != absl::string_view::npos) {
      ++outcome.idle;
    } else {
      ++outcome.other;
      outcome.last_other = status.ToString();
    }
  }
  return outcome;
}

TEST_CASE("Stalled uploads held in memory stop at the memory cap and end after the idle timeout") {
  Heavy heavy({"--slots=1", "--max_upload_memory_mb=100", "--upload_spill_mb=512",
               "--upload_idle_timeout_s=8"});
  const std::uint64_t baseline = RssBytes(heavy.process->pid());
  REQUIRE(baseline > 0);
  const absl::Time start = absl::Now();
  const StallOutcome outcome = StallUploads(heavy, "workerpair_heavy_upload_memory_bytes");
  INFO("baseline RSS " << baseline / kMiB << " MiB, while stalled "
                       << outcome.rss_while_stalled / kMiB << " MiB; held "
                       << outcome.held_while_stalled / kMiB << " MiB; busy " << outcome.busy
                       << ", idle " << outcome.idle << ", other " << outcome.other << " "
                       << outcome.last_other << "; late " << outcome.late.ToString());
  // Without the cap this pattern held 40 x 25 MiB = 1000 MiB. Beyond the cap, RSS also holds
  // gRPC's buffers of the messages in flight and what the allocator keeps after freeing them.
  CHECK(outcome.rss_while_stalled < baseline + 300 * kMiB);
  CHECK(outcome.held_while_stalled > 0);
  CHECK(outcome.held_while_stalled <= 100.0 * kMiB);
  CHECK(outcome.busy >= kUploads / 2);  // at most 100 MiB of 25 MiB uploads fit at once
  CHECK(outcome.idle >= 1);
  CHECK(outcome.other == 0);
  CHECK(outcome.busy + outcome.idle == kUploads);
  CHECK(ReasonOf(outcome.late) == ErrorReason::kUploadsBusy);
  CHECK(absl::Now() - start < absl::Seconds(45));

  // Everything was given back (as each call's reactor goes); the replica takes the next job.
  CHECK(Eventually([&] { return heavy.Metric("workerpair_heavy_upload_memory_bytes") == 0; },
                   absl::Seconds(5)));
  CHECK(heavy.Metric("workerpair_heavy_uploads_refused_busy_total") >= outcome.busy);
  CHECK(heavy.Metric("workerpair_heavy_upload_idle_timeouts_total") == outcome.idle);
  SimulateStream next(heavy.stub.get());
  REQUIRE(next.Send(PackExample("ramp_goal"), QuietOptions()));
  next.stream->WritesDone();
  const grpc::Status status = next.Drain();
  INFO(status.error_message());
  CHECK(status.ok());
}

TEST_CASE("Stalled uploads that spill to disk hold no memory and stop at the disk cap") {
  Heavy heavy({"--slots=1", "--upload_spill_mb=8", "--max_upload_disk_mb=200",
               "--upload_idle_timeout_s=8"});
  const std::uint64_t baseline = RssBytes(heavy.process->pid());
  REQUIRE(baseline > 0);
  const StallOutcome outcome = StallUploads(heavy, "workerpair_heavy_upload_disk_bytes");
  INFO("baseline RSS " << baseline / kMiB << " MiB, while stalled "
                       << outcome.rss_while_stalled / kMiB << " MiB; held "
                       << outcome.held_while_stalled / kMiB << " MiB; busy " << outcome.busy
                       << ", idle " << outcome.idle << ", other " << outcome.other << " "
                       << outcome.last_other << "; late " << outcome.late.ToString());
  // Nothing of the payloads is in memory; what RSS gains is gRPC's buffers of the messages in
  // flight and what the allocator keeps after freeing them (measured 30-160 MiB).
  CHECK(outcome.rss_while_stalled < baseline + 250 * kMiB);
  CHECK(outcome.held_while_stalled > 0);
  CHECK(outcome.held_while_stalled <= 200.0 * kMiB);
  CHECK(outcome.busy >= kUploads / 2);  // at most 200 MiB of 25 MiB uploads fit at once
  CHECK(outcome.idle >= 1);
  CHECK(outcome.other == 0);
  CHECK(outcome.busy + outcome.idle == kUploads);
  CHECK(ReasonOf(outcome.late) == ErrorReason::kUploadsBusy);
  // The spill files went with their uploads.
  CHECK(Eventually([&] { return heavy.UploadFiles() == 0; }, absl::Seconds(5)));
  CHECK(Eventually([&] { return heavy.Metric("workerpair_heavy_upload_disk_bytes") == 0; },
                   absl::Seconds(5)));
  CHECK(heavy.Metric("workerpair_heavy_upload_memory_bytes") == 0);
}

TEST_CASE("A payload above the spill threshold is received on disk and still simulates") {
  Heavy heavy({"--slots=1", "--upload_spill_mb=1"});
  TempDir scene;
  fs::copy(fs::path(WORKERPAIR_SOURCE_DIR) / "examples/scenes/ramp_goal", scene.path(),
           fs::copy_options::recursive);
  // 3 MiB that do not compress, so the archive is well above the 1 MiB threshold.
  std::string noise(3 * kMiB, '\0');
  std::mt19937_64 random(42);
  for (char& c : noise) c = static_cast<char>(random());
  std::ofstream(scene.path() / "padding.bin", std::ios::binary) << noise;
  const Payload payload = Pack(scene.path());
  REQUIRE(payload.archive.size() > 2 * kMiB);

  SimulateStream call(heavy.stub.get());
  REQUIRE(call.Header(payload.archive.size(), payload.sha256, QuietOptions()));
  REQUIRE(call.Chunk(payload.archive.substr(0, kMiB)));
  // Half-way: the bytes are in a scratch file, not in memory.
  CHECK(Eventually([&] { return heavy.Metric("workerpair_heavy_upload_disk_bytes") > 0; }));
  CHECK(heavy.UploadFiles() == 1);
  CHECK(heavy.Metric("workerpair_heavy_upload_memory_bytes") == 0);
  for (std::size_t at = kMiB; at < payload.archive.size(); at += kMiB) {
    REQUIRE(call.Chunk(payload.archive.substr(at, kMiB)));
  }
  call.stream->WritesDone();
  const grpc::Status status = call.Drain();
  INFO(status.error_message());
  REQUIRE(status.ok());
  REQUIRE(!call.events.empty());
  REQUIRE(call.events.back().has_result());
  CHECK(call.events.back().result().outcome() == v1::OUTCOME_SUCCESS);
  CHECK(Eventually([&] { return heavy.UploadFiles() == 0; }, absl::Seconds(5)));
  CHECK(heavy.Metric("workerpair_heavy_upload_disk_bytes") == 0);
}

TEST_CASE("A client that stops reading its events is cut off and the job's slot is freed") {
  Heavy heavy({"--slots=1", "--queue=0", "--upload_idle_timeout_s=2"});
  // A client whose receive window stays small, so that unread events block the server soon.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16 << 10);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto stub = v1::HeavyService::NewStub(grpc::CreateCustomChannel(
      heavy.process->address(), grpc::InsecureChannelCredentials(), args));
  TempDir scene_dir;
  const Payload slow = SlowScene(scene_dir.path());
  SimulateStream call(stub.get());
  v1::SimulateOptions chatty = QuietOptions();
  chatty.set_progress_interval_s(0.001);  // a progress event every millisecond, never read
  REQUIRE(call.Send(slow, chatty));
  auto info = [&] {
    grpc::ClientContext context;
    v1::InfoResponse response;
    REQUIRE(heavy.stub->Info(&context, v1::InfoRequest(), &response).ok());
    return response;
  };
  REQUIRE(Eventually([&] { return info().running() == 1; }));
  // The server's writes block on the full window; after the idle timeout the call is cancelled
  // and the slot comes back while the client still reads nothing.
  CHECK(Eventually([&] { return info().running() == 0; }, absl::Seconds(20)));
  CHECK(heavy.Metric("workerpair_heavy_send_stall_timeouts_total") == 1);
  SimulateStream next(heavy.stub.get());
  REQUIRE(next.Send(PackExample("ramp_goal"), QuietOptions()));
  next.stream->WritesDone();
  CHECK(next.Drain().ok());
  CHECK(call.Drain().error_code() == grpc::StatusCode::CANCELLED);
}

TEST_CASE("A call that never sends its header is ended by the idle timeout") {
  Heavy heavy({"--upload_idle_timeout_s=1"});
  SimulateStream call(heavy.stub.get(), absl::Seconds(20));
  const absl::Time start = absl::Now();
  const grpc::Status status = call.Drain();
  CHECK(status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  CHECK(status.error_message().find("upload_idle_timeout_s") != std::string::npos);
  CHECK(absl::Now() - start < absl::Seconds(10));
}

}  // namespace
}  // namespace workerpair::heavy::liveness
