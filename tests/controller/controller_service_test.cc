// `controller serve` as a subprocess in front of a real worker-light and worker-heavy on
// loopback, called through the generated ControllerService stub as any other language would.
#include <catch2/catch.hpp>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <sys/wait.h>

#include <grpcpp/grpcpp.h>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "libs/common/bundle.h"
#include "libs/common/error_reason.h"
#include "libs/rpc/grpc_status.h"
#include "services/controller/demo_scene.h"
#include "tests/rpc/exposition_check.h"
#include "tests/support/http_get.h"
#include "tests/support/server_process.h"
#include "workerpair/v1/controller.grpc.pb.h"
#include "workerpair/v1/heavy.grpc.pb.h"

namespace fs = std::filesystem;
namespace v1 = workerpair::v1;
using workerpair::testing::ServerProcess;
using workerpair::testing::TempDir;

namespace {

// A falling box without rendering, `duration_s` simulated seconds at a 0.1 ms timestep.
std::string BoxArchive(const fs::path& dir, double duration_s) {
  fs::create_directories(dir);
  std::ofstream(dir / "manifest.json")
      << R"({"version": 1, "scene": "scene.xml", "simulation": {"duration_s": )" << duration_s
      << R"(, "timestep_s": 0.0001, "target_body": "box"}, "render": {"enabled": false}})";
  std::ofstream(dir / "scene.xml") << R"(<mujoco><worldbody><geom type="plane" size="5 5 0.1"/>
    <body name="box" pos="0 0 0.5"><freejoint/><geom type="box" size="0.1 0.1 0.1"/></body>
    </worldbody></mujoco>)";
  auto packed = workerpair::PackDirectory(dir, {}, workerpair::PackOptions{});
  REQUIRE(packed.ok());
  return packed->archive;
}

struct Pair {
  explicit Pair(std::vector<std::string> serve_flags = {}) {
    auto light_started = ServerProcess::Start(
        WORKERPAIR_LIGHT_BINARY, {"--root=" + (dir.path() / "workspaces").string(),
                                  "--log_level=warn"});
    REQUIRE(light_started.ok());
    light = std::move(*light_started);
    auto heavy_started = ServerProcess::Start(
        WORKERPAIR_HEAVY_BINARY,
        {"--slots=1", "--scratch_dir=" + (dir.path() / "heavy").string(), "--log_level=warn"});
    REQUIRE(heavy_started.ok());
    heavy = std::move(*heavy_started);
    // ServerProcess puts --listen and --port_file first; the global flags must come before
    // `serve`, so a script puts them there and execs (same pid: signals reach the controller).
    const fs::path script = dir.path() / "serve.sh";
    std::ofstream(script) << "#!/bin/sh\nexec " << WORKERPAIR_CONTROLLER_BINARY
                          << " --light=" << light->address() << " --heavy=" << heavy->address()
                          << " serve \"$@\"\n";
    fs::permissions(script, fs::perms::owner_all);
    std::vector<std::string> args = {"--log_level=warn"};
    args.insert(args.end(), serve_flags.begin(), serve_flags.end());
    auto controller_started = ServerProcess::Start(script.string(), args);
    REQUIRE(controller_started.ok());
    controller = std::move(*controller_started);
    stub = v1::ControllerService::NewStub(controller->Channel());
  }

  v1::SubmitJobResponse SubmitSimulation(const std::string& archive, const std::string& caller,
                                         double max_wait_s = 0) {
    grpc::ClientContext context;
    v1::SubmitJobRequest request;
    request.set_caller(caller);
    request.set_max_wait_s(max_wait_s);
    v1::SimulationJobSpec* simulation = request.mutable_spec()->mutable_simulation();
    simulation->mutable_payload()->set_archive(archive);
    simulation->mutable_options()->set_render(false);
    v1::SubmitJobResponse response;
    last_status = stub->SubmitJob(&context, request, &response);
    return response;
  }

