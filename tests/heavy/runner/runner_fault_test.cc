// Runner processes under faults: killed from outside mid-job, a job cancelled mid-compile,
// recycling after N jobs, and what Info says about them.
#include <signal.h>

#include <catch2/catch.hpp>

#include <future>
#include <string>

#include "libs/common/str_cat.h"
#include "tests/heavy/runner/heavy_test_client.h"

namespace workerpair::heavy::testing {
namespace {

// A scene whose compile takes seconds (a large composite grid within the memory limit).
Payload SlowCompileScene(const std::filesystem::path& dir) {
  return PackScene(dir,
                   "<mujoco><worldbody><geom type=\"plane\" size=\"5 5 0.1\"/>"
                   "<composite type=\"grid\" count=\"120 120 1\" spacing=\"0.01\">"
                   "<geom size=\".004\"/></composite></worldbody></mujoco>");
}

TEST_CASE("Runners start warm and sandboxed, and Info says so") {
  Heavy heavy({"--slots=2"});
  REQUIRE(Eventually([&] { return heavy.Info().runners_alive() == 2; }));
  const v1::InfoResponse info = heavy.Info();
  CHECK(info.runners_size() == 2);
  CHECK(info.sandbox().find("landlock") != std::string::npos);
  CHECK(info.sandbox().find("seccomp") != std::string::npos);
  for (const auto& runner : info.runners()) {
    CHECK(runner.state() == "idle");
    CHECK_FALSE(runner.gl_renderer().empty());
    CHECK(runner.rss_bytes() > 0);
  }
  CHECK(heavy.RunnerPids().size() == 2);
}

TEST_CASE("The flag --require_gpu_renderer keeps a replica on a software renderer out of service") {
  const auto software = [](const std::string& renderer) {
    return renderer.empty() || renderer.find("llvmpipe") != std::string::npos ||
           renderer.find("softpipe") != std::string::npos;
  };
  SECTION("required: NOT_SERVING, though alive and answering Info") {
    Heavy heavy({"--slots=1", "--require_gpu_renderer"});
    REQUIRE(Eventually([&] { return heavy.Info().runners_alive() == 1; }));
    const std::string renderer = heavy.Info().gl_renderer();
    if (!software(renderer)) {
      WARN("this machine renders on " << renderer << ": nothing to refuse");
      CHECK(Eventually([&] { return heavy.Serving(); }));
      return;
    }
    // The health status is set once the server starts: give it the time SERVING would take.
    absl::SleepFor(absl::Milliseconds(500));
    CHECK_FALSE(heavy.Serving());
    CHECK(heavy.process().running());
  }
  SECTION("not required (the default): SERVING on the same renderer") {
    Heavy heavy({"--slots=1"});
    CHECK(Eventually([&] { return heavy.Serving(); }));
  }
}

TEST_CASE("A runner killed from outside mid-job: RUNNER_LOST, the slot comes back, others go on") {
  Heavy heavy({"--slots=2"});
  TempDir slow_dir;
  const Payload slow = SlowScene(slow_dir.path());
  std::future<CallResult> good = std::async(std::launch::async, [&heavy] {
    return heavy.Simulate(PackExample("ramp_goal"));
  });
  std::future<CallResult> victim = std::async(std::launch::async, [&heavy, &slow] {
    return heavy.Simulate(slow, Heavy::NoRender(), absl::Seconds(60));
  });
  // Wait until both runners are busy, then kill the one running the slow scene once the good
  // job is over (it is the only busy one then).
  CallResult good_call = good.get();
  INFO("good job: " << good_call.status.error_message());
  CHECK(good_call.status.ok());
  int busy_index = -1;
  REQUIRE(Eventually([&] {
    const v1::InfoResponse info = heavy.Info();
    int busy = 0;
    for (const auto& runner : info.runners()) {
      if (runner.state() == "busy") {
        ++busy;
        busy_index = static_cast<int>(runner.index());
      }
    }
    return busy == 1;
  }));
  const std::map<int, pid_t> pids = heavy.RunnerPids();
  REQUIRE(pids.count(busy_index) == 1);
  REQUIRE(::kill(pids.at(busy_index), SIGKILL) == 0);
  CallResult call = victim.get();
  INFO(call.status.error_message());
  CHECK(call.status.error_code() == grpc::StatusCode::ABORTED);
  CHECK(call.reason == ErrorReason::kRunnerLost);
  CHECK(call.status.error_message().find("killed from outside") != std::string::npos);
  CHECK(Eventually([&] { return heavy.Info().runners_alive() == 2; }));
  CHECK(heavy.Info().runner_restarts().at("lost") == 1);
  CHECK(heavy.RunnerPids().at(busy_index) != pids.at(busy_index));
  CHECK(heavy.Serving());
  CHECK(heavy.Simulate(PackExample("ramp_goal")).status.ok());
}

TEST_CASE("Cancelling a job mid-compile frees its slot within a second") {
  Heavy heavy({"--slots=1", "--queue=0"});
  TempDir dir;
  const Payload payload = SlowCompileScene(dir.path());
  grpc::ClientContext context;
  auto stream = heavy.stub()->Simulate(&context);
  v1::SimulateRequest header;
  header.mutable_header()->mutable_payload()->set_size_bytes(payload.archive.size());
  header.mutable_header()->mutable_payload()->set_sha256(payload.sha256);
  header.mutable_header()->mutable_options()->set_render(false);
  REQUIRE(stream->Write(header));
  v1::SimulateRequest chunk;
  chunk.set_chunk(payload.archive);
  REQUIRE(stream->Write(chunk));
  v1::SimulateResponse event;
  bool started = false;
  while (!started && stream->Read(&event)) started = event.has_started();
  REQUIRE(started);
  // Let the compile get going (it takes several seconds), then cancel.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  REQUIRE(heavy.Info().runners_busy() == 1);
  context.TryCancel();
  const absl::Time cancelled_at = absl::Now();
  while (stream->Read(&event)) {
  }
  CHECK(stream->Finish().error_code() == grpc::StatusCode::CANCELLED);
  CHECK(Eventually([&] { return heavy.Info().running() == 0; }, absl::Seconds(1)));
  INFO("slot free after " << absl::FormatDuration(absl::Now() - cancelled_at));
  CHECK(heavy.Info().runner_restarts().at("cancel") == 1);
  // The slot's runner comes back by itself and takes the next job.
  CHECK(heavy.Simulate(PackExample("ramp_goal")).status.ok());
}

TEST_CASE("A runner is replaced after --runner_max_jobs jobs") {
  Heavy heavy({"--slots=1", "--runner_max_jobs=2"});
  const Payload ramp = PackExample("ramp_goal");
  const pid_t first = heavy.RunnerPids().at(0);
  REQUIRE(heavy.Simulate(ramp).status.ok());
  CHECK(heavy.RunnerPids().at(0) == first);
  REQUIRE(heavy.Simulate(ramp).status.ok());
  CHECK(Eventually([&] {
    auto pids = heavy.RunnerPids();
    return pids.count(0) == 1 && pids.at(0) != first && heavy.Info().runners_alive() == 1;
  }));
  CHECK(heavy.Info().runner_restarts().at("recycle") == 1);
  CHECK(heavy.Simulate(ramp).status.ok());
}

}  // namespace
}  // namespace workerpair::heavy::testing
