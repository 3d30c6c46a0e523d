// A dns:/// pool whose name gains an address while a client runs: new jobs reach the replica
// behind it within the re-resolution interval.
//
// For real, without a DNS server: main() moves this process into a private mount namespace
// (as root) and bind-mounts a hosts file of its own over /etc/hosts, so "heavy-pool.test"
// resolves through getaddrinfo like any name, to the loopback addresses the test writes there
// (127.0.0.2, 127.0.0.3: all of 127/8 is local on Linux). The replicas it starts inherit the
// namespace; nothing outside the process sees the file.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <future>
#include <map>

#include "libs/common/bundle.h"
#include "services/controller/heavy_client.h"
#include "tests/support/private_hosts.h"
#include "tests/support/server_process.h"

namespace fs = std::filesystem;
namespace v1 = workerpair::v1;
using workerpair::controller::HeavyClient;
using workerpair::controller::HeavyClientOptions;
using workerpair::controller::Payload;
using workerpair::testing::ServerProcess;
using workerpair::testing::TempDir;

namespace {

constexpr char kName[] = "heavy-pool.test";

// Set by main(): the hosts file over /etc/hosts, or why there is none.
workerpair::testing::PrivateHosts* g_hosts = nullptr;

Payload BoxScene(const fs::path& dir) {
  std::ofstream(dir / "manifest.json")
      << R"({"version": 1, "scene": "scene.xml", "simulation": {"duration_s": 3,
      "timestep_s": 0.0001, "target_body": "box"}, "render": {"enabled": false}})";
  std::ofstream(dir / "scene.xml") << R"(<mujoco><worldbody><geom type="plane" size="5 5 0.1"/>
    <body name="box" pos="0 0 0.5"><freejoint/><geom type="box" size="0.1 0.1 0.1"/></body>
    </worldbody></mujoco>)";
  auto packed = workerpair::PackDirectory(dir, {}, workerpair::PackOptions{});
  REQUIRE(packed.ok());
  return {packed->archive, packed->sha256};
}

std::unique_ptr<ServerProcess> StartHeavyOn(const TempDir& dir, const std::string& address) {
  // The later --listen wins over ServerProcess's own 127.0.0.1:0.
  auto started = ServerProcess::Start(
      WORKERPAIR_HEAVY_BINARY, {"--listen=" + address, "--slots=2", "--log_level=warn",
                                "--scratch_dir=" + (dir.path() / address).string()});
  REQUIRE(started.ok());
  return std::move(*started);
}

// Runs `jobs` simulations at once; how many each replica ran.
std::map<std::string, int> RunJobs(HeavyClient& heavy, const Payload& payload, int jobs) {
  v1::SimulateOptions options;
  options.set_render(false);
  std::vector<std::future<absl::StatusOr<std::string>>> futures;
  for (int i = 0; i < jobs; ++i) {
    futures.push_back(std::async(std::launch::async, [&]() -> absl::StatusOr<std::string> {
      auto run = heavy.Simulate(payload, options);
      if (!run.ok()) return run.status();
      return run->replica;
    }));
  }
  std::map<std::string, int> by_replica;
  for (auto& future : futures) {
    auto replica = future.get();
    REQUIRE(replica.ok());
    ++by_replica[*replica];
  }
  return by_replica;
}

bool WaitForReplicas(HeavyClient& heavy, std::size_t count) {
  for (int i = 0; i < 200; ++i) {
    if (heavy.replicas().size() == count) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace

TEST_CASE("A replica added to a dns:/// name while a client runs gets its jobs", "[dns_pool]") {
  INFO(g_hosts->setup_error());
  REQUIRE(g_hosts->setup_error().empty());
  const int port = workerpair::testing::FreePortOnAllAddresses();
  REQUIRE(port > 0);
  const std::string first = "127.0.0.2:" + std::to_string(port);
  const std::string second = "127.0.0.3:" + std::to_string(port);
  TempDir dir;
  TempDir scene;
  const Payload payload = BoxScene(scene.path());

  g_hosts->Write({"127.0.0.2"});
  auto a = StartHeavyOn(dir, first);
  HeavyClientOptions options;
  options.resolve_interval = absl::Seconds(1);
  HeavyClient heavy({"dns:///" + std::string(kName) + ":" + std::to_string(port)}, options);
  REQUIRE(heavy.replicas() == std::vector<std::string>{first});
  CHECK(RunJobs(heavy, payload, 2) == std::map<std::string, int>{{first, 2}});

  // The autoscaler adds a pod: it starts, then the name resolves to it too.
  auto b = StartHeavyOn(dir, second);
  g_hosts->Write({"127.0.0.2", "127.0.0.3"});
  REQUIRE(WaitForReplicas(heavy, 2));
  const std::map<std::string, int> spread = RunJobs(heavy, payload, 8);
  CHECK(spread.count(second) == 1);
  CHECK(spread.count(first) == 1);

  // The first pod goes away: once the name no longer lists it, nothing is routed there.
  g_hosts->Write({"127.0.0.3"});
  REQUIRE(WaitForReplicas(heavy, 1));
  CHECK(heavy.replicas() == std::vector<std::string>{second});
  CHECK(RunJobs(heavy, payload, 3) == std::map<std::string, int>{{second, 3}});
}

int main(int argc, char** argv) {
  // First, while this is the only thread: the namespace is inherited by every later thread
  // and child process.
  workerpair::testing::PrivateHosts hosts(kName);
  g_hosts = &hosts;
  return Catch::Session().run(argc, argv);
}
