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

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "libs/common/bundle.h"
#include "tests/support/http_get.h"
#include "tests/support/server_process.h"
#include "workerpair/v1/controller.grpc.pb.h"

namespace fs = std::filesystem;
namespace v1 = workerpair::v1;
using workerpair::testing::ServerProcess;
using workerpair::testing::TempDir;

namespace {

constexpr char kName[] = "heavy-zero.test";

fs::path g_hosts_file;
std::string g_setup_error;

void WriteHosts(const std::vector<std::string>& addresses) {
  // Rewritten in place: the bind mount follows the inode, not the name.
  std::ofstream out(g_hosts_file, std::ios::trunc);
  out << "127.0.0.1 localhost\n";
  for (const std::string& address : addresses) out << address << " " << kName << "\n";
}

std::string SetUpPrivateHosts() {
  if (geteuid() != 0) return "needs root (a private mount namespace and a bind mount)";
  if (unshare(CLONE_NEWNS) != 0) return std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno);
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return std::string("making / private: ") + std::strerror(errno);
  }
  char pattern[] = "/tmp/wp-scale-zero-XXXXXX";
  if (mkdtemp(pattern) == nullptr) return std::string("mkdtemp: ") + std::strerror(errno);
  g_hosts_file = fs::path(pattern) / "hosts";
  WriteHosts({});
  if (mount(g_hosts_file.c_str(), "/etc/hosts", nullptr, MS_BIND, nullptr) != 0) {
    return std::string("bind-mounting over /etc/hosts: ") + std::strerror(errno);
  }
  return "";
}

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_ANY);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  socklen_t size = sizeof(address);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0);
  close(fd);
  return ntohs(address.sin_port);
}

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
  INFO(g_setup_error);
  REQUIRE(g_setup_error.empty());
  const int port = FreePort();
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
  WriteHosts({"127.0.0.2"});

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
  g_setup_error = SetUpPrivateHosts();
  const int result = Catch::Session().run(argc, argv);
  if (!g_hosts_file.empty()) {
    umount("/etc/hosts");
    std::error_code ignored;
    fs::remove_all(g_hosts_file.parent_path(), ignored);
  }
  return result;
}
