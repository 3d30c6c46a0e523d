// The heavy pool under real faults and load: real worker-heavy processes on loopback, a
// HeavyClient with its default settings unless a test says otherwise. A replica frozen
// (SIGSTOP) before the call or mid-job, killed mid-verify, draining during a burst; a burst
// larger than the pool; a poison payload that must not reach a second replica.
#include <catch2/catch.hpp>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "libs/common/bundle.h"
#include "libs/common/error_reason.h"
#include "services/controller/heavy_client.h"
#include "tests/support/server_process.h"

namespace fs = std::filesystem;
namespace v1 = workerpair::v1;
using workerpair::controller::HeavyClient;
using workerpair::controller::HeavyClientOptions;
using workerpair::controller::HeavyProgress;
using workerpair::controller::Payload;
using workerpair::testing::ServerProcess;
using workerpair::testing::TempDir;

namespace {

Payload Pack(const fs::path& dir) {
  auto packed = workerpair::PackDirectory(dir, {}, workerpair::PackOptions{});
  REQUIRE(packed.ok());
  return {packed->archive, packed->sha256};
}

// A falling box without rendering: `duration_s` simulated seconds at a 0.1 ms timestep, so the
// job's wall time grows with it (about 0.15 s per simulated second here).
Payload BoxScene(const fs::path& dir, double duration_s) {
  fs::create_directories(dir);
  std::ofstream(dir / "manifest.json")
      << R"({"version": 1, "scene": "scene.xml", "simulation": {"duration_s": )" << duration_s
      << R"(, "timestep_s": 0.0001, "target_body": "box"}, "render": {"enabled": false}})";
  std::ofstream(dir / "scene.xml") << R"(<mujoco><worldbody><geom type="plane" size="5 5 0.1"/>
    <body name="box" pos="0 0 0.5"><freejoint/><geom type="box" size="0.1 0.1 0.1"/></body>
    </worldbody></mujoco>)";
  return Pack(dir);
}

std::unique_ptr<ServerProcess> StartHeavy(const TempDir& dir, const std::string& name,
                                          std::vector<std::string> args) {
  args.push_back("--scratch_dir=" + (dir.path() / name).string());
  args.push_back("--log_level=warn");
  auto started = ServerProcess::Start(WORKERPAIR_HEAVY_BINARY, args);
  REQUIRE(started.ok());
  return std::move(*started);
}

v1::SimulateOptions NoRender() {
  v1::SimulateOptions options;
  options.set_render(false);
  return options;
}

// True when the replica answers Info and is not draining.
bool Serving(const ServerProcess& replica) {
  HeavyClient probe({replica.address()});
  auto info = probe.Info(replica.address());
  return info.ok() && !info->draining();
}

// Progress lines, from any thread.
struct ProgressLog {
  std::mutex mu;
  std::vector<HeavyProgress> events;
  workerpair::controller::ProgressCallback Callback() {
    return [this](const HeavyProgress& p) {
      std::lock_guard lock(mu);
      events.push_back(p);
    };
  }
  bool Any(std::string_view prefix) {
    std::lock_guard lock(mu);
    for (const auto& e : events) {
      if (e.summary.rfind(prefix, 0) == 0) return true;
    }
    return false;
  }
};

}  // namespace

TEST_CASE("A replica frozen before the call costs one short connect timeout, then is skipped",
          "[heavy_pool]") {
  TempDir dir;
  auto frozen = StartHeavy(dir, "frozen", {"--slots=1"});
  auto live = StartHeavy(dir, "live", {"--slots=1"});
  frozen->Signal(SIGSTOP);
  TempDir scene;
  const Payload payload = BoxScene(scene.path(), 1);
  HeavyClient heavy({frozen->address(), live->address()});
  int attempts = 0;
  for (int i = 0; i < 4; ++i) {
    auto run = heavy.Simulate(payload, NoRender());
    REQUIRE(run.ok());
    CHECK(run->replica == live->address());
    // The first job found the frozen replica still connecting while the live one was ready.
    if (i == 0) CHECK(run->attempts == 1);
    attempts += run->attempts;
  }
  // At most one later job tried the frozen replica (5 s connect timeout), then it was ejected.
  CHECK(attempts <= 5);
  frozen->Signal(SIGCONT);
}

