// Every /metrics endpoint passes `promtool check metrics` (run when promtool is installed) and
// the same checks written out (exposition_check.h); label values stay in known sets whatever
// callers send; build info, process metrics and each service's capacity series are there.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <regex>
#include <string>

#include "libs/common/metrics.h"
#include "tests/rpc/exposition_check.h"
#include "tests/support/http_get.h"
#include "tests/support/server_process.h"
#include "workerpair/v1/light_files.grpc.pb.h"

using workerpair::MetricsRegistry;
using workerpair::testing::CheckExposition;
using workerpair::testing::HttpGet;

namespace {

// The page's body (after the HTTP header).
std::string Body(const std::string& response) {
  const std::size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? response : response.substr(end + 4);
}

// The value of the first sample line starting with `prefix` followed by a space; NaN when none.
double Sample(const std::string& page, const std::string& prefix) {
  const std::size_t at = page.find("\n" + prefix + " ");
  if (at == std::string::npos) return NAN;
  return std::strtod(page.c_str() + at + prefix.size() + 2, nullptr);
}

void CheckPage(const std::string& page) {
  const std::vector<std::string> problems = CheckExposition(page);
  for (const std::string& problem : problems) UNSCOPED_INFO(problem);
  CHECK(problems.empty());
  workerpair::testing::TempDir dir;
  INFO("promtool check metrics: -1 means promtool is missing (scripts/setup.sh installs prometheus)");
  CHECK(workerpair::testing::PromtoolCheckMetrics(page, (dir.path() / "metrics.txt").string()) == 0);
}

// A call to a path the server may not serve; returns its status code.
grpc::StatusCode CallPath(const std::shared_ptr<grpc::Channel>& channel, const std::string& path) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue queue;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::ByteBuffer request, response;
  auto call = stub.PrepareUnaryCall(&context, path, request, &queue);
  call->StartCall();
  grpc::Status status;
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  REQUIRE(queue.Next(&tag, &ok));
  return status.error_code();
}

// Build info and process metrics, with plausible values.
void CheckProcessSeries(const std::string& page) {
  CHECK(std::regex_search(page, std::regex("\nworkerpair_build_info\\{version=\"[0-9]+\\.[0-9]+"
                                           "\\.[0-9]+\",commit=\"([0-9a-f]+|unknown)\"\\} 1\n")));
  CHECK(Sample(page, "process_cpu_seconds_total") >= 0);
  CHECK(Sample(page, "process_resident_memory_bytes") > 1 << 20);
  CHECK(Sample(page, "process_virtual_memory_bytes") > Sample(page, "process_resident_memory_bytes"));
  CHECK(Sample(page, "process_open_fds") >= 3);
  CHECK(Sample(page, "process_max_fds") >= Sample(page, "process_open_fds"));
  CHECK(Sample(page, "process_threads") >= 2);
  const double now = static_cast<double>(std::time(nullptr));
  CHECK(Sample(page, "process_start_time_seconds") > now - 3600);
  CHECK(Sample(page, "process_start_time_seconds") <= now + 1);
}

}  // namespace

TEST_CASE("Histogram bounds are written in their shortest form", "[metrics]") {
  MetricsRegistry registry;
  registry.AddHistogram("latency_seconds", "Latency.", {}, MetricsRegistry::LatencyBuckets())
      ->Observe({}, 0.07);
  const std::string page = registry.Render();
  CHECK(page.find("latency_seconds_bucket{le=\"0.05\"} 0\n") != std::string::npos);
  CHECK(page.find("latency_seconds_bucket{le=\"0.0001\"} 0\n") != std::string::npos);
  CHECK(page.find("latency_seconds_bucket{le=\"0.1\"} 1\n") != std::string::npos);
  CHECK(page.find("latency_seconds_bucket{le=\"600\"} 1\n") != std::string::npos);
  CHECK(page.find("latency_seconds_sum 0.07\n") != std::string::npos);
  CHECK(CheckExposition(page).empty());
}

TEST_CASE("Values are written in full where that is short, with an exponent where not",
          "[metrics]") {
  MetricsRegistry registry;
  auto* values = registry.AddGauge("value", "Values.", {"which"});
  values->Set({"bytes"}, 20783104);
  values->Set({"time"}, 1796128913.59);
  values->Set({"tiny"}, 1e-40);
  values->Set({"huge"}, 1e300);
  const std::string page = registry.Render();
  CHECK(page.find("value{which=\"bytes\"} 20783104\n") != std::string::npos);
  CHECK(page.find("value{which=\"time\"} 1796128913.59\n") != std::string::npos);
  CHECK(page.find("value{which=\"tiny\"} 1e-40\n") != std::string::npos);
  CHECK(page.find("value{which=\"huge\"} 1e+300\n") != std::string::npos);
}

