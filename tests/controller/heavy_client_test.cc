// HeavyClient against real worker-heavy replicas: failover from a dead or full replica, and a
// verify batch fanned out over two replicas and merged.
#include "services/controller/heavy_client.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <csignal>
#include <thread>

#include "libs/common/bundle.h"
#include "tests/support/server_process.h"

namespace fs = std::filesystem;
namespace v1 = workerpair::v1;
using workerpair::controller::HeavyClient;
using workerpair::controller::HeavyClientOptions;
using workerpair::controller::Payload;
using workerpair::testing::ServerProcess;
using workerpair::testing::TempDir;

namespace {

Payload PackScene(const fs::path& dir) {
  auto packed = workerpair::PackDirectory(dir, {}, workerpair::PackOptions{});
  REQUIRE(packed.ok());
  return {packed->archive, packed->sha256};
}

Payload RampGoal() { return PackScene(fs::path(WORKERPAIR_SOURCE_DIR) / "examples/scenes/ramp_goal"); }

// A scene that runs for a long time, to keep a slot busy.
Payload SlowScene(const fs::path& dir) {
  std::ofstream(dir / "manifest.json") << R"({"version": 1, "scene": "scene.xml",
    "simulation": {"duration_s": 120, "timestep_s": 0.0001, "target_body": "box"},
    "render": {"enabled": false}})";
  std::ofstream(dir / "scene.xml") << R"(<mujoco><worldbody><geom type="plane" size="5 5 0.1"/>
    <body name="box" pos="0 0 0.5"><freejoint/><geom type="box" size="0.1 0.1 0.1"/></body>
    </worldbody></mujoco>)";
  return PackScene(dir);
}

std::unique_ptr<ServerProcess> StartHeavy(const TempDir& dir, const std::string& name,
                                          std::vector<std::string> args) {
  args.push_back("--scratch_dir=" + (dir.path() / name).string());
  args.push_back("--log_level=warn");
  auto started = ServerProcess::Start(WORKERPAIR_HEAVY_BINARY, args);
  REQUIRE(started.ok());
  return std::move(*started);
}

HeavyClientOptions FastRetries() {
  HeavyClientOptions options;
  options.failover.initial_backoff = absl::Milliseconds(10);
  options.failover.max_backoff = absl::Milliseconds(50);
  options.attempt_deadline = absl::Seconds(120);
  return options;
}

v1::SimulateOptions NoRender() {
  v1::SimulateOptions options;
  options.set_render(false);
  return options;
}

}  // namespace

TEST_CASE("A job sent to a pool with a dead replica completes on the live one", "[heavy_client]") {
  TempDir dir;
  auto live = StartHeavy(dir, "live", {"--slots=1"});
  HeavyClient heavy({"127.0.0.1:1", live->address()}, FastRetries());
  auto run = heavy.Simulate(RampGoal(), NoRender());
  REQUIRE(run.ok());
  CHECK(run->replica == live->address());
  // The dead replica refuses connections: the warm-up holds it back, or the job fails over.
  CHECK(run->attempts <= 2);
  CHECK(run->value.result.outcome() == v1::OUTCOME_SUCCESS);
}

TEST_CASE("A replica at capacity sends the job to the other replica", "[heavy_client]") {
  TempDir dir;
  auto busy = StartHeavy(dir, "busy", {"--slots=1", "--queue=0"});
  auto idle = StartHeavy(dir, "idle", {"--slots=1", "--queue=0"});
  // Occupy the busy replica's only slot with a long job, through a client of its own.
  TempDir slow_dir;
  const Payload slow = SlowScene(slow_dir.path());
  HeavyClient occupant({busy->address()}, FastRetries());
  std::atomic<bool> started{false};
  std::thread hog([&] {
    (void)occupant.Simulate(slow, NoRender(), [&](const workerpair::controller::HeavyProgress& p) {
      if (p.summary.rfind("simulated", 0) == 0) started = true;
    });
  });
  for (int i = 0; i < 600 && !started; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(started);

  HeavyClient heavy({busy->address(), idle->address()}, FastRetries());
  auto run = heavy.Simulate(RampGoal(), NoRender());
  REQUIRE(run.ok());
  CHECK(run->replica == idle->address());
  // Routing knows nothing of the load yet: the job went to the idle replica at once, or the
  // busy one refused it (REPLICA_FULL) and it went on.
  CHECK(run->attempts <= 2);
  busy->Signal(SIGKILL);  // ends the hog's stream; its retries have nowhere to go
  hog.join();
}

TEST_CASE("A verify of 8 runs is spread over both replicas and merged in order",
          "[heavy_client]") {
  TempDir dir;
  auto a = StartHeavy(dir, "a", {"--slots=2"});
  auto b = StartHeavy(dir, "b", {"--slots=2"});
  HeavyClient heavy({a->address(), b->address()}, FastRetries());
  auto summary = heavy.Verify(RampGoal(), 8, /*base_seed=*/100, /*jitter_m=*/0.002);
  REQUIRE(summary.ok());
  REQUIRE(summary->result.runs_size() == 8);
  std::set<std::string> replicas(summary->replicas.begin(), summary->replicas.end());
  CHECK(replicas.size() == 2);
  for (int i = 0; i < 8; ++i) {
    CHECK(summary->result.runs(i).index() == static_cast<std::uint32_t>(i));
    CHECK(summary->result.runs(i).seed() == 100u + i);
  }
  CHECK(summary->result.successes() == 8);
  CHECK(summary->result.success_rate() == Approx(1.0));
}