  // Watches a job to its end; the finished job.
  v1::Job Watch(const std::string& id, std::vector<v1::JobProgress>* progress = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(2));
    v1::WatchJobRequest request;
    request.set_job_id(id);
    auto reader = stub->WatchJob(&context, request);
    v1::WatchJobResponse event;
    v1::Job finished;
    while (reader->Read(&event)) {
      if (event.has_progress() && progress) progress->push_back(event.progress());
      if (event.has_finished()) finished = event.finished();
    }
    last_status = reader->Finish();
    return finished;
  }

  v1::Job Get(const std::string& id) {
    grpc::ClientContext context;
    v1::GetJobRequest request;
    request.set_job_id(id);
    v1::GetJobResponse response;
    last_status = stub->GetJob(&context, request, &response);
    return response.job();
  }

  v1::Job Cancel(const std::string& id) {
    grpc::ClientContext context;
    v1::CancelJobRequest request;
    request.set_job_id(id);
    v1::CancelJobResponse response;
    last_status = stub->CancelJob(&context, request, &response);
    return response.job();
  }

  // The heavy replica's own view of its slots.
  v1::InfoResponse HeavyInfo() {
    grpc::ClientContext context;
    v1::InfoResponse info;
    REQUIRE(v1::HeavyService::NewStub(heavy->Channel())->Info(&context, {}, &info).ok());
    return info;
  }

  // Polls until `done` holds (true) or about 60 s pass (false).
  template <typename Done>
  static bool Eventually(Done done) {
    for (int i = 0; i < 600; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  TempDir dir;
  std::unique_ptr<ServerProcess> light;
  std::unique_ptr<ServerProcess> heavy;
  std::unique_ptr<ServerProcess> controller;
  std::unique_ptr<v1::ControllerService::Stub> stub;
  grpc::Status last_status;
};

}  // namespace

TEST_CASE("RunSimulation of a caller's payload streams the job id, progress and the result",
          "[controller_service]") {
  Pair pair;
  TempDir scene;
  grpc::ClientContext context;
  v1::RunSimulationRequest request;
  request.mutable_simulation()->mutable_payload()->set_archive(BoxArchive(scene.path(), 1));
  request.mutable_simulation()->mutable_options()->set_render(false);
  request.set_caller("python-agent");
  auto reader = pair.stub->RunSimulation(&context, request);
  v1::RunSimulationResponse event;
  std::string id;
  int progress = 0;
  v1::Job finished;
  while (reader->Read(&event)) {
    if (event.has_submitted()) id = event.submitted().job_id();
    if (event.has_progress()) ++progress;
    if (event.has_finished()) finished = event.finished();
  }
  REQUIRE(reader->Finish().ok());
  CHECK_FALSE(id.empty());
  CHECK(progress > 0);
  CHECK(finished.job_id() == id);
  REQUIRE(finished.state() == v1::JOB_STATE_SUCCEEDED);
  REQUIRE(finished.result().has_simulation());
  CHECK(finished.result().simulation().replica() == pair.heavy->address());
  CHECK(finished.result().simulation().result().outcome() != v1::OUTCOME_UNSPECIFIED);
  // GetJob answers the same afterwards; a bad payload is the worker's error, with its reason.
  grpc::ClientContext get_context;
  v1::GetJobRequest get;
  get.set_job_id(id);
  v1::GetJobResponse got;
  REQUIRE(pair.stub->GetJob(&get_context, get, &got).ok());
  CHECK(got.job().state() == v1::JOB_STATE_SUCCEEDED);
  const std::string bad_id = pair.SubmitSimulation("not a tar.gz", "python-agent").job().job_id();
  REQUIRE(pair.last_status.ok());
  const v1::Job bad = pair.Watch(bad_id);
  CHECK(bad.state() == v1::JOB_STATE_FAILED);
  CHECK(bad.error().code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(bad.error().reason() == "PAYLOAD_INVALID");
}

TEST_CASE("RunFlow runs the whole flow on a workspace through the service",
          "[controller_service]") {
  Pair pair;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(3));
  v1::RunFlowRequest request;
  request.mutable_flow()->set_workspace("agent-7");
  for (const auto& [path, bytes] : workerpair::controller::DemoSceneFiles()) {
    v1::FlowFile* file = request.mutable_flow()->add_files();
    file->set_path(path);
    file->set_content(bytes);
  }
  request.mutable_flow()->mutable_simulate()->set_render(false);
  request.mutable_flow()->set_skip_external_linters(true);
  auto reader = pair.stub->RunFlow(&context, request);
  v1::RunFlowResponse event;
  std::set<std::string> steps;
  v1::Job finished;
  while (reader->Read(&event)) {
    if (event.has_progress()) steps.insert(event.progress().step());
    if (event.has_finished()) finished = event.finished();
  }
  REQUIRE(reader->Finish().ok());
  INFO(finished.error().message());
  REQUIRE(finished.state() == v1::JOB_STATE_SUCCEEDED);
  const v1::FlowJobResult& flow = finished.result().flow();
  CHECK(flow.failed_step().empty());
  CHECK_FALSE(flow.scene_commit().empty());
  CHECK_FALSE(flow.results_commit().empty());
  CHECK(flow.simulate_result().outcome() != v1::OUTCOME_UNSPECIFIED);
  CHECK(steps.count("lint") == 1);
  CHECK(steps.count("simulate") == 1);
  CHECK(fs::exists(pair.dir.path() / "workspaces" / "agent-7" / flow.results_dir() / "result.json"));
}

