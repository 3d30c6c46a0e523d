// light_durability_bench: WriteFile and EditFile latency of two worker-light binaries side by
// side in one run: `--before` (e.g. built from the commit before the staging area and the
// workspace locks) and the one this tree builds. Both run at once, each on its own root in the
// same directory ($TMPDIR), so they share the disk; rows alternate between them.
//
// Each write or edit costs one fsync of the file and one of its directory, before and after: the
// staging area moves where the temporary file lives, not how often it is synced.
//
//   git archive 912523a^ | tar -x -C /tmp/wp-before
//   cmake -S /tmp/wp-before -B /tmp/wp-before/build -G Ninja -DCMAKE_BUILD_TYPE=Release
//   cmake --build /tmp/wp-before/build --target worker-light
//   build/benchmarks/light_durability_bench --before=/tmp/wp-before/build/services/light/worker-light
//   [--seconds=3]
//
// Without --before only this tree's binary is measured.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
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
               const std::function<bool(v1::LightFilesService::Stub&, int, int)>& call) {
  Result r = workerpair::bench::RunClosedLoop(
      clients, seconds,
      [&](int client) {
        grpc::ChannelArguments args;
        args.SetInt("grpc.channel_id", client);  // distinct channels, distinct connections
        return v1::LightFilesService::NewStub(
            grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
      },
      [&](auto& stub, int client, [[maybe_unused]] int round) { return call(*stub, client, round); });
  if (r.failed) std::fprintf(stderr, "warning: some calls failed\n");
  return r;
}

struct Server {
  std::string label;
  std::unique_ptr<workerpair::ServerProcess> process;
  std::unique_ptr<workerpair::TempDir> root;
};

bool Setup(workerpair::ServerProcess& server) {
  auto stub = v1::LightFilesService::NewStub(server.Channel());
  {
    grpc::ClientContext context;
    v1::CreateWorkspaceRequest request;
    request.set_workspace("bench");
    v1::CreateWorkspaceResponse response;
    if (!stub->CreateWorkspace(&context, request, &response).ok()) return false;
  }
  for (int c = 0; c < 16; ++c) {
    grpc::ClientContext context;
    v1::WriteFileRequest request;
    request.set_workspace("bench");
    request.set_path("src/edit_" + std::to_string(c) + ".py");
    request.set_content("import os\nvalue = 0\nprint(value)\n");
    request.set_overwrite(true);
    v1::WriteFileResponse response;
    if (!stub->WriteFile(&context, request, &response).ok()) return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  std::string before;
  for (int i = 1; i < argc; ++i) {
    if (std::sscanf(argv[i], "--seconds=%lf", &seconds) == 1) continue;
    if (std::strncmp(argv[i], "--before=", 9) == 0) {
      before = argv[i] + 9;
      continue;
    }
    std::fprintf(stderr, "usage: light_durability_bench [--before=WORKER_LIGHT] [--seconds=S]\n");
    return 2;
  }
  std::vector<Server> servers;
  std::vector<std::pair<std::string, std::string>> binaries;
  if (!before.empty()) binaries.push_back({"before", before});
  binaries.push_back({"after", WORKERPAIR_LIGHT_BINARY});
  for (const auto& [label, binary] : binaries) {
    Server server{label, nullptr, std::make_unique<workerpair::TempDir>()};
    auto started = workerpair::ServerProcess::Start(
        binary, {"--root=" + server.root->path().string(), "--log_level=warn"});
    if (!started.ok() || !Setup(**started)) {
      std::fprintf(stderr, "%s: cannot start or set up %s\n", label.c_str(), binary.c_str());
      return 1;
    }
    server.process = std::move(*started);
    servers.push_back(std::move(server));
  }

  const std::string content_4k(4096, 'w');
  auto write = [&](v1::LightFilesService::Stub& stub, int c, int) {
    grpc::ClientContext context;
    v1::WriteFileRequest request;
    request.set_workspace("bench");
    request.set_path("out/write_" + std::to_string(c) + ".bin");
    request.set_content(content_4k);
    request.set_overwrite(true);
    v1::WriteFileResponse response;
    return stub.WriteFile(&context, request, &response).ok();
  };
  auto edit = [&](v1::LightFilesService::Stub& stub, int c, int round) {
    grpc::ClientContext context;
    v1::EditFileRequest request;
    request.set_workspace("bench");
    request.set_path("src/edit_" + std::to_string(c) + ".py");
    auto* e = request.add_edits();
    // Rounds alternate 0 -> 1 -> 0; the warm-up call is round 0.
    e->set_old_text("value = " + std::to_string(round % 2));
    e->set_new_text("value = " + std::to_string(1 - round % 2));
    v1::EditFileResponse response;
    return stub.EditFile(&context, request, &response).ok();
  };

  std::printf("worker-light WriteFile (4 KiB, overwrite) and one-line EditFile over loopback, "
              "%.0f s per row, %u hardware threads, roots in %s\n\n",
              seconds, std::thread::hardware_concurrency(),
              std::filesystem::temp_directory_path().c_str());
  std::printf("| call | clients | binary | p50 (us) | p99 (us) | calls/s |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (const auto& [name, call] :
       std::vector<std::pair<std::string, std::function<bool(v1::LightFilesService::Stub&, int, int)>>>{
           {"WriteFile 4 KiB", write}, {"EditFile one line", edit}}) {
    for (int clients : {1, 16}) {
      for (Server& server : servers) {
        const Result r = Measure(server.process->address(), clients, seconds, call);
        std::printf("| %s | %d | %s | %.0f | %.0f | %.0f |\n", name.c_str(), clients,
                    server.label.c_str(), r.p50_us, r.p99_us, r.calls_per_s);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