TEST_CASE("The exposition checks catch what promtool would", "[metrics]") {
  CHECK_FALSE(CheckExposition("# HELP a_total A.\n# TYPE a_total counter\na_total 1\na_total 2\n")
                  .empty());  // duplicate series
  CHECK_FALSE(CheckExposition("# HELP a A.\n# TYPE a counter\na 1\n").empty());  // no _total
  CHECK_FALSE(CheckExposition("# HELP a_total A.\n# TYPE a_total gauge\na_total 1\n").empty());
  CHECK_FALSE(CheckExposition("a 1\n").empty());  // no HELP/TYPE
  CHECK_FALSE(CheckExposition("# HELP a A.\n# TYPE a gauge\na{x=\"1} 1\n").empty());
  CHECK_FALSE(CheckExposition("# HELP a A.\n# TYPE a gauge\na{1x=\"1\"} 1\n").empty());
  CHECK_FALSE(CheckExposition("# HELP a A.\n# TYPE a gauge\na one\n").empty());
  CHECK_FALSE(CheckExposition("# HELP h H.\n# TYPE h histogram\n"
                              "h_bucket{le=\"0.050000000000000003\"} 1\nh_bucket{le=\"+Inf\"} 1\n"
                              "h_sum 0.01\nh_count 1\n")
                  .empty());  // long le
  CHECK_FALSE(CheckExposition("# HELP h H.\n# TYPE h histogram\n"
                              "h_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n")
                  .empty());  // not cumulative
  CHECK(CheckExposition("# HELP h H.\n# TYPE h histogram\n"
                        "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n")
            .empty());
}

TEST_CASE("worker-light's /metrics: valid, bounded labels, process and workspace series",
          "[metrics]") {
  workerpair::testing::TempDir root;
  auto server = workerpair::testing::ServerProcess::Start(
      WORKERPAIR_LIGHT_BINARY, {"--root=" + root.path().string(), "--log_level=warn",
                                "--metrics_listen=127.0.0.1:0"});
  REQUIRE(server.ok());
  auto stub = workerpair::v1::LightFilesService::NewStub((*server)->Channel());
  for (const char* name : {"ws-a", "ws-b"}) {
    grpc::ClientContext context;
    workerpair::v1::CreateWorkspaceRequest request;
    request.set_workspace(name);
    workerpair::v1::CreateWorkspaceResponse response;
    REQUIRE(stub->CreateWorkspace(&context, request, &response).ok());
  }
  {
    grpc::ClientContext context;
    workerpair::v1::WriteFileRequest request;
    request.set_workspace("ws-a");
    request.set_path("data.bin");
    request.set_content(std::string(256 << 10, 'x'));
    workerpair::v1::WriteFileResponse response;
    REQUIRE(stub->WriteFile(&context, request, &response).ok());
  }
  // Made-up services, and a made-up method of a service the server does serve.
  for (const char* path : {"/made.up.Service/One", "/made.up.Service/Two",
                           "/workerpair.v1.LightFilesService/NoSuchMethod"}) {
    CHECK(CallPath((*server)->Channel(), path) == grpc::StatusCode::UNIMPLEMENTED);
  }
  const std::string page = Body(HttpGet((*server)->metrics_port(), "/metrics"));
  CheckPage(page);
  CHECK(page.find("One") == std::string::npos);
  CHECK(page.find("Two") == std::string::npos);
  CHECK(page.find("NoSuchMethod") == std::string::npos);
  CHECK(page.find("made.up") == std::string::npos);
  CHECK(Sample(page, "workerpair_rpc_seconds_count{service=\"unknown\",method=\"unknown\","
                     "code=\"UNIMPLEMENTED\"}") == 3);
  CHECK(Sample(page, "workerpair_rpc_seconds_count{service=\"workerpair.v1.LightFilesService\","
                     "method=\"CreateWorkspace\",code=\"OK\"}") == 2);
  CheckProcessSeries(page);
  CHECK(Sample(page, "workerpair_light_workspaces") == 2);
  CHECK(Sample(page, "workerpair_light_disk_used_bytes") >= 256 << 10);
  CHECK(Sample(page, "workerpair_light_volume_size_bytes") > 0);
  CHECK(Sample(page, "workerpair_light_volume_available_bytes") > 0);
  CHECK(Sample(page, "workerpair_light_volume_available_bytes") <=
        Sample(page, "workerpair_light_volume_size_bytes"));
}

#ifdef WORKERPAIR_HEAVY_BINARY
TEST_CASE("worker-heavy's /metrics: valid, bounded labels, process and queue series",
          "[metrics]") {
  workerpair::testing::TempDir scratch;
  auto server = workerpair::testing::ServerProcess::Start(
      WORKERPAIR_HEAVY_BINARY, {"--scratch_dir=" + scratch.path().string(), "--log_level=warn",
                                "--metrics_listen=127.0.0.1:0"});
  REQUIRE(server.ok());
  CHECK(CallPath((*server)->Channel(), "/made.up.Service/One") == grpc::StatusCode::UNIMPLEMENTED);
  CHECK(CallPath((*server)->Channel(), "/workerpair.v1.HeavyService/NoSuchMethod") ==
        grpc::StatusCode::UNIMPLEMENTED);
  const std::string page = Body(HttpGet((*server)->metrics_port(), "/metrics"));
  CheckPage(page);
  CHECK(page.find("NoSuchMethod") == std::string::npos);
  CHECK(page.find("made.up") == std::string::npos);
  CHECK(Sample(page, "workerpair_rpc_seconds_count{service=\"unknown\",method=\"unknown\","
                     "code=\"UNIMPLEMENTED\"}") == 2);
  CheckProcessSeries(page);
  CHECK(Sample(page, "workerpair_heavy_queue_capacity") >= 0);
  CHECK(Sample(page, "workerpair_heavy_slots") >= 1);
}
#endif
