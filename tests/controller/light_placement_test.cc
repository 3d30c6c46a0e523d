// Three worker-light processes behind the `controller` CLI: every caller agrees where a
// workspace lives, `ws list` merges the pods, a call on the wrong pod is NOT_FOUND with a hint,
// and `ws rebalance` after a resize moves workspaces with their history.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "services/controller/core/placement.h"
#include "services/controller/light_client.h"
#include "services/controller/light_pool.h"
#include "tests/support/server_process.h"

namespace fs = std::filesystem;
namespace v1 = workerpair::v1;
using namespace workerpair::controller;
using workerpair::testing::ServerProcess;
using workerpair::testing::TempDir;

namespace {

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

Result RunController(const TempDir& dir, const std::vector<std::string>& args) {
  static int calls = 0;
  const fs::path out = dir.path() / ("out-" + std::to_string(++calls));
  const fs::path err = dir.path() / ("err-" + std::to_string(calls));
  std::vector<std::string> argv_strings = {WORKERPAIR_CONTROLLER_BINARY, "--quiet"};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int in_fd = open("/dev/null", O_RDONLY);
    const int out_fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err_fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in_fd < 0 || out_fd < 0 || err_fd < 0) _exit(126);
    dup2(in_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  Result result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadAll(out);
  result.err = ReadAll(err);
  UNSCOPED_INFO("controller " << args.front() << " exited " << result.exit_code
                              << "\nstdout: " << result.out << "\nstderr: " << result.err);
  return result;
}

struct ThreePods {
  ThreePods() {
    for (int i = 0; i < 3; ++i) {
      auto started = ServerProcess::Start(
          WORKERPAIR_LIGHT_BINARY,
          {"--root=" + (dir.path() / ("pod" + std::to_string(i))).string(), "--log_level=warn"});
      REQUIRE(started.ok());
      pods.push_back(std::move(*started));
      clients.push_back(std::make_unique<LightClient>(CreateChannel(pods.back()->address())));
    }
  }
  std::string Flag(const std::vector<int>& order) const {
    std::string flag = "--light=";
    for (std::size_t i = 0; i < order.size(); ++i) {
      flag += (i > 0 ? "," : "") + pods[order[i]]->address();
    }
    return flag;
  }
  std::vector<LightTarget> Targets(const std::vector<int>& order) const {
    std::vector<LightTarget> targets;
    for (int i : order) targets.push_back({pods[i]->address(), pods[i]->address()});
    return targets;
  }
  // The pod index (into pods) holding `workspace` according to placement over `order`.
  int Placed(const std::string& workspace, const std::vector<int>& order) const {
    return order[PlaceWorkspace(workspace, Targets(order))];
  }
  std::set<std::string> On(int pod) {
    auto names = clients[pod]->ListWorkspaces();
    REQUIRE(names.ok());
    return {names->begin(), names->end()};
  }
  std::vector<std::string> Log(int pod, const std::string& workspace) {
    v1::GitLogRequest request;
    request.set_workspace(workspace);
    request.set_limit(100);
    auto log = clients[pod]->Call(clients[pod]->git(), &v1::LightGitService::Stub::GitLog, request);
    REQUIRE(log.ok());
    std::vector<std::string> hashes;
    for (const auto& entry : log->entries()) hashes.push_back(entry.hash());
    return hashes;
  }

  TempDir dir;
  std::vector<std::unique_ptr<ServerProcess>> pods;
  std::vector<std::unique_ptr<LightClient>> clients;
};

}  // namespace

