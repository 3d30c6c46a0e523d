// split_bench: worker-light latency idle vs while every worker-heavy slot is busy, in one run.
//
// The light/heavy split exists so that an agent's cheap calls (read a file, lint a scene) stay
// fast while simulations burn CPU. This starts 1 worker-light and N worker-heavy processes on
// loopback, then measures worker-light ReadFile (4 KiB) and LintFile (the ramp_goal example's
// scene.xml and manifest.json, built-in checks only) from one client, the three calls
// interleaved:
//   (a) idle: the heavy replicas are up but run nothing;
//   (b) busy: every heavy slot runs a rendered Simulate of ramp_goal (submitted through
//       HeavyClient, slots + 1 submitters per replica so a job always waits in each queue),
//       confirmed with HeavyClient::Info before sampling and polled throughout;
//   (c) idle again once the heavy processes are stopped, as a drift check (A-B-A).
// It prints p50/p99 per call and phase and the busy/idle ratios.
//
//   build-bench/benchmarks/split_bench [--samples=2000] [--heavy_replicas=2] [--slots=2]
//                                      [--duration_s=20] [--phase_budget_s=90] [--settle_s=5]
//
// The payload is ramp_goal with its goal zone renamed (`zone_goal_bin` -> `bin`) and rolling
// friction on the ball, so a job is not ended early by SUCCESS or OUT_OF_BOUNDS and simulates
// (and renders) the whole --duration_s.
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "libs/common/bundle.h"
#include "libs/common/str_cat.h"
#include "services/controller/heavy_client.h"
#include "services/controller/light_client.h"
#include "tests/support/server_process.h"
#include "workerpair/v1/heavy.pb.h"
#include "workerpair/v1/light_files.grpc.pb.h"
#include "workerpair/v1/light_lint.grpc.pb.h"

namespace fs = std::filesystem;
namespace v1 = workerpair::v1;
using workerpair::StrCat;
using workerpair::controller::LightClient;
using Clock = std::chrono::steady_clock;

namespace {

struct Flags {
  int samples = 2000;
  int heavy_replicas = 2;
  int slots = 2;
  double duration_s = 20;
  double phase_budget_s = 90;  // a phase stops early (fewer samples) past this many seconds
  double settle_s = 5;         // after saturation, before sampling: jobs get past compiling
};

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    if (std::sscanf(argv[i], "--samples=%d", &flags->samples) == 1) continue;
    if (std::sscanf(argv[i], "--heavy_replicas=%d", &flags->heavy_replicas) == 1) continue;
    if (std::sscanf(argv[i], "--slots=%d", &flags->slots) == 1) continue;
    if (std::sscanf(argv[i], "--duration_s=%lf", &flags->duration_s) == 1) continue;
    if (std::sscanf(argv[i], "--phase_budget_s=%lf", &flags->phase_budget_s) == 1) continue;
    if (std::sscanf(argv[i], "--settle_s=%lf", &flags->settle_s) == 1) continue;
    return false;
  }
  return flags->samples > 0 && flags->heavy_replicas > 0 && flags->slots > 0 &&
         flags->duration_s > 0 && flags->phase_budget_s > 0 && flags->settle_s >= 0;
}

std::string ReadWhole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

void Write(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

double Percentile(std::vector<double> values, double fraction) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(fraction * static_cast<double>(values.size()));
  return values[std::min(values.size() - 1, index)];
}

// One light call: returns true when it succeeded with the expected answer.
struct LightCall {
  const char* name;
  std::function<bool()> run;
};

// Machine-wide CPU time from /proc/stat: {busy, total} jiffies over all CPUs.
std::pair<double, double> CpuJiffies() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  const double busy = user + nice + system + irq + softirq + steal;
  return {busy, busy + idle + iowait};
}