TEST_CASE("A replica frozen mid-job: the job completes on the other replica", "[heavy_pool]") {
  TempDir dir;
  auto a = StartHeavy(dir, "a", {"--slots=1"});
  auto b = StartHeavy(dir, "b", {"--slots=1"});
  std::map<std::string, ServerProcess*> by_address = {{a->address(), a.get()},
                                                      {b->address(), b.get()}};
  TempDir scene;
  const Payload payload = BoxScene(scene.path(), 20);  // a few seconds of work
  HeavyClient heavy({a->address(), b->address()});
  std::mutex mu;
  std::string frozen;
  std::string retry_reason;
  auto run = heavy.Simulate(payload, NoRender(), [&](const HeavyProgress& p) {
    std::lock_guard lock(mu);
    if (frozen.empty() && p.summary == "started") {
      frozen = p.replica;
      by_address.at(frozen)->Signal(SIGSTOP);
    }
    if (p.summary.rfind("attempt 2 after: ", 0) == 0) retry_reason = p.summary;
  });
  REQUIRE_FALSE(frozen.empty());
  REQUIRE(run.ok());
  CHECK(run->replica != frozen);
  CHECK(run->attempts == 2);
  // The job stream's heartbeats stopped: the watchdog, not keepalive, ended the attempt.
  CHECK_THAT(retry_reason, Catch::Contains("went silent"));
  // The router recorded the frozen replica as lost and ejected it. Its failure record, not
  // Ejected() now: the 5 s ejection may have ended while the second attempt ran on a loaded box.
  auto record = heavy.pool().router().StatusOf(frozen);
  REQUIRE(record.has_value());
  CHECK(record->lost_total == 1);
  CHECK(record->ejections_total == 1);
  CHECK(record->consecutive_failures == 1);  // nothing succeeded on it since
  CHECK(record->ejected_until > record->last_failure_at);
  auto survivor = heavy.pool().router().StatusOf(run->replica);
  REQUIRE(survivor.has_value());
  CHECK(survivor->lost_total == 0);
  CHECK(survivor->ejections_total == 0);
  by_address.at(frozen)->Signal(SIGCONT);
}

TEST_CASE("A replica killed mid-verify: the runs it sent back are kept, the rest re-run with "
          "the same seeds", "[heavy_pool]") {
  TempDir dir;
  auto a = StartHeavy(dir, "a", {"--slots=2"});
  auto b = StartHeavy(dir, "b", {"--slots=2"});
  std::map<std::string, ServerProcess*> by_address = {{a->address(), a.get()},
                                                      {b->address(), b.get()}};
  TempDir scene;
  const Payload payload = BoxScene(scene.path(), 8);  // about a second per run
  HeavyClient heavy({a->address(), b->address()});
  std::mutex mu;
  std::string killed;
  auto summary = heavy.Verify(payload, 8, /*base_seed=*/500, /*jitter_m=*/0.001,
                              [&](const HeavyProgress& p) {
                                std::lock_guard lock(mu);
                                if (killed.empty() && p.summary.rfind("run ", 0) == 0) {
                                  killed = p.replica;
                                  by_address.at(killed)->Signal(SIGKILL);
                                }
                              });
  REQUIRE_FALSE(killed.empty());
  REQUIRE(summary.ok());
  REQUIRE(summary->result.runs_size() == 8);
  for (int i = 0; i < 8; ++i) {
    CHECK(summary->result.runs(i).index() == static_cast<std::uint32_t>(i));
    CHECK(summary->result.runs(i).seed() == 500u + i);
  }
  // The killed replica's part finished on the survivor, keeping what the killed one sent.
  CHECK(summary->kept_runs >= 1);
  CHECK(summary->kept_runs < 4);
  for (const std::string& replica : summary->replicas) CHECK(replica != killed);
  CHECK(summary->attempts >= 3);
}

TEST_CASE("A burst of 40 short jobs on two replicas with 2 slots and a queue of 4 finishes in "
          "full with the default settings", "[heavy_pool]") {
  TempDir dir;
  auto a = StartHeavy(dir, "a", {"--slots=2", "--queue=4"});
  auto b = StartHeavy(dir, "b", {"--slots=2", "--queue=4"});
  TempDir scene;
  const Payload payload = BoxScene(scene.path(), 2);
  HeavyClient heavy({a->address(), b->address()});
  ProgressLog log;
  std::vector<std::future<absl::Status>> jobs;
  for (int i = 0; i < 40; ++i) {
    jobs.push_back(std::async(std::launch::async, [&] {
      auto run = heavy.Simulate(payload, NoRender(), log.Callback());
      return run.ok() ? absl::OkStatus() : run.status();
    }));
  }
  int succeeded = 0;
  std::set<std::string> errors;
  for (auto& job : jobs) {
    absl::Status status = job.get();
    if (status.ok()) {
      ++succeeded;
    } else {
      errors.insert(status.ToString());
    }
  }
  INFO((errors.empty() ? std::string() : *errors.begin()));
  CHECK(succeeded == 40);
  // 40 jobs on 12 places (slots + queues): some waited for capacity, and said so.
  CHECK(log.Any("pool full: "));
}

