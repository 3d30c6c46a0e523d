// controller_bench: what going through `controller serve` costs per job, against calling the
// controller library (HeavyClient) directly, side by side in one run on the same replica.
//
// One worker-heavy on loopback (--slots, no rendering) and one `controller serve` in front of
// it. A small job: a falling box for --duration_s simulated seconds (0.02 by default: the job
// is almost all fixed cost). Two measures per path:
//   - fixed cost: --jobs jobs one after another from one caller; latency p50 / p90 / mean
//     (library: HeavyClient::Simulate; service: RunSimulation from submit to its finished job);
//   - throughput: the same number of jobs from --callers threads at once; jobs/s over the
//     makespan (the service runs --callers jobs at once: --max_running_jobs=callers).
// The overhead per job is the service's p50 minus the library's.
//
//   build-q/benchmarks/controller_bench [--jobs=40] [--callers=4] [--slots=4] [--duration_s=0.02]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include "benchmarks/bench_stats.h"
#include "libs/common/bundle.h"
#include "libs/common/str_cat.h"
#include "services/controller/heavy_client.h"
#include "tests/support/server_process.h"
#include "workerpair/v1/controller.grpc.pb.h"

namespace fs = std::filesystem;
namespace v1 = workerpair::v1;
using workerpair::controller::HeavyClient;
using workerpair::controller::Payload;
using workerpair::testing::ServerProcess;
using workerpair::testing::TempDir;
using Clock = std::chrono::steady_clock;

namespace {

struct Flags {
  int jobs = 40;
  int callers = 4;
  int slots = 4;
  double duration_s = 0.02;
};

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    if (std::sscanf(argv[i], "--jobs=%d", &flags->jobs) == 1) continue;
    if (std::sscanf(argv[i], "--callers=%d", &flags->callers) == 1) continue;
    if (std::sscanf(argv[i], "--slots=%d", &flags->slots) == 1) continue;
    if (std::sscanf(argv[i], "--duration_s=%lf", &flags->duration_s) == 1) continue;
    return false;
  }
  return flags->jobs > 0 && flags->callers > 0 && flags->slots > 0 && flags->duration_s > 0;
}

Payload BoxScene(const fs::path& dir, double duration_s) {
  std::ofstream(dir / "manifest.json")
      << R"({"version": 1, "scene": "scene.xml", "simulation": {"duration_s": )" << duration_s
      << R"(, "timestep_s": 0.001, "target_body": "box"}, "render": {"enabled": false}})";
  std::ofstream(dir / "scene.xml") << R"(<mujoco><worldbody><geom type="plane" size="5 5 0.1"/>
    <body name="box" pos="0 0 0.5"><freejoint/><geom type="box" size="0.1 0.1 0.1"/></body>
    </worldbody></mujoco>)";
  auto packed = workerpair::PackDirectory(dir, {}, workerpair::PackOptions{});
  if (!packed.ok()) {
    std::fprintf(stderr, "pack: %s\n", packed.status().ToString().c_str());
    std::exit(1);
  }
  return {packed->archive, packed->sha256};
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Figures {
  double p50 = 0, p90 = 0, mean = 0;  // ms, one caller
  double jobs_per_s = 0;              // many callers
  int failed = 0;
};