// CPU time (user + system, jiffies) of the processes `pids` (0 is this process); a process that
// is gone counts 0.
double ProcessJiffies(const std::vector<pid_t>& pids) {
  double sum = 0;
  for (pid_t pid : pids) {
    std::ifstream in(pid == 0 ? std::string("/proc/self/stat") : StrCat("/proc/", pid, "/stat"));
    std::string line;
    if (!std::getline(in, line)) continue;
    // Fields after the command name, which is in parentheses and may hold spaces.
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stod(field);
      if (i == 15) stime = std::stod(field);
    }
    sum += utime + stime;
  }
  return sum;
}

struct PhaseSamples {
  std::vector<std::vector<double>> latencies_us;  // per call
  double wall_s = 0;
  double cpu_busy = 0;    // machine-wide share of CPU time in use during the phase, 0..1
  double cpu_others = 0;  // share used by processes other than this one and its servers
  bool failed = false;
};

// Runs the calls interleaved (call 0, 1, 2, 0, 1, 2, ...) so every call sees the same
// conditions, `samples` rounds or until `budget_s` has passed.
PhaseSamples Measure(const std::vector<LightCall>& calls, int samples, double budget_s,
                     const std::vector<pid_t>& ours) {
  PhaseSamples phase;
  phase.latencies_us.resize(calls.size());
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(budget_s);
  const auto [busy0, total0] = CpuJiffies();
  const double ours0 = ProcessJiffies(ours);
  for (int i = 0; i < samples && Clock::now() < deadline; ++i) {
    for (std::size_t c = 0; c < calls.size(); ++c) {
      const auto call_start = Clock::now();
      if (!calls[c].run()) phase.failed = true;
      phase.latencies_us[c].push_back(
          std::chrono::duration<double, std::micro>(Clock::now() - call_start).count());
    }
  }
  phase.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  const auto [busy1, total1] = CpuJiffies();
  const double ours1 = ProcessJiffies(ours);
  if (total1 > total0) {
    phase.cpu_busy = (busy1 - busy0) / (total1 - total0);
    phase.cpu_others = std::max(0.0, (busy1 - busy0) - (ours1 - ours0)) / (total1 - total0);
  }
  return phase;
}

// Heavy load: each replica gets its own HeavyClient (one target, no failover, so jobs stay on
// the replica they are meant to fill) and `submitters` threads looping Simulate.
class HeavyLoad {
 public:
  HeavyLoad(const std::vector<std::string>& addresses, int submitters_per_replica,
            const workerpair::controller::Payload& payload, const v1::SimulateOptions& options)
      : payload_(payload), options_(options) {
    workerpair::controller::HeavyClientOptions client_options;
    client_options.failover.max_attempts = 1;
    for (const std::string& address : addresses) {
      clients_.push_back(std::make_unique<workerpair::controller::HeavyClient>(
          std::vector<std::string>{address}, client_options));
    }
    for (auto& client : clients_) {
      for (int s = 0; s < submitters_per_replica; ++s) {
        threads_.emplace_back([this, c = client.get()] { Loop(*c); });
      }
    }
  }
  // Call after the replicas are gone: the remaining calls fail and the loops end.
  void Join() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  ~HeavyLoad() { Join(); }
  void Stop() { stop_ = true; }

  workerpair::controller::HeavyClient& client(std::size_t i) { return *clients_[i]; }

  // Outcomes of finished jobs ("TIMEOUT", "error: ...") and their count, and the mean wall time
  // of the jobs that finished with a result.
  std::string Summary() {
    std::lock_guard<std::mutex> lock(mu_);
    std::string out;
    for (const auto& [outcome, count] : outcomes_) {
      out += StrCat(out.empty() ? "" : ", ", count, " x ", outcome);
    }
    if (out.empty()) out = "none finished yet";
    if (finished_ > 0) {
      char mean[64];
      std::snprintf(mean, sizeof(mean), "; mean job wall time %.1f s", total_wall_s_ / finished_);
      out += mean;
    }
    return out;
  }

