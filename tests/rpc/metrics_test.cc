// The Prometheus registry's text format, and /metrics scraped from the real worker-light.
#include "libs/common/metrics.h"

#include <catch2/catch.hpp>

#include "tests/support/http_get.h"
#include "tests/support/server_process.h"
#include "workerpair/v1/light_files.grpc.pb.h"

using workerpair::MetricsRegistry;

using workerpair::testing::HttpGet;

TEST_CASE("Metrics render counters, gauges and cumulative histograms in text format",
          "[metrics]") {
  MetricsRegistry registry;
  auto* jobs = registry.AddCounter("jobs_total", "Jobs.", {"outcome"});
  jobs->Increment({"success"});
  jobs->Increment({"success"});
  jobs->Increment({"timeout \"x\""});
  registry.AddGauge("queued", "Queued.", {})->Set({}, 3);
  registry.AddGaugeCallback("running", "Running.", [] { return 2.0; });
  auto* latency = registry.AddHistogram("latency_seconds", "Latency.", {}, {0.1, 1});
  latency->Observe({}, 0.05);
  latency->Observe({}, 0.5);
  latency->Observe({}, 5);
  const std::string page = registry.Render();
  CHECK(page.find("# TYPE jobs_total counter\n") != std::string::npos);
  CHECK(page.find("jobs_total{outcome=\"success\"} 2\n") != std::string::npos);
  CHECK(page.find("jobs_total{outcome=\"timeout \\\"x\\\"\"} 1\n") != std::string::npos);
  CHECK(page.find("queued 3\n") != std::string::npos);
  CHECK(page.find("running 2\n") != std::string::npos);
  CHECK(page.find("latency_seconds_bucket{le=\"0.1\"} 1\n") != std::string::npos);
  CHECK(page.find("latency_seconds_bucket{le=\"1\"} 2\n") != std::string::npos);
  CHECK(page.find("latency_seconds_bucket{le=\"+Inf\"} 3\n") != std::string::npos);
  CHECK(page.find("latency_seconds_count 3\n") != std::string::npos);
}

TEST_CASE("worker-light exports per-method RPC metrics on /metrics", "[metrics]") {
  workerpair::testing::TempDir root;
  auto server = workerpair::testing::ServerProcess::Start(
      WORKERPAIR_LIGHT_BINARY, {"--root=" + root.path().string(), "--log_level=warn",
                                "--metrics_listen=127.0.0.1:0"});
  REQUIRE(server.ok());
  REQUIRE((*server)->metrics_port() > 0);
  auto stub = workerpair::v1::LightFilesService::NewStub((*server)->Channel());
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext context;
    workerpair::v1::ReadFileRequest request;
    request.set_workspace("missing");
    request.set_path("x");
    workerpair::v1::ReadFileResponse response;
    CHECK(stub->ReadFile(&context, request, &response).error_code() ==
          grpc::StatusCode::NOT_FOUND);
  }
  const std::string page = HttpGet((*server)->metrics_port(), "/metrics");
  CHECK(page.rfind("HTTP/1.0 200 OK", 0) == 0);
  CHECK(page.find("workerpair_rpc_seconds_count{service=\"workerpair.v1.LightFilesService\","
                  "method=\"ReadFile\",code=\"NOT_FOUND\"} 3") != std::string::npos);
  CHECK(HttpGet((*server)->metrics_port(), "/other").rfind("HTTP/1.0 404", 0) == 0);
}