TEST_CASE("A replica that drains during a burst: every job finishes", "[heavy_pool]") {
  TempDir dir;
  auto a = StartHeavy(dir, "a", {"--slots=2", "--queue=4"});
  auto b = StartHeavy(dir, "b", {"--slots=2", "--queue=4"});
  TempDir scene;
  const Payload payload = BoxScene(scene.path(), 3);
  HeavyClient heavy({a->address(), b->address()});
  std::atomic<int> finished{0};
  std::vector<std::future<absl::Status>> jobs;
  for (int i = 0; i < 24; ++i) {
    jobs.push_back(std::async(std::launch::async, [&] {
      auto run = heavy.Simulate(payload, NoRender());
      ++finished;
      return run.ok() ? absl::OkStatus() : run.status();
    }));
  }
  while (finished < 4) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  a->Signal(SIGTERM);
  int succeeded = 0;
  std::string last_error;
  for (auto& job : jobs) {
    absl::Status status = job.get();
    if (status.ok()) {
      ++succeeded;
    } else {
      last_error = status.ToString();
    }
  }
  INFO(last_error);
  CHECK(succeeded == 24);
  CHECK(a->Wait(absl::Seconds(60)) != -1);
}

TEST_CASE("A poison payload with two replicas: one attempt, the error, both replicas serving",
          "[heavy_pool]") {
  TempDir dir;
  auto a = StartHeavy(dir, "a", {"--slots=1", "--max_entries=3"});
  auto b = StartHeavy(dir, "b", {"--slots=1", "--max_entries=3"});
  HeavyClient heavy({a->address(), b->address()});
  TempDir scenes;

  SECTION("a payload over a limit: RESOURCE_EXHAUSTED, yet not a full pool") {
    const fs::path many = scenes.path() / "many";
    BoxScene(many, 1);
    for (int i = 0; i < 5; ++i) std::ofstream(many / ("extra" + std::to_string(i) + ".txt")) << i;
    ProgressLog log;
    auto run = heavy.Simulate(Pack(many), NoRender(), log.Callback());
    REQUIRE_FALSE(run.ok());
    INFO(run.status().ToString());
    CHECK(workerpair::ReasonOf(run.status()) == workerpair::ErrorReason::kPayloadLimit);
    CHECK_FALSE(workerpair::RetryElsewhere(run.status()));
    CHECK_FALSE(log.Any("attempt "));
    CHECK_FALSE(log.Any("pool full"));
  }
  SECTION("a scene that crashes the simulator: SCENE_CRASHED after one attempt") {
    // A 2D texture whose width * height * 3 overflows an int: MuJoCo 2.2.2 writes out of bounds
    // while compiling (the scene contract refuses bad OBJ indices before MuJoCo now, so this is
    // the crash that still reaches it; tests/heavy/runner/hostile_payload_test.cc).
    const fs::path crash = scenes.path() / "crash";
    BoxScene(crash, 1);
    std::ofstream(crash / "scene.xml")
        << R"(<mujoco><asset><texture name="t" type="2d" builtin="checker" width="70000"
        height="70000"/><material name="mat" texture="t"/></asset><worldbody>
        <geom type="plane" size="5 5 0.1"/><body name="box" pos="0 0 1"><freejoint/>
        <geom type="sphere" size=".1" material="mat"/></body></worldbody></mujoco>)";
    ProgressLog log;
    auto run = heavy.Simulate(Pack(crash), NoRender(), log.Callback());
    REQUIRE_FALSE(run.ok());
    INFO(run.status().ToString());
    CHECK(workerpair::ReasonOf(run.status()) == workerpair::ErrorReason::kSceneCrashed);
    CHECK_FALSE(log.Any("attempt "));
  }
  SECTION("a scene MuJoCo refuses: INVALID_ARGUMENT after one attempt") {
    const fs::path bad = scenes.path() / "bad";
    BoxScene(bad, 1);
    std::ofstream(bad / "scene.xml") << "<mujoco><worldbody><body><geom type='nonsense'/>";
    ProgressLog log;
    auto run = heavy.Simulate(Pack(bad), NoRender(), log.Callback());
    REQUIRE_FALSE(run.ok());
    CHECK(absl::IsInvalidArgument(run.status()));
    CHECK_FALSE(log.Any("attempt "));
  }
  CHECK(Serving(*a));
  CHECK(Serving(*b));
}

