// Server keepalive and connection age (libs/rpc/server_runner), through worker-heavy: client
// pings at the agreed rate are accepted, faster ones are not; an old connection is replaced
// while a job on it goes on.
#include <atomic>
#include <mutex>

#include "libs/common/error_reason.h"
#include "tests/heavy/liveness/liveness_support.h"

namespace workerpair::heavy::liveness {
namespace {

// A channel of its own (never shared with another test's subchannels), with client keepalive.
std::shared_ptr<grpc::Channel> KeepaliveChannel(const std::string& address, int keepalive_ms) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, keepalive_ms);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

// Records every state a channel goes through, on a thread of its own.
class StateWatcher {
 public:
  explicit StateWatcher(std::shared_ptr<grpc::Channel> channel)
      : channel_(std::move(channel)), thread_([this] { Loop(); }) {}
  ~StateWatcher() {
    stop_ = true;
    thread_.join();
  }
  // States seen after the first READY.
  std::vector<grpc_connectivity_state> AfterReady() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<grpc_connectivity_state> after;
    bool ready = false;
    for (grpc_connectivity_state state : states_) {
      if (ready) after.push_back(state);
      ready = ready || state == GRPC_CHANNEL_READY;
    }
    return after;
  }
  bool LeftReady() const {
    for (grpc_connectivity_state state : AfterReady()) {
      if (state != GRPC_CHANNEL_READY) return true;
    }
    return false;
  }

 private:
  void Loop() {
    grpc_connectivity_state state = channel_->GetState(false);
    Record(state);
    while (!stop_) {
      if (channel_->WaitForStateChange(state, absl::ToChronoTime(absl::Now() +
                                                                 absl::Milliseconds(100)))) {
        state = channel_->GetState(false);
        Record(state);
      }
    }
  }
  void Record(grpc_connectivity_state state) {
    std::lock_guard<std::mutex> lock(mu_);
    states_.push_back(state);
  }

  std::shared_ptr<grpc::Channel> channel_;
  mutable std::mutex mu_;
  std::vector<grpc_connectivity_state> states_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

bool InfoOk(v1::HeavyService::Stub* stub) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  v1::InfoResponse response;
  return stub->Info(&context, v1::InfoRequest(), &response).ok();
}

// Keeps an idle channel open for `how_long`, pinging every `keepalive_ms`; true when it
// stayed connected throughout.
bool StaysConnected(Heavy& heavy, int keepalive_ms, absl::Duration how_long) {
  auto channel = KeepaliveChannel(heavy.process->address(), keepalive_ms);
  auto stub = v1::HeavyService::NewStub(channel);
  StateWatcher watcher(channel);
  REQUIRE(InfoOk(stub.get()));
  std::this_thread::sleep_for(absl::ToChronoNanoseconds(how_long));
  return !watcher.LeftReady();
}

TEST_CASE("Client keepalive pings at the accepted rate keep an idle connection open") {
  // Scaled down from the deployed 10 s client pings against a 5 s server minimum.
  Heavy heavy({"--min_client_ping_interval_s=1"});
  CHECK(StaysConnected(heavy, 1500, absl::Seconds(7)));
}

TEST_CASE("Client pings faster than the server accepts end in GOAWAY") {
  // The control for the test above: the same client against the default 5 s minimum.
  Heavy heavy;
  CHECK_FALSE(StaysConnected(heavy, 1500, absl::Seconds(7)));
}

TEST_CASE("An old connection is replaced while a job on it runs to the end of its grace") {
  Heavy heavy({"--slots=1", "--max_connection_age_s=1", "--max_connection_age_grace_s=60",
               "--heartbeat_interval_ms=200"});
  auto channel = KeepaliveChannel(heavy.process->address(), 10000);
  auto stub = v1::HeavyService::NewStub(channel);
  StateWatcher watcher(channel);
  TempDir scene_dir;
  const Payload slow = SlowScene(scene_dir.path());

  SimulateStream job(stub.get());
  REQUIRE(job.Send(slow, QuietOptions()));
  // Five seconds: the connection passes its age (1 s +-10%) several times over. The job's
  // stream keeps delivering heartbeats on its old connection, and new calls go on new ones.
  std::atomic<bool> reading{true};
  std::atomic<int> infos_ok{0}, infos_failed{0};
  std::thread caller([&] {
    while (reading) {
      (InfoOk(stub.get()) ? infos_ok : infos_failed)++;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  const absl::Time start = absl::Now();
  absl::Time last_event = start;
  v1::SimulateResponse event;
  int heartbeats_after_age = 0;
  while (absl::Now() - start < absl::Seconds(5) && job.stream->Read(&event)) {
    last_event = absl::Now();
    if (event.has_heartbeat() && last_event - start > absl::Seconds(2)) ++heartbeats_after_age;
  }
  reading = false;
  caller.join();

  CHECK(heartbeats_after_age >= 5);
  CHECK(last_event - start >= absl::Milliseconds(4500));  // the job's stream never broke
  CHECK(watcher.LeftReady());                             // the connection was replaced
  CHECK(infos_ok >= 10);
  CHECK(infos_failed == 0);
  job.context.TryCancel();
  CHECK(job.Drain().error_code() == grpc::StatusCode::CANCELLED);
}

TEST_CASE("Without a connection age the connection stays") {
  // The control for the test above.
  Heavy heavy({"--heartbeat_interval_ms=200"});
  auto channel = KeepaliveChannel(heavy.process->address(), 10000);
  auto stub = v1::HeavyService::NewStub(channel);
  StateWatcher watcher(channel);
  const absl::Time start = absl::Now();
  while (absl::Now() - start < absl::Seconds(3)) {
    REQUIRE(InfoOk(stub.get()));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  CHECK_FALSE(watcher.LeftReady());
}

}  // namespace
}  // namespace workerpair::heavy::liveness
