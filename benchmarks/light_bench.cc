// light_bench: worker-light's own overhead over gRPC.
//
// Starts the real worker-light on a loopback port and measures, side by side in one run, an
// empty call (Ping), ReadFile of a 4 KiB file and a one-line EditFile, each with 1 and 16
// concurrent clients: p50/p99 latency and calls per second, and each call's ratio to Ping.
//
//   build/benchmarks/light_bench [--seconds=3]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "benchmarks/bench_stats.h"
#include "tests/support/server_process.h"
#include "workerpair/v1/light_files.grpc.pb.h"

namespace v1 = workerpair::v1;
using Clock = std::chrono::steady_clock;

namespace {

using Result = workerpair::bench::LoopFigures;

// Runs `call` from `clients` threads for `seconds`; each client has its own channel so they do
// not share one HTTP/2 connection.
Result Measure(const std::string& address, int clients, double seconds,
               const std::function<bool(v1::LightFilesService::Stub&, int)>& call) {
  Result r = workerpair::bench::RunClosedLoop(
      clients, seconds,
      [&](int client) {
        grpc::ChannelArguments args;
        args.SetInt("grpc.channel_id", client);  // distinct channels, distinct connections
        return v1::LightFilesService::NewStub(
            grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
      },
      [&](auto& stub, int client, [[maybe_unused]] int round) { return call(*stub, client); });
  if (r.failed) std::fprintf(stderr, "warning: some calls failed\n");
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  for (int i = 1; i < argc; ++i) {
    if (std::sscanf(argv[i], "--seconds=%lf", &seconds) == 1) continue;
    std::fprintf(stderr, "usage: light_bench [--seconds=S]\n");
    return 2;
  }
  workerpair::testing::TempDir dir;
  auto server = workerpair::testing::ServerProcess::Start(
      WORKERPAIR_LIGHT_BINARY, {"--root=" + dir.path().string(), "--log_level=warn"});
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 1;
  }
  const std::string address = (*server)->address();
  auto setup = v1::LightFilesService::NewStub((*server)->Channel());

  // One workspace; a 4 KiB file to read and one small file per client to edit.
  {
    grpc::ClientContext context;
    v1::CreateWorkspaceRequest request;
    request.set_workspace("bench");
    v1::CreateWorkspaceResponse response;
    setup->CreateWorkspace(&context, request, &response);
  }
  auto write = [&](const std::string& path, const std::string& content) {
    grpc::ClientContext context;
    v1::WriteFileRequest request;
    request.set_workspace("bench");
    request.set_path(path);
    request.set_content(content);
    request.set_overwrite(true);
    v1::WriteFileResponse response;
    return setup->WriteFile(&context, request, &response).ok();
  };
  write("read_4k.txt", std::string(4096, 'r'));
  for (int c = 0; c < 16; ++c) {
    write("edit_" + std::to_string(c) + ".py", "import os\nvalue = 0\nprint(value)\n");
  }

  auto ping = [](v1::LightFilesService::Stub& stub, int) {
    grpc::ClientContext context;
    v1::PingResponse response;
    return stub.Ping(&context, v1::PingRequest(), &response).ok();
  };
  auto read = [](v1::LightFilesService::Stub& stub, int) {
    grpc::ClientContext context;
    v1::ReadFileRequest request;
    request.set_workspace("bench");
    request.set_path("read_4k.txt");
    v1::ReadFileResponse response;
    return stub.ReadFile(&context, request, &response).ok() && response.content().size() == 4096;
  };
  std::vector<int> edit_state(16, 0);
  auto edit = [&](v1::LightFilesService::Stub& stub, int c) {
    grpc::ClientContext context;
    v1::EditFileRequest request;
    request.set_workspace("bench");
    request.set_path("edit_" + std::to_string(c) + ".py");
    auto* e = request.add_edits();
    e->set_old_text("value = " + std::to_string(edit_state[c]));
    e->set_new_text("value = " + std::to_string(1 - edit_state[c]));
    v1::EditFileResponse response;
    const bool ok = stub.EditFile(&context, request, &response).ok();
    if (ok) edit_state[c] = 1 - edit_state[c];
    return ok;
  };

  std::printf("worker-light over loopback, %.0f s per row, %u hardware threads\n\n", seconds,
              std::thread::hardware_concurrency());
  std::printf("| call | clients | p50 (us) | p99 (us) | calls/s | p50 vs Ping | calls/s vs Ping |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (int clients : {1, 16}) {
    const Result base = Measure(address, clients, seconds, ping);
    const std::pair<const char*, std::function<bool(v1::LightFilesService::Stub&, int)>> calls[] = {
        {"Ping (empty)", ping}, {"ReadFile 4 KiB", read}, {"EditFile 1 line", edit}};
    for (const auto& [name, call] : calls) {
      const Result r = std::string(name) == "Ping (empty)" ? base
                                                           : Measure(address, clients, seconds, call);
      std::printf("| %s | %d | %.0f | %.0f | %.0f | %.2fx | %.2fx |\n", name, clients, r.p50_us,
                  r.p99_us, r.calls_per_s, r.p50_us / base.p50_us,
                  r.calls_per_s / base.calls_per_s);
    }
  }
  return 0;
}