TEST_CASE("Across three worker-light processes every caller agrees, ws list merges, and "
          "rebalancing after growing and after shrinking moves workspaces with their history",
          "[placement]") {
  ThreePods three;
  const std::vector<int> ab = {0, 1};
  const std::vector<int> ba = {1, 0};
  const std::vector<int> abc = {0, 1, 2};
  const std::vector<int> cba = {2, 1, 0};
  std::vector<std::string> names;
  for (int i = 0; i < 9; ++i) names.push_back("agent-" + std::to_string(i));

  // Two pods: create and fill through callers that list the pods in different orders.
  for (const std::string& name : names) {
    REQUIRE(RunController(three.dir, {three.Flag(ab), "ws", "create", name}).exit_code == 0);
    REQUIRE(RunController(three.dir, {three.Flag(ba), "git", "init", name}).exit_code == 0);
    const fs::path local = three.dir.path() / (name + ".txt");
    std::ofstream(local) << "content of " << name << "\n";
    REQUIRE(RunController(three.dir, {three.Flag(ba), "write", name, "notes/a.txt",
                                      local.string()})
                .exit_code == 0);
    REQUIRE(RunController(three.dir, {three.Flag(ab), "git", "commit", name, "--message=one"})
                .exit_code == 0);
    REQUIRE(RunController(three.dir, {three.Flag(ba), "write", name, "b.txt", local.string()})
                .exit_code == 0);
    REQUIRE(RunController(three.dir, {three.Flag(ab), "git", "commit", name, "--message=two"})
                .exit_code == 0);
  }
  // Each workspace is on exactly its placed pod.
  for (const std::string& name : names) {
    const int pod = three.Placed(name, ab);
    CHECK(pod == three.Placed(name, ba));
    for (int i = 0; i < 3; ++i) CHECK(three.On(i).count(name) == (i == pod ? 1u : 0u));
  }
  std::map<std::string, std::vector<std::string>> history;
  for (const std::string& name : names) history[name] = three.Log(three.Placed(name, ab), name);

  // Grow to three pods. Rendezvous: only workspaces placed on the new pod change place.
  std::vector<std::string> to_new;
  for (const std::string& name : names) {
    CHECK(three.Placed(name, abc) == three.Placed(name, cba));
    if (three.Placed(name, abc) == 2) {
      to_new.push_back(name);
    } else {
      CHECK(three.Placed(name, abc) == three.Placed(name, ab));
    }
  }
  REQUIRE_FALSE(to_new.empty());
  // Before the rebalance the new pod lacks them: NOT_FOUND with the hint, and no empty twin.
  Result missing = RunController(three.dir, {three.Flag(cba), "cat", to_new[0], "b.txt"});
  CHECK(missing.exit_code == 3);
  CHECK(missing.err.find("NOT_FOUND") != std::string::npos);
  CHECK(missing.err.find("ws rebalance") != std::string::npos);
  Result twin = RunController(three.dir, {three.Flag(abc), "ws", "create", to_new[0]});
  CHECK(twin.exit_code != 0);
  CHECK(twin.err.find("ws move") != std::string::npos);
  // ws list merges all pods and shows what is misplaced.
  Result listed = RunController(three.dir, {three.Flag(cba), "ws", "list", "--json"});
  REQUIRE(listed.exit_code == 0);
  for (const std::string& name : names) {
    CHECK(listed.out.find("\"workspace\":\"" + name + "\"") != std::string::npos);
  }
  CHECK(listed.out.find("\"misplaced\":true") != std::string::npos);

  auto check_moved = [&](const std::vector<std::string>& moved, const std::vector<int>& pool,
                         const std::string& flag) {
    for (const std::string& name : moved) {
      INFO("workspace " << name);
      const int to = three.Placed(name, pool);
      for (int i = 0; i < 3; ++i) CHECK(three.On(i).count(name) == (i == to ? 1u : 0u));
      CHECK(three.Log(to, name) == history[name]);
      Result cat = RunController(three.dir, {flag, "cat", name, "notes/a.txt"});
      CHECK(cat.exit_code == 0);
      CHECK(cat.out == "content of " + name + "\n");
      Result status = RunController(three.dir, {flag, "git", "status", name, "--json"});
      CHECK(status.exit_code == 0);
      CHECK(status.out.find("\"dirty\":true") == std::string::npos);
    }
  };
  Result grown = RunController(three.dir, {three.Flag(abc), "ws", "rebalance"});
  REQUIRE(grown.exit_code == 0);
  check_moved(to_new, abc, three.Flag(cba));
  Result listed_after = RunController(three.dir, {three.Flag(abc), "ws", "list", "--json"});
  CHECK(listed_after.out.find("\"misplaced\":true") == std::string::npos);

  // Shrink back to two: the leaving pod is named as draining, and empties.
  Result shrunk = RunController(three.dir, {three.Flag(ba), "ws", "rebalance",
                                            "--draining=" + three.pods[2]->address()});
  REQUIRE(shrunk.exit_code == 0);
  CHECK(three.On(2).empty());
  check_moved(to_new, ab, three.Flag(ab));
  Result again = RunController(three.dir, {three.Flag(ab), "ws", "rebalance",
                                           "--draining=" + three.pods[2]->address()});
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("every workspace is on its pod") != std::string::npos);
}
