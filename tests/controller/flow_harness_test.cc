// The integration harness: one worker-light and two worker-heavy processes on loopback, driven
// through the controller library the way `controller run` drives them.
#include <catch2/catch.hpp>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "libs/common/bundle.h"
#include "libs/common/str_cat.h"
#include "services/controller/demo_scene.h"
#include "services/controller/flow.h"
#include "tests/support/server_process.h"

namespace fs = std::filesystem;
namespace v1 = workerpair::v1;
using workerpair::controller::FlowMode;
using workerpair::controller::FlowReport;
using workerpair::controller::FlowRequest;
using workerpair::controller::HeavyClient;
using workerpair::controller::HeavyClientOptions;
using workerpair::controller::HeavyProgress;
using workerpair::controller::LightClient;
using workerpair::controller::Payload;
using workerpair::testing::ServerProcess;
using workerpair::testing::TempDir;

namespace {

std::string ReadLocal(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

HeavyClientOptions FastRetries() {
  HeavyClientOptions options;
  options.failover.initial_backoff = absl::Milliseconds(10);
  options.failover.max_backoff = absl::Milliseconds(50);
  options.attempt_deadline = absl::Seconds(300);
  return options;
}

// A scene that keeps a slot busy for a while and reports progress often.
std::vector<std::pair<std::string, std::string>> SlowSceneFiles(double duration_s) {
  return {{"manifest.json",
           workerpair::StrCat(R"({"version": 1, "scene": "scene.xml",
    "simulation": {"duration_s": )",
                              duration_s, R"(, "timestep_s": 0.0001, "target_body": "box"},
    "render": {"enabled": false}})")},
          {"scene.xml", R"(<mujoco><worldbody><geom type="plane" size="5 5 0.1"/>
    <body name="box" pos="0 0 0.5"><freejoint/><geom type="box" size="0.1 0.1 0.1"/></body>
    </worldbody></mujoco>)"}};
}

Payload Pack(const fs::path& dir, const std::vector<std::pair<std::string, std::string>>& files) {
  for (const auto& [path, content] : files) {
    fs::create_directories((dir / path).parent_path());
    std::ofstream(dir / path, std::ios::binary) << content;
  }
  auto packed = workerpair::PackDirectory(dir, {}, workerpair::PackOptions{});
  REQUIRE(packed.ok());
  return {packed->archive, packed->sha256};
}

// One worker-light and two worker-heavy replicas with one slot each.
struct Harness {
  Harness() {
    auto started = ServerProcess::Start(
        WORKERPAIR_LIGHT_BINARY, {"--root=" + (dir.path() / "workspaces").string(),
                                  "--log_level=warn"});
    REQUIRE(started.ok());
    light_process = std::move(*started);
    for (const char* name : {"a", "b"}) {
      auto heavy = ServerProcess::Start(
          WORKERPAIR_HEAVY_BINARY, {"--slots=1", "--scratch_dir=" + (dir.path() / name).string(),
                                    "--log_level=warn"});
      REQUIRE(heavy.ok());
      heavies.push_back(std::move(*heavy));
    }
    fs::create_directories(dir.path() / "workspaces");
  }

  std::vector<std::string> HeavyAddresses() const {
    return {heavies[0]->address(), heavies[1]->address()};
  }
  fs::path Workspace(const std::string& name) const { return dir.path() / "workspaces" / name; }

  TempDir dir;
  std::unique_ptr<ServerProcess> light_process;
  std::vector<std::unique_ptr<ServerProcess>> heavies;
};

std::vector<v1::GitLogEntry> GitLog(LightClient& light, const std::string& workspace) {
  v1::GitLogRequest request;
  request.set_workspace(workspace);
  auto log = light.Call(light.git(), &v1::LightGitService::Stub::GitLog, request);
  REQUIRE(log.ok());
  return {log->entries().begin(), log->entries().end()};
}

// The codec of the first video stream, as ffprobe sees it ("" when it cannot read the file).
std::string VideoCodec(const fs::path& video) {
  const std::string command = workerpair::StrCat(
      "ffprobe -v error -select_streams v:0 -show_entries stream=codec_name -of csv=p=0 '",
      video.string(), "' 2>/dev/null");
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return "";
  char buffer[64] = {};
  std::string out = std::fgets(buffer, sizeof(buffer), pipe) ? buffer : "";
  ::pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace

TEST_CASE("The flow takes the demo scene to a committed, playable result", "[harness]") {
  Harness harness;
  LightClient light(harness.light_process->Channel());
  HeavyClient heavy(harness.HeavyAddresses(), FastRetries());
  FlowRequest request;
  request.workspace = "demo";
  request.files = workerpair::controller::DemoSceneFiles();
  request.run_name = "first";
  std::vector<std::string> steps_seen;
  FlowReport report = RunFlow(light, heavy, request, [&](const auto& progress) {
    if (steps_seen.empty() || steps_seen.back() != progress.step) {
      steps_seen.push_back(progress.step);
    }
  });
  INFO(report.failed_step << ": " << report.status);
  REQUIRE(report.status.ok());
  CHECK(report.succeeded());
  CHECK(steps_seen == std::vector<std::string>{"write", "lint", "topology", "commit", "bundle",
                                               "build", "simulate", "results",
                                               "commit-results"});
  REQUIRE(report.simulate_result.has_value());
  CHECK(report.simulate_result->outcome() == v1::OUTCOME_SUCCESS);
  CHECK(report.attempts == 1);

  const fs::path results = harness.Workspace("demo") / "results" / "first";
  CHECK(VideoCodec(results / "video.mp4") == "h264");
  for (const char* heatmap : {"heatmap_parts.png", "heatmap_topdown.png"}) {
    CHECK(ReadLocal(results / heatmap).substr(1, 3) == "PNG");
  }
  CHECK(ReadLocal(results / "result.json").find("SUCCESS") != std::string::npos);
  const auto flow = nlohmann::json::parse(ReadLocal(results / "flow.json"));
  CHECK(flow["succeeded"] == true);
  CHECK(flow["simulateResult"]["outcome"] == "OUTCOME_SUCCESS");
  CHECK(flow["sceneCommit"] == report.scene_commit);
  CHECK(flow["steps"].size() == 7);  // written during the results step

  // Two commits: the scene, then its results; the results commit holds only results/first.
  const auto log = GitLog(light, "demo");
  REQUIRE(log.size() == 2);
  CHECK(log[0].hash() == report.results_commit);
  CHECK(log[1].hash() == report.scene_commit);
  CHECK(log[0].summary().rfind("Results of first", 0) == 0);

  // Running again on the unchanged scene reuses the scene commit; a taken run name is refused
  // and nothing is overwritten.
  FlowRequest again;
  again.workspace = "demo";
  again.run_name = "first";
  again.simulate.set_render(false);
  FlowReport repeat = RunFlow(light, heavy, again);
  CHECK(repeat.failed_step == "results");
  CHECK(repeat.status.code() == absl::StatusCode::kAlreadyExists);
  CHECK(repeat.scene_commit == report.results_commit);  // HEAD, which holds the same scene
  CHECK(VideoCodec(results / "video.mp4") == "h264");
}

TEST_CASE("A verify through the flow is spread over both replicas", "[harness]") {
  Harness harness;
  LightClient light(harness.light_process->Channel());
  HeavyClient heavy(harness.HeavyAddresses(), FastRetries());
  FlowRequest request;
  request.workspace = "verify";
  request.files = workerpair::controller::DemoSceneFiles();
  request.mode = FlowMode::kVerify;
  request.verify_runs = 8;  // no base seed: the manifest's simulation.seed (1) is run 0's
  FlowReport report = RunFlow(light, heavy, request);
  INFO(report.failed_step << ": " << report.status);
  REQUIRE(report.status.ok());
  REQUIRE(report.verify_result.has_value());
  REQUIRE(report.verify_result->runs_size() == 8);
  for (int i = 0; i < 8; ++i) CHECK(report.verify_result->runs(i).seed() == 1u + i);
  CHECK(std::set<std::string>(report.replicas.begin(), report.replicas.end()).size() == 2);
  const auto result = nlohmann::json::parse(
      ReadLocal(harness.Workspace("verify") / report.results_dir / "result.json"));
  CHECK(result["result"]["runs"].size() == 8);
  CHECK(result["requestId"] == report.request_id);
}

TEST_CASE("A bad scene stops the flow with its diagnostics, and the workspace keeps its files and "
          "history",
          "[harness]") {
  Harness harness;
  LightClient light(harness.light_process->Channel());
  HeavyClient heavy(harness.HeavyAddresses(), FastRetries());
  REQUIRE(light.CreateWorkspace("agent", false).ok());
  v1::GitInitRequest init;
  init.set_workspace("agent");
  REQUIRE(light.Call(light.git(), &v1::LightGitService::Stub::GitInit, init).ok());
  REQUIRE(light.WriteFile("agent", "notes.md", "design notes\n", false).ok());
  v1::GitCommitRequest commit;
  commit.set_workspace("agent");
  commit.set_message("Notes");
  commit.mutable_author()->set_name("agent");
  commit.mutable_author()->set_email("agent@example.invalid");
  REQUIRE(light.Call(light.git(), &v1::LightGitService::Stub::GitCommit, commit).ok());
  // Uncommitted work the flow must not lose.
  REQUIRE(light.WriteFile("agent", "scene.xml", "<mujoco><!-- draft --></mujoco>\n", false).ok());

  SECTION("malformed MJCF stops at lint") {
    FlowRequest request;
    request.workspace = "agent";
    request.files = workerpair::controller::DemoSceneFiles();
    for (auto& [path, content] : request.files) {
      if (path == "scene.xml") content = "<mujoco>\n  <worldbody>\n    <body name=\"b\">\n</mujoco>\n";
    }
    FlowReport report = RunFlow(light, heavy, request);
    CHECK(report.failed_step == "lint");
    CHECK(report.status.code() == absl::StatusCode::kInvalidArgument);
    REQUIRE_FALSE(report.diagnostics.empty());
    CHECK(report.diagnostics[0].path() == "scene.xml");
    CHECK(report.diagnostics[0].line() > 0);
    CHECK(report.payload_sha256.empty());  // nothing went to worker-heavy
  }
  SECTION("a scene MuJoCo rejects stops at build") {
    FlowRequest request;
    request.workspace = "agent";
    request.files = {{"manifest.json", R"({"version": 1, "scene": "scene.xml"})"},
                     {"scene.xml", R"(<mujoco><worldbody><body name="outer" pos="0 0 1">
  <geom type="sphere" size="0.1"/>
  <body name="inner"><freejoint/><geom type="sphere" size="0.1"/></body>
</body></worldbody></mujoco>
)"}};
    FlowReport report = RunFlow(light, heavy, request);
    CHECK(report.failed_step == "build");
    CHECK(report.status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(report.status.message().find("free joint") != std::string_view::npos);
  }
  // The flow's files are on disk, the earlier history is intact, and the uncommitted draft was
  // saved in a snapshot commit before being overwritten.
  CHECK(ReadLocal(harness.Workspace("agent") / "notes.md") == "design notes\n");
  CHECK(fs::exists(harness.Workspace("agent") / "manifest.json"));
  const auto log = GitLog(light, "agent");
  REQUIRE(log.size() >= 2);
  CHECK(log.back().summary() == "Notes");
  CHECK(log[log.size() - 2].summary().rfind("Snapshot of uncommitted work", 0) == 0);
  CHECK_FALSE(fs::exists(harness.Workspace("agent") / "results"));
}

TEST_CASE("A heavy replica killed mid-job: the job completes on the other", "[harness]") {
  Harness harness;
  TempDir scene_dir;
  const Payload payload = Pack(scene_dir.path(), SlowSceneFiles(20));
  HeavyClient heavy(harness.HeavyAddresses(), FastRetries());
  v1::SimulateOptions options;
  options.set_progress_interval_s(0.5);
  std::string killed;
  auto run = heavy.Simulate(payload, options, [&](const HeavyProgress& progress) {
    // Kill the first replica as soon as its simulation is under way.
    if (!killed.empty() || progress.summary.rfind("simulated", 0) != 0) return;
    for (auto& process : harness.heavies) {
      if (process->address() == progress.replica) process->Signal(SIGKILL);
    }
    killed = progress.replica;
  });
  REQUIRE_FALSE(killed.empty());
  INFO(run.status());
  REQUIRE(run.ok());
  CHECK(run->replica != killed);
  CHECK(run->attempts == 2);
  CHECK(run->value.result.metrics().sim_time_s() == Approx(20).margin(0.01));
}

TEST_CASE("worker-light answers file calls while both heavy replicas are saturated",
          "[harness]") {
  Harness harness;
  TempDir scene_dir;
  const Payload payload = Pack(scene_dir.path(), SlowSceneFiles(600));
  // One long job per replica (each has one slot), each through a client bound to it.
  std::vector<std::thread> jobs;
  std::atomic<int> running{0};
  std::vector<std::unique_ptr<HeavyClient>> clients;
  for (const std::string& address : harness.HeavyAddresses()) {
    HeavyClientOptions options = FastRetries();
    options.failover.max_attempts = 1;
    clients.push_back(std::make_unique<HeavyClient>(std::vector<std::string>{address}, options));
    HeavyClient* client = clients.back().get();
    jobs.emplace_back([client, &payload, &running] {
      v1::SimulateOptions job_options;
      job_options.set_progress_interval_s(0.2);
      bool counted = false;
      (void)client->Simulate(payload, job_options, [&](const HeavyProgress& progress) {
        if (!counted && progress.summary.rfind("simulated", 0) == 0) {
          counted = true;
          ++running;
        }
      });
    });
  }
  for (int i = 0; i < 600 && running < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(running == 2);
  HeavyClient probe(harness.HeavyAddresses());
  for (const std::string& address : harness.HeavyAddresses()) {
    auto info = probe.Info(address);
    REQUIRE(info.ok());
    CHECK(info->running() == info->slots());
  }

  LightClient light(harness.light_process->Channel(), absl::Seconds(5));
  REQUIRE(light.CreateWorkspace("busy", false).ok());
  const auto scene = workerpair::controller::DemoSceneFiles();
  for (const auto& [path, content] : scene) {
    REQUIRE(light.WriteFile("busy", path, content, true).ok());
  }
  for (int i = 0; i < 20; ++i) {
    v1::ReadFileRequest read;
    read.set_workspace("busy");
    read.set_path("scene.xml");
    auto content = light.ReadFile(read);
    REQUIRE(content.ok());
    v1::LintFileRequest lint;
    lint.set_workspace("busy");
    lint.set_path("scene.xml");
    lint.set_skip_external(true);
    auto linted = light.Call(light.lint(), &v1::LightLintService::Stub::LintFile, lint);
    REQUIRE(linted.ok());
    CHECK(linted->result().error_count() == 0);
  }
  for (auto& process : harness.heavies) process->Signal(SIGKILL);
  for (auto& job : jobs) job.join();
}

TEST_CASE("An assembly manifest is validated part by part before it is simulated", "[harness]") {
  Harness harness;
  LightClient light(harness.light_process->Channel());
  HeavyClient heavy(harness.HeavyAddresses(), FastRetries());
  const fs::path example = fs::path(WORKERPAIR_SOURCE_DIR) / "examples/scenes/assembly_goal";
  FlowRequest request;
  request.workspace = "assembly";
  for (const char* path : {"manifest.json", "meshes/ramp.stl", "meshes/ball.stl"}) {
    request.files.emplace_back(path, ReadLocal(example / path));
  }
  request.simulate.set_render(false);
  FlowReport report = RunFlow(light, heavy, request);
  INFO(report.failed_step << ": " << report.status);
  REQUIRE(report.status.ok());
  REQUIRE(report.steps.size() > 2);
  CHECK(report.steps[2].name == "topology");
  CHECK(report.steps[2].summary.rfind("2 assembly part(s) valid", 0) == 0);

  // Parts placed inside each other fail the topology step before anything is simulated.
  std::string overlapping = ReadLocal(example / "manifest.json");
  const std::string ball_pos = R"("pos": [0.12, 0, 0.56])";
  REQUIRE(overlapping.find(ball_pos) != std::string::npos);
  overlapping.replace(overlapping.find(ball_pos), ball_pos.size(), R"("pos": [0, 0, 0.1])");
  FlowRequest bad;
  bad.workspace = "assembly";
  bad.files = {{"manifest.json", overlapping}};
  FlowReport stopped = RunFlow(light, heavy, bad);
  CHECK(stopped.failed_step == "topology");
  CHECK(stopped.payload_sha256.empty());
}