// Runs `job` (true: succeeded) n times in a row, then n times from `callers` threads.
Figures Measure(const std::function<bool()>& job, int n, int callers) {
  Figures figures;
  std::vector<double> latencies;
  for (int i = 0; i < n; ++i) {
    const auto start = Clock::now();
    if (!job()) ++figures.failed;
    latencies.push_back(Ms(Clock::now() - start));
  }
  figures.p50 = workerpair::bench::Percentile(latencies, 0.5);
  figures.p90 = workerpair::bench::Percentile(latencies, 0.9);
  figures.mean = workerpair::bench::Mean(latencies);
  std::atomic<int> next{0};
  std::atomic<int> failed{0};
  const auto start = Clock::now();
  std::vector<std::future<void>> threads;
  for (int c = 0; c < callers; ++c) {
    threads.push_back(std::async(std::launch::async, [&] {
      while (next.fetch_add(1) < n) {
        if (!job()) failed.fetch_add(1);
      }
    }));
  }
  for (auto& thread : threads) thread.get();
  figures.jobs_per_s = n / (Ms(Clock::now() - start) / 1000.0);
  figures.failed += failed.load();
  return figures;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) {
    std::fprintf(stderr, "usage: controller_bench [--jobs=N] [--callers=N] [--slots=N] "
                         "[--duration_s=S]\n");
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);  // the library's per-attempt job lines
  TempDir dir;
  const Payload payload = BoxScene(dir.path(), flags.duration_s);
  auto heavy = ServerProcess::Start(
      WORKERPAIR_HEAVY_BINARY, {"--slots=" + std::to_string(flags.slots), "--log_level=warn",
                                "--scratch_dir=" + (dir.path() / "heavy").string()});
  if (!heavy.ok()) {
    std::fprintf(stderr, "worker-heavy: %s\n", heavy.status().ToString().c_str());
    return 1;
  }
  const fs::path script = dir.path() / "serve.sh";
  std::ofstream(script) << "#!/bin/sh\nexec " << WORKERPAIR_CONTROLLER_BINARY
                        << " --heavy=" << (*heavy)->address() << " serve \"$@\"\n";
  fs::permissions(script, fs::perms::owner_all);
  auto controller = ServerProcess::Start(
      script.string(), {"--log_level=warn", "--max_running_jobs=" + std::to_string(flags.callers),
                        "--max_queued_jobs=" + std::to_string(flags.jobs + flags.callers)});
  if (!controller.ok()) {
    std::fprintf(stderr, "controller serve: %s\n", controller.status().ToString().c_str());
    return 1;
  }

  HeavyClient library({(*heavy)->address()});
  v1::SimulateOptions options;
  options.set_render(false);
  auto library_job = [&] { return library.Simulate(payload, options).ok(); };

  auto stub = v1::ControllerService::NewStub((*controller)->Channel());
  v1::RunSimulationRequest request;
  request.mutable_simulation()->mutable_payload()->set_archive(payload.bytes);
  request.mutable_simulation()->mutable_payload()->set_archive_sha256(payload.sha256);
  *request.mutable_simulation()->mutable_options() = options;
  auto service_job = [&] {
    grpc::ClientContext context;
    auto reader = stub->RunSimulation(&context, request);
    v1::RunSimulationResponse event;
    bool succeeded = false;
    while (reader->Read(&event)) {
      if (event.has_finished()) succeeded = event.finished().state() == v1::JOB_STATE_SUCCEEDED;
    }
    return reader->Finish().ok() && succeeded;
  };

  // Warm both paths (channels, the replica's first runner).
  for (int i = 0; i < 3; ++i) {
    library_job();
    service_job();
  }
  const Figures lib = Measure(library_job, flags.jobs, flags.callers);
  const Figures svc = Measure(service_job, flags.jobs, flags.callers);
  std::printf("controller_bench: %d jobs of %.3f simulated s (box, no render), 1 replica with %d "
              "slots, %d callers for throughput\n",
              flags.jobs, flags.duration_s, flags.slots, flags.callers);
  std::printf("%-28s %10s %10s %10s %14s %7s\n", "path", "p50 ms", "p90 ms", "mean ms",
              "jobs/s (xN)", "failed");
  std::printf("%-28s %10.1f %10.1f %10.1f %14.1f %7d\n", "library (HeavyClient)", lib.p50,
              lib.p90, lib.mean, lib.jobs_per_s, lib.failed);
  std::printf("%-28s %10.1f %10.1f %10.1f %14.1f %7d\n", "service (RunSimulation)", svc.p50,
              svc.p90, svc.mean, svc.jobs_per_s, svc.failed);
  std::printf("overhead per job (p50): %.1f ms; throughput ratio service/library: %.2f\n",
              svc.p50 - lib.p50, svc.jobs_per_s / lib.jobs_per_s);
  return lib.failed + svc.failed == 0 ? 0 : 1;
}
