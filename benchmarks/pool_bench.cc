// pool_bench: a burst larger than the worker-heavy pool, through one HeavyClient with its
// default settings, against the ideal makespan; then the same burst with one replica frozen
// (SIGSTOP) in the middle.
//
// R replicas with S slots (and a queue of Q) on loopback; M identical jobs of known length (a
// falling box, --duration_s simulated seconds at a 0.1 ms timestep, no rendering) submitted at
// once from M threads. Per scenario it prints:
//   - makespan: first submit to last result;
//   - ideal: total job time / (R*S), where a job's time is its slot time (from its "started"
//     event to its result, the attempt that finished) so CPU contention on a small machine
//     counts in both; also M * (the job's time alone on an idle replica) / (R*S);
//   - succeeded: jobs that returned a result;
//   - wait to start, p50/p99: submit to the "started" event of the attempt that finished
//     (waiting for capacity in the controller and in a replica's queue, upload included);
//   - controller wait, p50/p99: the part of it the controller slept because every replica was
//     full ("pool full: ..., waiting X s");
//   - attempts: over all jobs.
// The freeze scenario stops replica 0 once a quarter of the jobs finished; its jobs come back
// after the heartbeat silence limit (or keepalive), and run on the others.
//
//   build/benchmarks/pool_bench [--replicas=2] [--slots=2] [--queue=4] [--jobs=40]
//                               [--duration_s=4] [--no_freeze]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "libs/common/bundle.h"
#include "libs/common/str_cat.h"
#include "services/controller/heavy_client.h"
#include "tests/support/server_process.h"

namespace fs = std::filesystem;
namespace v1 = workerpair::v1;
using workerpair::StrCat;
using workerpair::controller::HeavyClient;
using workerpair::controller::HeavyProgress;
using workerpair::controller::Payload;
using workerpair::testing::ServerProcess;
using workerpair::testing::TempDir;
using Clock = std::chrono::steady_clock;

namespace {

struct Flags {
  int replicas = 2;
  int slots = 2;
  int queue = 4;
  int jobs = 40;
  double duration_s = 4;
  bool freeze = true;
};

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (std::sscanf(argv[i], "--replicas=%d", &flags->replicas) == 1) continue;
    if (std::sscanf(argv[i], "--slots=%d", &flags->slots) == 1) continue;
    if (std::sscanf(argv[i], "--queue=%d", &flags->queue) == 1) continue;
    if (std::sscanf(argv[i], "--jobs=%d", &flags->jobs) == 1) continue;
    if (std::sscanf(argv[i], "--duration_s=%lf", &flags->duration_s) == 1) continue;
    if (arg == "--no_freeze") {
      flags->freeze = false;
      continue;
    }
    return false;
  }
  return flags->replicas > 0 && flags->slots > 0 && flags->queue >= 0 && flags->jobs > 0 &&
         flags->duration_s > 0 && (!flags->freeze || flags->replicas > 1);
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double Percentile(std::vector<double> values, double fraction) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(fraction * static_cast<double>(values.size()));
  return values[std::min(values.size() - 1, index)];
}