TEST_CASE("The router prefers the replica that holds the payload: the repeat sends no chunk",
          "[heavy_pool]") {
  TempDir dir;
  auto a = StartHeavy(dir, "a", {"--slots=2"});
  auto b = StartHeavy(dir, "b", {"--slots=2"});
  HeavyClient heavy({a->address(), b->address()});
  auto chunks = [&](const ServerProcess& replica) {
    auto info = heavy.Info(replica.address());
    REQUIRE(info.ok());
    return info->payload_cache().chunks_received();
  };
  TempDir scenes;
  // Without the preference each repeat would land on the other replica half of the time.
  std::set<std::string> first_replicas;
  for (int i = 0; i < 6; ++i) {
    INFO("payload " << i);
    const Payload payload = BoxScene(scenes.path() / std::to_string(i), 0.05 + 0.01 * i);
    auto first = heavy.Simulate(payload, NoRender());
    REQUIRE(first.ok());
    first_replicas.insert(first->replica);
    const std::uint64_t a_chunks = chunks(*a);
    const std::uint64_t b_chunks = chunks(*b);
    auto second = heavy.Simulate(payload, NoRender());
    REQUIRE(second.ok());
    CHECK(second->replica == first->replica);
    CHECK(second->attempts == 1);
    CHECK(chunks(*a) == a_chunks);  // nothing uploaded again, to either replica
    CHECK(chunks(*b) == b_chunks);
  }
}

TEST_CASE("Router::Pick takes the preferred replica only while it is healthy, allowed and has room",
          "[heavy_pool]") {
  using workerpair::controller::AttemptOutcome;
  using workerpair::controller::Router;
  Router router({"a:1", "b:1", "c:1"}, {}, [] { return absl::Now(); }, /*seed=*/7);
  for (const char* replica : {"a:1", "b:1", "c:1"}) router.RecordLoad(replica, {2, 0, 0, 4, false});
  // With room: always the preferred one (the usual choice would spread over all three).
  for (int i = 0; i < 30; ++i) {
    std::optional<std::string> picked = router.Pick({}, "b:1");
    REQUIRE(picked);
    CHECK(*picked == "b:1");
    router.AttemptEnded(*picked, AttemptOutcome::kSucceeded);
  }
  // Full (its report, or this controller's own jobs on it): the usual choice, never b.
  router.RecordLoad("b:1", {2, 2, 0, 4, false});
  for (int i = 0; i < 10; ++i) {
    std::optional<std::string> picked = router.Pick({}, "b:1");
    REQUIRE(picked);
    CHECK(*picked != "b:1");
    router.AttemptEnded(*picked, AttemptOutcome::kSucceeded);
  }
  router.RecordLoad("b:1", {2, 0, 0, 4, false});
  std::optional<std::string> first = router.Pick({}, "b:1");
  std::optional<std::string> second = router.Pick({}, "b:1");
  std::optional<std::string> third = router.Pick({}, "b:1");  // b has 2 of ours in flight
  CHECK(*first == "b:1");
  CHECK(*second == "b:1");
  CHECK(*third != "b:1");
  for (const auto& picked : {first, second, third}) {
    router.AttemptEnded(*picked, AttemptOutcome::kSucceeded);
  }
  // Excluded (it refused this job) or ejected (it failed): not taken.
  std::optional<std::string> other = router.Pick({"b:1"}, "b:1");
  CHECK(*other != "b:1");
  router.AttemptEnded(*other, AttemptOutcome::kSucceeded);
  std::optional<std::string> failing = router.Pick({}, "b:1");
  REQUIRE(*failing == "b:1");
  router.AttemptEnded(*failing, AttemptOutcome::kConnectFailed);
  REQUIRE(router.Ejected("b:1"));
  std::optional<std::string> after = router.Pick({}, "b:1");
  CHECK(*after != "b:1");
  router.AttemptEnded(*after, AttemptOutcome::kSucceeded);
  // A preference that is no member is ignored.
  CHECK(router.Pick({}, "z:1").has_value());
}
