// Heartbeats and load on worker-heavy's job streams, and the reasons on capacity errors, through
// the real binary.
#include <signal.h>

#include <algorithm>
#include <set>

#include "libs/common/error_reason.h"
#include "libs/rpc/grpc_status.h"
#include "libs/common/sha256.h"
#include "tests/heavy/liveness/liveness_support.h"

namespace workerpair::heavy::liveness {
namespace {

// Events of a stream with the time each arrived.
struct Timeline {
  std::vector<v1::SimulateResponse> events;
  std::vector<absl::Time> times;

  void Read(SimulateStream& call, absl::Duration for_how_long) {
    const absl::Time until = absl::Now() + for_how_long;
    v1::SimulateResponse event;
    while (absl::Now() < until && call.stream->Read(&event)) {
      events.push_back(event);
      times.push_back(absl::Now());
    }
  }
  // The heartbeats from the `skip`-th event on.
  std::vector<v1::Heartbeat> Heartbeats(std::size_t skip = 0) const {
    std::vector<v1::Heartbeat> beats;
    for (std::size_t i = skip; i < events.size(); ++i) {
      if (events[i].has_heartbeat()) beats.push_back(events[i].heartbeat());
    }
    return beats;
  }
  // The longest gap between consecutive events from the `skip`-th on.
  absl::Duration LongestGap(std::size_t skip = 0) const {
    absl::Duration longest = absl::ZeroDuration();
    for (std::size_t i = skip + 1; i < times.size(); ++i) {
      longest = std::max(longest, times[i] - times[i - 1]);
    }
    return longest;
  }
};

TEST_CASE("Heartbeats carry phase and load while a job is queued and while it runs") {
  Heavy heavy({"--slots=1", "--queue=2", "--heartbeat_interval_ms=300"});
  TempDir scene_dir;
  const Payload slow = SlowScene(scene_dir.path());

  SimulateStream running(heavy.stub.get());
  REQUIRE(running.Send(slow, QuietOptions()));
  v1::SimulateResponse event;
  REQUIRE(running.stream->Read(&event));
  REQUIRE(event.has_accepted());
  CHECK(event.accepted().heartbeat_interval_ms() == 300);
  CHECK(event.accepted().load().slots() == 1);
  CHECK(event.accepted().load().queue_capacity() == 2);
  CHECK_FALSE(event.accepted().load().draining());
  REQUIRE(running.stream->Read(&event));
  REQUIRE(event.has_started());

  SimulateStream queued(heavy.stub.get());
  REQUIRE(queued.Send(slow, QuietOptions()));
  REQUIRE(queued.stream->Read(&event));
  REQUIRE(event.has_accepted());
  CHECK(event.accepted().queue_position() == 1);
  CHECK(event.accepted().load().running() == 1);
  CHECK(event.accepted().load().queued() == 1);

  // Both streams, read side by side for a while: nothing but heartbeats, at the interval.
  Timeline run_line, queue_line;
  std::thread reader([&] { queue_line.Read(queued, absl::Seconds(2)); });
  run_line.Read(running, absl::Seconds(2));
  reader.join();

  const std::vector<v1::Heartbeat> run_beats = run_line.Heartbeats();
  const std::vector<v1::Heartbeat> queue_beats = queue_line.Heartbeats();
  INFO("running: " << run_beats.size() << " heartbeats, queued: " << queue_beats.size());
  // 2 s at 300 ms: about 6 each; a silent gap of three intervals would read as a lost replica.
  CHECK(run_beats.size() >= 4);
  CHECK(queue_beats.size() >= 4);
  CHECK(run_line.LongestGap() < absl::Milliseconds(900));
  CHECK(queue_line.LongestGap() < absl::Milliseconds(900));
  const std::set<std::string> running_phases = {"starting", "unpacking", "compiling",
                                                "simulating"};
  for (const v1::Heartbeat& beat : run_beats) {
    INFO("running phase " << beat.phase());
    CHECK(running_phases.count(beat.phase()) == 1);
    CHECK(beat.load().slots() == 1);
    CHECK(beat.load().running() == 1);
    CHECK(beat.load().queued() == 1);
  }
  for (const v1::Heartbeat& beat : queue_beats) {
    CHECK(beat.phase() == "queued");
    CHECK(beat.load().queued() == 1);
  }
  CHECK(heavy.Metric("workerpair_heavy_heartbeats_sent_total") >=
        static_cast<double>(run_beats.size() + queue_beats.size()));

  // The queued job starts once the running one is cancelled: its phase follows.
  running.context.TryCancel();
  CHECK(running.Drain().error_code() == grpc::StatusCode::CANCELLED);
  Timeline after;
  after.Read(queued, absl::Seconds(1));
  bool started = false;
  for (const auto& e : after.events) started = started || e.has_started();
  CHECK(started);
  const std::vector<v1::Heartbeat> later = after.Heartbeats();
  REQUIRE_FALSE(later.empty());
  CHECK(running_phases.count(later.back().phase()) == 1);
  CHECK(later.back().load().queued() == 0);
  queued.context.TryCancel();
  queued.Drain();
}

TEST_CASE("Progress events keep a stream alive without heartbeats in between") {
  Heavy heavy({"--slots=1", "--heartbeat_interval_ms=1000"});
  TempDir scene_dir;
  const Payload slow = SlowScene(scene_dir.path());
  SimulateStream call(heavy.stub.get());
  v1::SimulateOptions options = QuietOptions();
  options.set_progress_interval_s(0.1);
  REQUIRE(call.Send(slow, options));
  Timeline line;
  line.Read(call, absl::Seconds(2));
  std::size_t progress = 0;
  for (const auto& e : line.events) progress += e.has_progress() ? 1 : 0;
  CHECK(progress >= 5);
  CHECK(line.Heartbeats().empty());  // the stream was never silent for 1 s
  call.context.TryCancel();
  call.Drain();
}

TEST_CASE("A full replica says REPLICA_FULL, a draining one REPLICA_DRAINING, in the details") {
  Heavy heavy({"--slots=1", "--queue=0", "--shutdown_grace=1s"});
  TempDir scene_dir;
  const Payload slow = SlowScene(scene_dir.path());
  SimulateStream running(heavy.stub.get());
  REQUIRE(running.Send(slow, QuietOptions()));
  v1::SimulateResponse event;
  REQUIRE(running.stream->Read(&event));
  REQUIRE(event.has_accepted());

  SimulateStream refused(heavy.stub.get());
  refused.Send(slow, QuietOptions());
  refused.stream->WritesDone();
  const absl::Status full = FromGrpcStatus(refused.Drain());
  CHECK(full.code() == absl::StatusCode::kResourceExhausted);
  CHECK(ReasonOf(full) == ErrorReason::kReplicaFull);
  CHECK(RetryElsewhere(full));

  heavy.process->Signal(SIGTERM);
  REQUIRE(Eventually([&] {
    SimulateStream late(heavy.stub.get(), absl::Seconds(5));
    late.Send(slow, QuietOptions());
    late.stream->WritesDone();
    const absl::Status status = FromGrpcStatus(late.Drain());
    return status.code() == absl::StatusCode::kUnavailable &&
           ReasonOf(status) == ErrorReason::kReplicaDraining;
  }, absl::Seconds(2)));
  // The running job is cut short at the grace's end, also as REPLICA_DRAINING.
  const absl::Status cut = FromGrpcStatus(running.Drain());
  CHECK(cut.code() == absl::StatusCode::kUnavailable);
  CHECK(ReasonOf(cut) == ErrorReason::kReplicaDraining);
}

TEST_CASE("Payload errors carry PAYLOAD_LIMIT or PAYLOAD_INVALID and are never retried") {
  Heavy heavy({"--max_payload_mb=1"});
  struct Case {
    std::string name;
    std::uint64_t declared;
    std::string sha256;
    std::string bytes;
    absl::StatusCode code;
    ErrorReason reason;
  };
  const Payload good = PackExample("ramp_goal");
  const std::vector<Case> cases = {
      {"declared over the limit", 2 << 20, Sha256Hex("x"), "", absl::StatusCode::kResourceExhausted,
       ErrorReason::kPayloadLimit},
      {"malformed digest", 4, "not-hex", "abcd", absl::StatusCode::kInvalidArgument,
       ErrorReason::kPayloadInvalid},
      {"digest mismatch", good.archive.size(), Sha256Hex("other"), good.archive,
       absl::StatusCode::kDataLoss, ErrorReason::kPayloadInvalid},
      {"not an archive", 10, Sha256Hex("0123456789"), "0123456789",
       absl::StatusCode::kInvalidArgument, ErrorReason::kPayloadInvalid},
  };
  // One replica for every case (a SECTION each would start a replica per case).
  for (const Case& c : cases) {
    {
      INFO("case: " << c.name);
      SimulateStream call(heavy.stub.get());
      if (call.Header(c.declared, c.sha256, QuietOptions()) && !c.bytes.empty()) {
        call.Chunk(c.bytes);
      }
      call.stream->WritesDone();
      const absl::Status status = FromGrpcStatus(call.Drain());
      INFO(status.ToString());
      CHECK(status.code() == c.code);
      CHECK(ReasonOf(status) == c.reason);
      CHECK_FALSE(RetryElsewhere(status));
    }
  }
}

}  // namespace
}  // namespace workerpair::heavy::liveness