TEST_CASE("A job survives its caller leaving and is re-attached by id, a full queue refuses, "
          "cancel by id, pool status", "[controller_service]") {
  Pair pair({"--max_running_jobs=1", "--max_queued_jobs=1"});
  TempDir scene;
  const std::string long_job = BoxArchive(scene.path() / "long", 20);  // a few seconds
  std::string id;
  {
    grpc::ClientContext context;
    v1::RunSimulationRequest request;
    request.mutable_simulation()->mutable_payload()->set_archive(long_job);
    auto reader = pair.stub->RunSimulation(&context, request);
    v1::RunSimulationResponse event;
    REQUIRE(reader->Read(&event));
    REQUIRE(event.has_submitted());
    id = event.submitted().job_id();
    context.TryCancel();  // the caller leaves
    while (reader->Read(&event)) {
    }
    reader->Finish();
  }
  // One running, one queued: the third is refused as retryable.
  REQUIRE(Pair::Eventually([&] { return pair.Get(id).state() == v1::JOB_STATE_RUNNING; }));
  const std::string queued = pair.SubmitSimulation(long_job, "b").job().job_id();
  REQUIRE(pair.last_status.ok());
  pair.SubmitSimulation(long_job, "c");
  CHECK(pair.last_status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(workerpair::RetryElsewhere(workerpair::FromGrpcStatus(pair.last_status)));
  {
    grpc::ClientContext context;
    v1::CancelJobRequest cancel;
    cancel.set_job_id(queued);
    v1::CancelJobResponse cancelled;
    REQUIRE(pair.stub->CancelJob(&context, cancel, &cancelled).ok());
    CHECK(cancelled.job().state() == v1::JOB_STATE_CANCELLED);
  }
  {
    grpc::ClientContext context;
    v1::GetPoolStatusResponse status;
    REQUIRE(pair.stub->GetPoolStatus(&context, {}, &status).ok());
    REQUIRE(status.heavy_size() == 1);
    CHECK(status.heavy(0).address() == pair.heavy->address());
    REQUIRE(status.light_size() == 1);
    CHECK(status.light(0).reachable());
    CHECK(status.jobs().rejected_total() == 1);
    CHECK(status.jobs().cancelled_total() == 1);
  }
  std::vector<v1::JobProgress> progress;
  const v1::Job finished = pair.Watch(id, &progress);
  CHECK(pair.last_status.ok());
  CHECK(finished.state() == v1::JOB_STATE_SUCCEEDED);  // ran on after its caller left
  REQUIRE_FALSE(progress.empty());
  CHECK(progress.front().sequence() == 0);
  grpc::ClientContext list_context;
  v1::ListJobsResponse listed;
  REQUIRE(pair.stub->ListJobs(&list_context, {}, &listed).ok());
  CHECK(listed.jobs_size() == 2);
}

TEST_CASE("SIGTERM: queued jobs fail as retryable, the running one finishes",
          "[controller_service]") {
  Pair pair({"--max_running_jobs=1", "--shutdown_grace=60s"});
  TempDir scene;
  const std::string job = BoxArchive(scene.path(), 10);
  const std::string running = pair.SubmitSimulation(job, "a").job().job_id();
  const std::string queued = pair.SubmitSimulation(job, "a").job().job_id();
  REQUIRE(pair.last_status.ok());
  // Attach to both before the signal: the streams end with the jobs.
  std::vector<v1::JobProgress> progress;
  std::thread signal([&] {
    absl::SleepFor(absl::Milliseconds(300));
    pair.controller->Signal(SIGTERM);
  });
  const v1::Job queued_end = pair.Watch(queued);
  signal.join();
  CHECK(queued_end.state() == v1::JOB_STATE_FAILED);
  CHECK(queued_end.error().code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(queued_end.error().reason() == "REPLICA_DRAINING");
  const v1::Job running_end = pair.Watch(running);
  CHECK(running_end.state() == v1::JOB_STATE_SUCCEEDED);
  CHECK(pair.controller->Wait(absl::Seconds(60)) == 0);
}

TEST_CASE("Cancel by id of a running job cancels its heavy call: the replica's slot frees and "
          "the next job runs", "[controller_service]") {
  Pair pair({"--max_running_jobs=2"});
  TempDir scene;
  // 120 simulated seconds at 0.1 ms: far longer than this test waits for anything.
  const std::string endless = BoxArchive(scene.path() / "endless", 120);
  const std::string quick = BoxArchive(scene.path() / "quick", 0.5);
  const std::string id = pair.SubmitSimulation(endless, "a").job().job_id();
  REQUIRE(pair.last_status.ok());
  // Running on the replica: its one slot is taken.
  REQUIRE(Pair::Eventually([&] { return pair.HeavyInfo().running() == 1; }));
  REQUIRE(pair.Get(id).state() == v1::JOB_STATE_RUNNING);
  pair.Cancel(id);
  REQUIRE(pair.last_status.ok());
  const v1::Job cancelled = pair.Watch(id);
  CHECK(cancelled.state() == v1::JOB_STATE_CANCELLED);
  // The replica itself says the slot is free (it killed the job's runner), long before the
  // simulation could have ended on its own.
  CHECK(Pair::Eventually([&] {
    const v1::InfoResponse info = pair.HeavyInfo();
    return info.running() == 0 && info.queued() == 0;
  }));
  const std::string next = pair.SubmitSimulation(quick, "a").job().job_id();
  REQUIRE(pair.last_status.ok());
  const v1::Job finished = pair.Watch(next);
  INFO(finished.error().message());
  CHECK(finished.state() == v1::JOB_STATE_SUCCEEDED);
}

TEST_CASE("Two callers: one floods the queue, the other's job still starts next, a full queue "
          "carries a RetryInfo, a job past its wait limit fails retryable, demand metrics",
          "[controller_service]") {
  Pair pair({"--max_running_jobs=1", "--max_queued_jobs=6", "--metrics_listen=127.0.0.1:0"});
  TempDir scene;
  const std::string endless = BoxArchive(scene.path() / "endless", 120);
  const std::string quick = BoxArchive(scene.path() / "quick", 0.5);
  // The flood: one job runs (held by the endless scene), five wait.
  const std::string blocker = pair.SubmitSimulation(endless, "flood").job().job_id();
  REQUIRE(Pair::Eventually([&] { return pair.Get(blocker).state() == v1::JOB_STATE_RUNNING; }));
  std::vector<std::string> flood;
  for (int i = 0; i < 4; ++i) {
    flood.push_back(pair.SubmitSimulation(quick, "flood").job().job_id());
    REQUIRE(pair.last_status.ok());
  }
  const std::string other = pair.SubmitSimulation(quick, "other").job().job_id();
  REQUIRE(pair.last_status.ok());
  // A job that may wait half a second: it cannot start (the blocker runs), so it fails.
  const std::string impatient = pair.SubmitSimulation(quick, "third", 0.5).job().job_id();
  REQUIRE(pair.last_status.ok());
  const v1::Job expired = pair.Watch(impatient);
  CHECK(expired.state() == v1::JOB_STATE_FAILED);
  CHECK(expired.error().code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(expired.error().reason() == "REPLICA_FULL");
  CHECK(expired.started_at_s() == 0);
  // Six queued now (4 flood + other + one more flood): the next is refused with a retry hint.
  flood.push_back(pair.SubmitSimulation(quick, "flood").job().job_id());
  REQUIRE(pair.last_status.ok());
  pair.SubmitSimulation(quick, "flood");
  REQUIRE(pair.last_status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  google::rpc::Status details;
  REQUIRE(details.ParseFromString(pair.last_status.error_details()));
  bool retry_info = false;
  for (const auto& any : details.details()) {
    retry_info = retry_info || any.type_url() == "type.googleapis.com/google.rpc.RetryInfo";
  }
  CHECK(retry_info);
  // The demand the autoscaler reads: 6 waiting, 1 running, the queue's capacity.
  const std::string metrics = workerpair::testing::HttpGet(pair.controller->metrics_port(), "/metrics");
  CHECK(metrics.find("workerpair_controller_jobs_waiting{kind=\"simulation\"} 6") != std::string::npos);
  CHECK(metrics.find("workerpair_controller_jobs_running{kind=\"simulation\"} 1") != std::string::npos);
  CHECK(metrics.find("workerpair_controller_jobs_waiting{kind=\"flow\"} 0") != std::string::npos);
  CHECK(metrics.find("workerpair_controller_queue_capacity 6") != std::string::npos);
  CHECK(metrics.find("workerpair_controller_jobs_rejected_total{reason=\"queue_full\"} 1") !=
        std::string::npos);
  {
    const std::string page = metrics.substr(std::min(metrics.size(), metrics.find("\r\n\r\n") + 4));
    const std::vector<std::string> problems = workerpair::testing::CheckExposition(page);
    for (const std::string& problem : problems) UNSCOPED_INFO(problem);
    CHECK(problems.empty());
    INFO("promtool check metrics: -1 means promtool is missing (scripts/setup.sh installs it)");
    CHECK(workerpair::testing::PromtoolCheckMetrics(page, (scene.path() / "metrics.txt").string()) == 0);
  }
  // The blocker goes; the other caller's job is the next to start, before the flood's
  // earlier-queued ones.
  pair.Cancel(blocker);
  const v1::Job other_end = pair.Watch(other);
  INFO(other_end.error().message());
  REQUIRE(other_end.state() == v1::JOB_STATE_SUCCEEDED);
  int flood_started_before_other = 0;
  for (const std::string& id : flood) {
    const v1::Job job = pair.Watch(id);
    CHECK(job.state() == v1::JOB_STATE_SUCCEEDED);
    if (job.started_at_s() < other_end.started_at_s()) ++flood_started_before_other;
  }
  CHECK(flood_started_before_other == 0);
}

TEST_CASE("Verify and render_views and build_scene jobs of a caller payload run on the pool",
          "[controller_service]") {
  Pair pair({"--max_running_jobs=3"});
  TempDir scene;
  const std::string archive = BoxArchive(scene.path(), 0.3);
  auto submit = [&](const v1::JobSpec& spec) {
    grpc::ClientContext context;
    v1::SubmitJobRequest request;
    *request.mutable_spec() = spec;
    v1::SubmitJobResponse response;
    REQUIRE(pair.stub->SubmitJob(&context, request, &response).ok());
    return response.job();
  };
  v1::JobSpec verify;
  verify.mutable_verify()->mutable_payload()->set_archive(archive);
  verify.mutable_verify()->set_runs(3);
  v1::JobSpec render;
  render.mutable_render_views()->mutable_payload()->set_archive(archive);
  render.mutable_render_views()->mutable_options()->set_azimuth_count(2);
  render.mutable_render_views()->mutable_options()->set_width(64);
  render.mutable_render_views()->mutable_options()->set_height(48);
  v1::JobSpec build;
  build.mutable_build_scene()->mutable_payload()->set_archive(archive);
  build.mutable_build_scene()->set_return_mjcf(true);
  const v1::Job verify_job = submit(verify);
  const v1::Job render_job = submit(render);
  const v1::Job build_job = submit(build);
  CHECK(verify_job.kind() == "verify");
  CHECK(render_job.kind() == "render_views");
  CHECK(build_job.kind() == "build_scene");

  const v1::Job verified = pair.Watch(verify_job.job_id());
  INFO(verified.error().message());
  REQUIRE(verified.state() == v1::JOB_STATE_SUCCEEDED);
  CHECK(verified.result().verify().result().runs_size() == 3);
  CHECK(verified.result().verify().replicas_size() == 1);

  const v1::Job built = pair.Watch(build_job.job_id());
  INFO(built.error().message());
  REQUIRE(built.state() == v1::JOB_STATE_SUCCEEDED);
  CHECK(built.result().build_scene().build().stats().bodies() >= 1);
  CHECK(built.result().build_scene().replica() == pair.heavy->address());

  const v1::Job rendered = pair.Watch(render_job.job_id());
  INFO(rendered.error().message());
  REQUIRE(rendered.state() == v1::JOB_STATE_SUCCEEDED);
  REQUIRE(rendered.result().render_views().views_size() >= 1);
  CHECK(rendered.result().render_views().views(0).png().empty());  // no include_artifacts
  grpc::ClientContext context;
  v1::GetJobRequest get;
  get.set_job_id(render_job.job_id());
  get.set_include_artifacts(true);
  v1::GetJobResponse with_images;
  REQUIRE(pair.stub->GetJob(&context, get, &with_images).ok());
  CHECK_FALSE(with_images.job().result().render_views().views(0).png().empty());

  // A spec with a bad field is refused at once, naming it.
  v1::JobSpec bad;
  bad.mutable_verify()->mutable_payload()->set_archive(archive);
  bad.mutable_verify()->set_runs(5000);
  grpc::ClientContext bad_context;
  v1::SubmitJobRequest bad_request;
  *bad_request.mutable_spec() = bad;
  v1::SubmitJobResponse ignored;
  const grpc::Status refused = pair.stub->SubmitJob(&bad_context, bad_request, &ignored);
  CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(refused.error_message().find("verify.runs") != std::string::npos);
}

TEST_CASE("serve takes its own server TLS from --serve_tls_*: a missing certificate stops it",
          "[controller_service]") {
  // The global --tls_* are the CLI's client settings; the server's are --serve_tls_*.
  const std::string command = std::string(WORKERPAIR_CONTROLLER_BINARY) +
                              " serve --serve_tls_cert=/nonexistent/cert.pem "
                              "--serve_tls_key=/nonexistent/key.pem >/dev/null 2>&1";
  const int status = std::system(command.c_str());
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) != 0);
}