 private:
  void Loop(workerpair::controller::HeavyClient& client) {
    while (!stop_) {
      const auto start = Clock::now();
      auto run = client.Simulate(payload_, options_);
      const double wall_s = std::chrono::duration<double>(Clock::now() - start).count();
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) break;  // cut short by shutdown: not a finished job
      if (run.ok()) {
        ++outcomes_[v1::FailReason_Name(run->value.result.fail_reason())];
        ++finished_;
        total_wall_s_ += wall_s;
      } else {
        ++outcomes_[StrCat("error: ", run.status().ToString())];
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // don't spin on errors
      }
    }
  }

  workerpair::controller::Payload payload_;
  v1::SimulateOptions options_;
  std::vector<std::unique_ptr<workerpair::controller::HeavyClient>> clients_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::map<std::string, int> outcomes_;
  int finished_ = 0;
  double total_wall_s_ = 0;
};

struct Load {
  int running = 0, slots = 0, queued = 0;
  double load_1m = 0;
  bool ok = true;
};

Load Poll(HeavyLoad& heavy, int replicas) {
  Load load;
  for (int r = 0; r < replicas; ++r) {
    auto info = heavy.client(r).Info(heavy.client(r).targets()[0]);
    if (!info.ok()) {
      load.ok = false;
      continue;
    }
    load.running += static_cast<int>(info->running());
    load.slots += static_cast<int>(info->slots());
    load.queued += static_cast<int>(info->queued());
    if (info->load_average_size() > 0) load.load_1m = info->load_average(0);
  }
  return load;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) {
    std::fprintf(stderr,
                 "usage: split_bench [--samples=N] [--heavy_replicas=N] [--slots=N] "
                 "[--duration_s=S] [--phase_budget_s=S] [--settle_s=S]\n");
    return 2;
  }
  const fs::path example = fs::path(WORKERPAIR_SOURCE_DIR) / "examples/scenes/ramp_goal";
  workerpair::testing::TempDir dir;

  // Servers: 1 worker-light, N worker-heavy.
  auto light = workerpair::testing::ServerProcess::Start(
      WORKERPAIR_LIGHT_BINARY,
      {StrCat("--root=", (dir.path() / "light").string()), "--log_level=warn"});
  if (!light.ok()) {
    std::fprintf(stderr, "worker-light: %s\n", light.status().ToString().c_str());
    return 1;
  }
  std::vector<std::unique_ptr<workerpair::ServerProcess>> heavies;
  std::vector<std::string> heavy_addresses;
  for (int r = 0; r < flags.heavy_replicas; ++r) {
    auto heavy = workerpair::testing::ServerProcess::Start(
        WORKERPAIR_HEAVY_BINARY,
        {"--log_level=warn", StrCat("--slots=", flags.slots), "--queue=16", "--shutdown_grace=1s",
         StrCat("--scratch_dir=", (dir.path() / StrCat("heavy", r)).string())});
    if (!heavy.ok()) {
      std::fprintf(stderr, "worker-heavy %d: %s\n", r, heavy.status().ToString().c_str());
      return 1;
    }
    heavy_addresses.push_back((*heavy)->address());
    heavies.push_back(std::move(*heavy));
  }

  // worker-light workspace: a 4 KiB file and the ramp_goal example (its mesh too, so the
  // scene's asset reference resolves).
  auto files = v1::LightFilesService::NewStub((*light)->Channel());
  auto lint = v1::LightLintService::NewStub((*light)->Channel());
  LightClient setup((*light)->Channel());
  if (!setup.CreateWorkspace("bench", /*exist_ok=*/false).ok()) {
    std::fprintf(stderr, "CreateWorkspace failed\n");
    return 1;
  }
  const std::pair<std::string, std::string> inputs[] = {
      {"read_4k.txt", std::string(4096, 'r')},
      {"scene.xml", ReadWhole(example / "scene.xml")},
      {"manifest.json", ReadWhole(example / "manifest.json")},
      {"meshes/ramp.stl", ReadWhole(example / "meshes/ramp.stl")}};
  for (const auto& [path, content] : inputs) {
    if (!setup.WriteFile("bench", path, content, /*overwrite=*/true).ok()) {
      std::fprintf(stderr, "WriteFile %s failed\n", path.c_str());
      return 1;
    }
  }

  auto read_call = [&] {
    grpc::ClientContext context;
    v1::ReadFileRequest request;
    request.set_workspace("bench");
    request.set_path("read_4k.txt");
    v1::ReadFileResponse response;
    return files->ReadFile(&context, request, &response).ok() && response.content().size() == 4096;
  };
  auto lint_call = [&](const std::string& path, v1::LintResult* out) {
    grpc::ClientContext context;
    v1::LintFileRequest request;
    request.set_workspace("bench");
    request.set_path(path);
    request.set_skip_external(true);
    v1::LintFileResponse response;
    const bool ok =
        lint->LintFile(&context, request, &response).ok() && response.result().files_checked() == 1;
    if (out != nullptr) *out = response.result();
    return ok;
  };
  for (const char* path : {"scene.xml", "manifest.json"}) {
    v1::LintResult response;
    if (!lint_call(path, &response)) {
      std::fprintf(stderr, "LintFile %s failed\n", path);
      return 1;
    }
    std::printf("lint %s: %u error(s), %u warning(s)\n", path, response.error_count(),
                response.warning_count());
  }
  const std::vector<LightCall> calls = {
      {"ReadFile 4 KiB", read_call},
      {"LintFile scene.xml", [&] { return lint_call("scene.xml", nullptr); }},
      {"LintFile manifest.json", [&] { return lint_call("manifest.json", nullptr); }},
  };
  std::vector<pid_t> ours = {0, (*light)->pid()};
  for (const auto& heavy : heavies) ours.push_back(heavy->pid());
  Measure(calls, 50, 10, ours);  // warm-up: connections, page cache

  // Heavy payload: ramp_goal without its goal zone, so a job runs the whole duration.
  const fs::path payload_dir = dir.path() / "payload";
  std::string scene = ReadWhole(example / "scene.xml");
  const std::string goal = "name=\"zone_goal_bin\"";
  if (const auto at = scene.find(goal); at != std::string::npos) {
    scene.replace(at, goal.size(), "name=\"bin\"");
  }
  // ... and with rolling friction on the ball, so it comes to rest on the floor instead of
  // rolling off the 5 m plane (OUT_OF_BOUNDS would end the job early too).
  const std::string ball = "type=\"sphere\" size=\"0.1\"";
  if (const auto at = scene.find(ball); at != std::string::npos) {
    scene.replace(at, ball.size(), ball + " condim=\"6\" friction=\"1 0.005 0.03\"");
  }
  Write(payload_dir / "scene.xml", scene);
  Write(payload_dir / "manifest.json", ReadWhole(example / "manifest.json"));
  Write(payload_dir / "meshes/ramp.stl", ReadWhole(example / "meshes/ramp.stl"));
  auto packed = workerpair::PackDirectory(payload_dir, {}, workerpair::PackOptions{});
  if (!packed.ok()) {
    std::fprintf(stderr, "PackDirectory: %s\n", packed.status().ToString().c_str());
    return 1;
  }
  const workerpair::controller::Payload payload{packed->archive, packed->sha256};
  v1::SimulateOptions options;
  options.set_render(true);
  options.set_duration_s(flags.duration_s);

  std::printf(
      "worker-light: 1 process; worker-heavy: %d process(es) x %d slot(s); "
      "%d rounds per phase (budget %.0f s)\nheavy job: ramp_goal (goal zone renamed, "
      "rolling friction on the ball), %.0f s simulated, rendered (manifest: 640x480 @ "
      "30 fps)\n",
      flags.heavy_replicas, flags.slots, flags.samples, flags.phase_budget_s, flags.duration_s);
  std::fflush(stdout);

  // (a) idle.
  const PhaseSamples idle = Measure(calls, flags.samples, flags.phase_budget_s, ours);

  // (b) busy: fill every slot, confirm, then measure while polling Info.
  HeavyLoad heavy(heavy_addresses, flags.slots + 1, payload, options);
  const int total_slots = flags.heavy_replicas * flags.slots;
  Load load;
  const auto wait_start = Clock::now();
  while (true) {
    load = Poll(heavy, flags.heavy_replicas);
    if (load.ok && load.running >= total_slots) break;
    if (Clock::now() - wait_start > std::chrono::seconds(120)) {
      std::fprintf(stderr, "heavy never saturated: %d/%d slots running; jobs: %s\n", load.running,
                   total_slots, heavy.Summary().c_str());
      heavies.clear();
      heavy.Join();
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::printf("saturated after %.1f s: %d/%d heavy slots running, %d queued\n",
              std::chrono::duration<double>(Clock::now() - wait_start).count(), load.running,
              load.slots, load.queued);
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::duration<double>(flags.settle_s));

  std::atomic<bool> measuring{true};
  int polls = 0, polls_saturated = 0, min_running = total_slots;
  double max_load_1m = 0;
  std::thread monitor([&] {
    while (measuring) {
      const Load now = Poll(heavy, flags.heavy_replicas);
      ++polls;
      if (now.ok && now.running >= total_slots) ++polls_saturated;
      min_running = std::min(min_running, now.running);
      max_load_1m = std::max(max_load_1m, now.load_1m);
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  });
  const PhaseSamples busy = Measure(calls, flags.samples, flags.phase_budget_s, ours);
  measuring = false;
  monitor.join();
  const std::string jobs = heavy.Summary();

  // Stop the load: the replicas go first (1 s grace), which ends the submitters' calls.
  heavy.Stop();
  heavies.clear();
  heavy.Join();

  // (c) idle again, heavy processes gone: a drift check on this shared machine (A-B-A).
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const PhaseSamples after = Measure(calls, flags.samples, flags.phase_budget_s, ours);

  std::printf(
      "\nrounds, seconds, machine CPU in use (of it, by processes outside this run): "
      "idle %zu, %.1f s, %.0f%% (%.0f%%); busy %zu, %.1f s, %.0f%% (%.0f%%); "
      "idle after %zu, %.1f s, %.0f%% (%.0f%%)%s\n\n",
      idle.latencies_us[0].size(), idle.wall_s, 100 * idle.cpu_busy, 100 * idle.cpu_others,
      busy.latencies_us[0].size(), busy.wall_s, 100 * busy.cpu_busy, 100 * busy.cpu_others,
      after.latencies_us[0].size(), after.wall_s, 100 * after.cpu_busy, 100 * after.cpu_others,
      idle.failed || busy.failed || after.failed ? " (WARNING: some calls failed)" : "");
  std::printf(
      "| call | idle p50 (us) | idle p99 (us) | busy p50 (us) | busy p99 (us) | "
      "busy/idle p50 | busy/idle p99 |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (std::size_t c = 0; c < calls.size(); ++c) {
    const double ip50 = Percentile(idle.latencies_us[c], 0.50);
    const double ip99 = Percentile(idle.latencies_us[c], 0.99);
    const double bp50 = Percentile(busy.latencies_us[c], 0.50);
    const double bp99 = Percentile(busy.latencies_us[c], 0.99);
    std::printf("| %s | %.0f | %.0f | %.0f | %.0f | %.2fx | %.2fx |\n", calls[c].name, ip50, ip99,
                bp50, bp99, bp50 / ip50, bp99 / ip99);
  }
  std::printf(
      "\nheavy slots busy: %d/%d at the start of the busy phase; all busy in %d of %d "
      "polls during it (fewest running %d); 1-min load average up to %.1f; "
      "hardware threads: %u\n",
      load.running, total_slots, polls_saturated, polls, min_running, max_load_1m,
      std::thread::hardware_concurrency());
  std::printf("heavy jobs finished during the run: %s\n", jobs.c_str());
  std::printf("drift check, idle again after the load (heavy processes stopped), p50/p99 (us):");
  for (std::size_t c = 0; c < calls.size(); ++c) {
    std::printf("%s %s %.0f/%.0f", c == 0 ? "" : ";", calls[c].name,
                Percentile(after.latencies_us[c], 0.50), Percentile(after.latencies_us[c], 0.99));
  }
  std::printf("\n");
  return 0;
}
