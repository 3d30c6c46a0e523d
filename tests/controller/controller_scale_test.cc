// `controller serve` in front of a dns:/// heavy pool that starts at zero replicas, as a
// Kubernetes headless Service whose worker-heavy Deployment was scaled to zero: a job waits in
// the controller (counted in workerpair_controller_jobs_waiting, the autoscaler's signal), a
// replica starts and the name resolves to it, the job runs.
//
// For real, without a DNS server: main() moves this process into a private mount namespace
// (root) and bind-mounts a hosts file of its own over /etc/hosts (as dns_pool_test.cc); the
// controller and the replica it starts inherit the namespace.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "libs/common/bundle.h"
#include "tests/support/http_get.h"
#include "tests/support/private_hosts.h"
#include "tests/support/server_process.h"
#include "workerpair/v1/controller.grpc.pb.h"

namespace fs = std::filesystem;
namespace v1 = workerpair::v1;
using workerpair::testing::ServerProcess;
using workerpair::testing::TempDir;

namespace {

constexpr char kName[] = "heavy-zero.test";

// Set by main(): the hosts file over /etc/hosts, or why there is none.
workerpair::testing::PrivateHosts* g_hosts = nullptr;

std::string BoxArchive(const fs::path& dir) {
  fs::create_directories(dir);
  std::ofstream(dir / "manifest.json")
      << R"({"version": 1, "scene": "scene.xml", "simulation": {"duration_s": 0.5,
      "timestep_s": 0.0001, "target_body": "box"}, "render": {"enabled": false}})";
  std::ofstream(dir / "scene.xml") << R"(<mujoco><worldbody><geom type="plane" size="5 5 0.1"/>
    <body name="box" pos="0 0 0.5"><freejoint/><geom type="box" size="0.1 0.1 0.1"/></body>
    </worldbody></mujoco>)";
  auto packed = workerpair::PackDirectory(dir, {}, workerpair::PackOptions{});
  REQUIRE(packed.ok());
  return packed->archive;
}

// The value of one metric line (`name{labels} value`), -1 when absent.
double MetricValue(const std::string& page, const std::string& series) {
  const std::size_t at = page.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(page.substr(at + series.size() + 2));
}

}  // namespace

TEST_CASE("Scale from zero: a job waits while the pool has no replica, counted as demand, a "
          "replica appears and the job runs", "[controller_scale]") {
  INFO(g_hosts->setup_error());
  REQUIRE(g_hosts->setup_error().empty());
  const int port = workerpair::testing::FreePortOnAllAddresses();
  REQUIRE(port > 0);
  TempDir dir;
  const fs::path script = dir.path() / "serve.sh";
  std::ofstream(script) << "#!/bin/sh\nexec " << WORKERPAIR_CONTROLLER_BINARY
                        << " --heavy=dns:///" << kName << ":" << port
                        << " --resolve_interval_s=1 --wait_s=120 serve \"$@\"\n";
  fs::permissions(script, fs::perms::owner_all);
  auto controller = ServerProcess::Start(
      script.string(), {"--log_level=warn", "--metrics_listen=127.0.0.1:0"});
  REQUIRE(controller.ok());
  auto stub = v1::ControllerService::NewStub((*controller)->Channel());

  grpc::ClientContext submit_context;
  v1::SubmitJobRequest submit;
  submit.mutable_spec()->mutable_simulation()->mutable_payload()->set_archive(
      BoxArchive(dir.path() / "scene"));
  submit.mutable_spec()->mutable_simulation()->mutable_options()->set_render(false);
  v1::SubmitJobResponse submitted;
  REQUIRE(stub->SubmitJob(&submit_context, submit, &submitted).ok());
  const std::string id = submitted.job().job_id();

  // No replica: the job waits, and the controller says so where the autoscaler looks.
  const std::string waiting = "workerpair_controller_jobs_waiting{kind=\"simulation\"}";
  bool seen_waiting = false;
  for (int i = 0; i < 100 && !seen_waiting; ++i) {
    const std::string page = workerpair::testing::HttpGet((*controller)->metrics_port(), "/metrics");
    seen_waiting = MetricValue(page, waiting) == 1;
    if (!seen_waiting) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(seen_waiting);
  {
    grpc::ClientContext context;
    v1::GetPoolStatusResponse status;
    REQUIRE(stub->GetPoolStatus(&context, {}, &status).ok());
    CHECK(status.heavy_size() == 0);
    CHECK(status.jobs().waiting_for_capacity() == 1);
    grpc::ClientContext get_context;
    v1::GetJobRequest get;
    get.set_job_id(id);
    v1::GetJobResponse got;
    REQUIRE(stub->GetJob(&get_context, get, &got).ok());
    CHECK(got.job().state() == v1::JOB_STATE_RUNNING);  // started, waiting for a slot
  }

  // The autoscaler adds a pod: it starts, then the name resolves to it.
  auto heavy = ServerProcess::Start(
      WORKERPAIR_HEAVY_BINARY, {"--listen=127.0.0.2:" + std::to_string(port), "--slots=1",
                                "--log_level=warn",
                                "--scratch_dir=" + (dir.path() / "heavy").string()});
  REQUIRE(heavy.ok());
  g_hosts->Write({"127.0.0.2"});

  grpc::ClientContext watch_context;
  watch_context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(2));
  v1::WatchJobRequest watch;
  watch.set_job_id(id);
  auto reader = stub->WatchJob(&watch_context, watch);
  v1::WatchJobResponse event;
  v1::Job finished;
  bool saw_pool_empty = false;
  while (reader->Read(&event)) {
    if (event.has_progress() && event.progress().line().find("pool empty") != std::string::npos) {
      saw_pool_empty = true;
    }
    if (event.has_finished()) finished = event.finished();
  }
  REQUIRE(reader->Finish().ok());
  INFO(finished.error().message());
  CHECK(saw_pool_empty);
  REQUIRE(finished.state() == v1::JOB_STATE_SUCCEEDED);
  CHECK(finished.result().simulation().replica() == "127.0.0.2:" + std::to_string(port));
  const std::string page = workerpair::testing::HttpGet((*controller)->metrics_port(), "/metrics");
  CHECK(MetricValue(page, waiting) == 0);
  CHECK(MetricValue(page, "workerpair_controller_jobs_running{kind=\"simulation\"}") == 0);
}

int main(int argc, char** argv) {
  // First, while this is the only thread: the namespace is inherited by every later thread
  // and child process.
  workerpair::testing::PrivateHosts hosts(kName);
  g_hosts = &hosts;
  return Catch::Session().run(argc, argv);
}