Payload BoxScene(const fs::path& dir, double duration_s) {
  std::ofstream(dir / "manifest.json")
      << R"({"version": 1, "scene": "scene.xml", "simulation": {"duration_s": )" << duration_s
      << R"(, "timestep_s": 0.0001, "target_body": "box"}, "render": {"enabled": false}})";
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

std::vector<std::unique_ptr<ServerProcess>> StartPool(const TempDir& dir, const Flags& flags) {
  std::vector<std::unique_ptr<ServerProcess>> pool;
  for (int r = 0; r < flags.replicas; ++r) {
    auto started = ServerProcess::Start(
        WORKERPAIR_HEAVY_BINARY,
        {StrCat("--slots=", flags.slots), StrCat("--queue=", flags.queue), "--log_level=warn",
         "--scratch_dir=" + (dir.path() / StrCat("r", r)).string()});
    if (!started.ok()) {
      std::fprintf(stderr, "worker-heavy: %s\n", started.status().ToString().c_str());
      std::exit(1);
    }
    pool.push_back(std::move(*started));
  }
  return pool;
}

v1::SimulateOptions NoRender() {
  v1::SimulateOptions options;
  options.set_render(false);
  return options;
}

struct JobRecord {
  Clock::time_point submitted, started, ended;
  double controller_wait_s = 0;
  int attempts = 0;
  bool ok = false;
};

struct Figures {
  double makespan_s = 0;
  double slot_time_s = 0;  // sum over jobs that finished
  int succeeded = 0;
  int attempts = 0;
  std::vector<double> start_wait_s, controller_wait_s;
};

Figures RunBurst(const Flags& flags, const Payload& payload, bool freeze) {
  TempDir dir;
  auto pool = StartPool(dir, flags);
  std::vector<std::string> addresses;
  for (const auto& replica : pool) addresses.push_back(replica->address());
  HeavyClient heavy(addresses);
  std::vector<JobRecord> records(static_cast<std::size_t>(flags.jobs));
  std::atomic<int> finished{0};
  std::vector<std::future<void>> jobs;
  const Clock::time_point begin = Clock::now();
  for (JobRecord& record : records) {
    jobs.push_back(std::async(std::launch::async, [&heavy, &payload, &record, &finished] {
      std::mutex mu;
      record.submitted = Clock::now();
      auto run = heavy.Simulate(payload, NoRender(), [&](const HeavyProgress& p) {
        std::lock_guard lock(mu);
        if (p.summary == "started") record.started = Clock::now();
        double wait = 0;
        const std::size_t at = p.summary.rfind("waiting ");
        if (p.replica.empty() && at != std::string::npos &&
            std::sscanf(p.summary.c_str() + at, "waiting %lf", &wait) == 1) {
          record.controller_wait_s += wait;
        }
      });
      record.ended = Clock::now();
      record.ok = run.ok();
      record.attempts = run.ok() ? run->attempts : 0;
      if (!run.ok()) std::fprintf(stderr, "job failed: %s\n", run.status().ToString().c_str());
      ++finished;
    }));
  }
  if (freeze) {
    while (finished < flags.jobs / 4) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    pool[0]->Signal(SIGSTOP);
  }
  for (auto& job : jobs) job.get();
  const Clock::time_point end = Clock::now();
  if (freeze) pool[0]->Signal(SIGCONT);
  Figures figures;
  figures.makespan_s = Seconds(end - begin);
  for (const JobRecord& record : records) {
    if (!record.ok) continue;
    ++figures.succeeded;
    figures.attempts += record.attempts;
    figures.slot_time_s += Seconds(record.ended - record.started);
    figures.start_wait_s.push_back(Seconds(record.started - record.submitted));
    figures.controller_wait_s.push_back(record.controller_wait_s);
  }
  return figures;
}

// The job's time alone on an idle replica: the median of 3 runs, submit to result.
double IsolatedJobSeconds(const Flags& flags, const Payload& payload) {
  TempDir dir;
  Flags one = flags;
  one.replicas = 1;
  auto pool = StartPool(dir, one);
  HeavyClient heavy({pool[0]->address()});
  std::vector<double> times;
  for (int i = 0; i < 3; ++i) {
    const Clock::time_point start = Clock::now();
    auto run = heavy.Simulate(payload, NoRender());
    if (!run.ok()) {
      std::fprintf(stderr, "calibration job failed: %s\n", run.status().ToString().c_str());
      std::exit(1);
    }
    times.push_back(Seconds(Clock::now() - start));
  }
  return Percentile(times, 0.5);
}

void Print(const char* name, const Flags& flags, const Figures& f, double isolated_s) {
  const double capacity = flags.replicas * flags.slots;
  const double ideal_slot = f.slot_time_s / capacity;
  const double ideal_isolated = flags.jobs * isolated_s / capacity;
  std::printf("%-10s makespan %6.2f s | ideal %6.2f s (slot time), ratio %.2fx | ideal %6.2f s "
              "(isolated), ratio %.2fx | succeeded %d/%d | wait to start p50 %.2f s p99 %.2f s "
              "| controller wait p50 %.2f s p99 %.2f s | attempts %d\n",
              name, f.makespan_s, ideal_slot, f.makespan_s / ideal_slot, ideal_isolated,
              f.makespan_s / ideal_isolated, f.succeeded, flags.jobs,
              Percentile(f.start_wait_s, 0.5), Percentile(f.start_wait_s, 0.99),
              Percentile(f.controller_wait_s, 0.5), Percentile(f.controller_wait_s, 0.99),
              f.attempts);
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) {
    std::fprintf(stderr,
                 "usage: pool_bench [--replicas=2] [--slots=2] [--queue=4] [--jobs=40] "
                 "[--duration_s=4] [--no_freeze]  (the freeze needs 2+ replicas)\n");
    return 2;
  }
  TempDir scene;
  const Payload payload = BoxScene(scene.path(), flags.duration_s);
  const double isolated_s = IsolatedJobSeconds(flags, payload);
  std::printf("pool_bench: %d replicas x %d slots (queue %d), %d jobs of %.1f simulated s "
              "(%.2f s alone on an idle replica), %u CPUs\n",
              flags.replicas, flags.slots, flags.queue, flags.jobs, flags.duration_s, isolated_s,
              std::thread::hardware_concurrency());
  Print("no freeze", flags, RunBurst(flags, payload, /*freeze=*/false), isolated_s);
  if (flags.freeze) Print("freeze", flags, RunBurst(flags, payload, /*freeze=*/true), isolated_s);
  return 0;
}
