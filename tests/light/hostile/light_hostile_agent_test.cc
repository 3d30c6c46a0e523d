// worker-light against a hostile or careless agent, through the real binary over gRPC: content
// that used to crash it, calls that used to run on after their client left, input that could
// corrupt history or escape. After each attack the service must still answer a normal call.
#include <catch2/catch.hpp>
#include <git2.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <signal.h>
#include <unistd.h>

#include "tests/support/server_process.h"
#include "workerpair/v1/light_files.grpc.pb.h"
#include "workerpair/v1/light_git.grpc.pb.h"
#include "workerpair/v1/light_lint.grpc.pb.h"

namespace fs = std::filesystem;
namespace v1 = workerpair::v1;
using workerpair::testing::ServerProcess;
using workerpair::testing::TempDir;

namespace {

std::chrono::system_clock::time_point In(std::chrono::milliseconds delay) {
  return std::chrono::system_clock::now() + delay;
}

struct LightServer {
  explicit LightServer(std::vector<std::string> flags = {}) {
    fs::create_directories(dir.path() / "root/ws");
    fs::create_directories(dir.path() / "root/other");
    flags.push_back("--root=" + (dir.path() / "root").string());
    flags.push_back("--log_level=warn");
    auto started = ServerProcess::Start(WORKERPAIR_LIGHT_BINARY, flags);
    REQUIRE(started.ok());
    process = std::move(*started);
    files = v1::LightFilesService::NewStub(process->Channel());
    lint = v1::LightLintService::NewStub(process->Channel());
    git = v1::LightGitService::NewStub(process->Channel());
  }

  void Write(const std::string& path, const std::string& content,
             const std::string& workspace = "ws") {
    const fs::path file = dir.path() / "root" / workspace / path;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << content;
  }

  // The service is up and answers a normal call.
  void RequireHealthy() {
    REQUIRE(process->running());
    REQUIRE(::kill(process->pid(), 0) == 0);
    grpc::ClientContext context;
    context.set_deadline(In(std::chrono::seconds(10)));
    v1::PingResponse pong;
    REQUIRE(files->Ping(&context, v1::PingRequest(), &pong).ok());
    grpc::ClientContext list_context;
    list_context.set_deadline(In(std::chrono::seconds(10)));
    v1::ListFilesRequest list;
    list.set_workspace("ws");
    v1::ListFilesResponse listed;
    REQUIRE(files->ListFiles(&list_context, list, &listed).ok());
  }

  // CPU seconds (user + system) the server process has used so far.
  double CpuSeconds() const {
    std::ifstream stat("/proc/" + std::to_string(process->pid()) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    // Fields after the command name, which is in parentheses and may hold spaces.
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::vector<std::string> values;
    for (std::string field; fields >> field;) values.push_back(field);
    REQUIRE(values.size() > 13);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    return (std::stod(values[11]) + std::stod(values[12])) /
           static_cast<double>(::sysconf(_SC_CLK_TCK));
  }

  grpc::Status Grep(const std::string& pattern, std::chrono::milliseconds deadline,
                    v1::GrepResponse* response, const std::string& workspace = "ws",
                    grpc::ClientContext* context = nullptr) {
    grpc::ClientContext own;
    if (context == nullptr) context = &own;
    context->set_deadline(In(deadline));
    v1::GrepRequest request;
    request.set_workspace(workspace);
    request.set_pattern(pattern);
    return files->Grep(context, request, response);
  }

  TempDir dir;
  std::unique_ptr<ServerProcess> process;
  std::unique_ptr<v1::LightFilesService::Stub> files;
  std::unique_ptr<v1::LightLintService::Stub> lint;
  std::unique_ptr<v1::LightGitService::Stub> git;
};

// 15 MiB of random 'a'/'b' in 1 MiB lines: `[ab]*a[ab]{20}c` makes RE2's DFA build a new state
// for nearly every byte (microseconds per byte), so a grep over it runs for over a minute.
std::string CostlyText() {
  std::mt19937 random(7);
  std::string text;
  text.reserve(15u << 20);
  for (std::size_t i = 0; i < (15u << 20); ++i) {
    text.push_back(i % (1u << 20) == (1u << 20) - 1 ? '\n' : static_cast<char>('a' + random() % 2));
  }
  return text;
}
constexpr char kCostlyPattern[] = "[ab]*a[ab]{20}c";

const v1::Diagnostic* Find(const v1::LintResult& response, const std::string& code) {
  for (const v1::Diagnostic& d : response.diagnostics()) {
    if (d.code() == code) return &d;
  }
  return nullptr;
}

std::string DeepManifest() {
  return R"({"version":1,"assembly":{"parts":[{"name":"a","mesh":"a.stl","pos":)" +
         std::string(400000, '[') + std::string(400000, ']') + "}]}}";
}

}  // namespace

TEST_CASE("A manifest of 400000 nested arrays is a diagnostic through LintFile and LintWorkspace",
          "[hostile][lint][integration]") {
  LightServer server;
  server.Write("payload/manifest.json", DeepManifest());
  server.Write("payload/big.json.xml", "<mujoco>" + std::string(100000, 'x') + "</mujoco>");

  v1::LintFileRequest one;
  one.set_workspace("ws");
  one.set_path("payload/manifest.json");
  one.set_skip_external(true);
  v1::LintFileResponse file_response;
  grpc::ClientContext context;
  context.set_deadline(In(std::chrono::seconds(60)));
  const grpc::Status status = server.lint->LintFile(&context, one, &file_response);
  const v1::LintResult& response = file_response.result();
  INFO(status.error_message());
  REQUIRE(status.ok());
  const v1::Diagnostic* over = Find(response, "manifest/over-limit");
  REQUIRE(over != nullptr);
  CHECK(over->message().size() < 200);
  CHECK_FALSE(response.ok());
  server.RequireHealthy();

  v1::LintWorkspaceRequest all;
  all.set_workspace("ws");
  all.set_skip_external(true);
  v1::LintWorkspaceResponse all_workspace;
  grpc::ClientContext all_context;
  all_context.set_deadline(In(std::chrono::seconds(60)));
  REQUIRE(server.lint->LintWorkspace(&all_context, all, &all_workspace).ok());
  const v1::LintResult& all_response = all_workspace.result();
  CHECK(Find(all_response, "manifest/over-limit") != nullptr);
  CHECK(all_response.files_checked() == 2);
  server.RequireHealthy();

  // Out-of-range numbers are parse errors, not an exception out of the handler.
  server.Write("payload/manifest.json", R"({"version":1e999,"scene":"s.xml"})");
  v1::LintFileResponse number;
  grpc::ClientContext number_context;
  number_context.set_deadline(In(std::chrono::seconds(60)));
  REQUIRE(server.lint->LintFile(&number_context, one, &number).ok());
  CHECK(Find(number.result(), "manifest/parse-error") != nullptr);
  server.RequireHealthy();
}

TEST_CASE("A costly grep stops burning CPU once its client's deadline passes or it cancels",
          "[hostile][grep][integration]") {
  LightServer server;
  server.Write("big.txt", CostlyText());

  // The issue's pattern is no longer costly at all: RE2's DFA only, no NFA fallback.
  v1::GrepResponse quick;
  REQUIRE(server.Grep("[a-z]{999}[0-9]", std::chrono::seconds(60), &quick).ok());
  CHECK(quick.matches_size() == 0);

  // A pattern too large for RE2's memory budget is refused before any file is read.
  v1::GrepResponse refused;
  const grpc::Status too_large = server.Grep("(a{999}){999}", std::chrono::seconds(60), &refused);
  INFO(too_large.error_message());
  CHECK(too_large.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(too_large.error_message().size() < 400);

  // Deadline: the client gives up after 1 s.
  v1::GrepResponse response;
  const grpc::Status status = server.Grep(kCostlyPattern, std::chrono::seconds(1), &response);
  CHECK(status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  // Cancel: the client walks away after 1 s, from another thread.
  grpc::ClientContext cancelled;
  std::thread walk_away([&] {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    cancelled.TryCancel();
  });
  const grpc::Status cancel_status =
      server.Grep(kCostlyPattern, std::chrono::seconds(120), &response, "ws", &cancelled);
  walk_away.join();
  CHECK(cancel_status.error_code() == grpc::StatusCode::CANCELLED);

  // Within a couple of seconds the server's CPU time stops growing: nothing runs on.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const double before = server.CpuSeconds();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const double after = server.CpuSeconds();
  INFO("CPU seconds over 3 s of idling: " << after - before);
  CHECK(after - before < 0.5);
  server.RequireHealthy();
}

TEST_CASE("A call runs no longer than --call_time_limit_s whatever its client's deadline",
          "[hostile][grep][integration]") {
  LightServer server({"--call_time_limit_s=2"});
  server.Write("big.txt", CostlyText());
  v1::GrepResponse response;
  const grpc::Status status = server.Grep(kCostlyPattern, std::chrono::seconds(120), &response);
  INFO(status.error_message());
  CHECK(status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  CHECK(status.error_message().find("--call_time_limit_s") != std::string::npos);
  server.RequireHealthy();
}

TEST_CASE("One workspace cannot run more expensive calls than its cap",
          "[hostile][grep][integration]") {
  LightServer server({"--max_expensive_calls_per_workspace=2"});
  server.Write("big.txt", CostlyText());
  server.Write("small.txt", "zone_goal\n", "other");

  // Two costly greps hold the workspace's two slots (each retried while a probe below holds a
  // slot for its moment; `stop` and a cancel end them).
  std::vector<std::thread> busy;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts(2);
  std::vector<grpc::Status> busy_status(2);
  std::mutex contexts_mutex;
  std::atomic<bool> stop{false};
  for (int i = 0; i < 2; ++i) {
    busy.emplace_back([&, i] {
      while (!stop) {
        grpc::ClientContext* context;
        {
          std::lock_guard<std::mutex> guard(contexts_mutex);
          if (stop) break;  // checked under the lock the canceller holds
          contexts[i] = std::make_unique<grpc::ClientContext>();
          context = contexts[i].get();
        }
        v1::GrepResponse ignored;
        busy_status[i] =
            server.Grep(kCostlyPattern, std::chrono::seconds(120), &ignored, "ws", context);
        if (busy_status[i].error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  }
  // The third is refused at once with a message naming the cap; poll until the two run.
  grpc::Status third;
  for (int attempt = 0; attempt < 100; ++attempt) {
    v1::GrepResponse response;
    third = server.Grep("zone_goal", std::chrono::seconds(30), &response);
    if (third.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  INFO(third.error_message());
  CHECK(third.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(third.error_message().find("limit per workspace") != std::string::npos);
  // Another workspace, and cheap calls, are served meanwhile.
  v1::GrepResponse other;
  REQUIRE(server.Grep("zone_goal", std::chrono::seconds(30), &other, "other").ok());
  CHECK(other.matches_size() == 1);
  server.RequireHealthy();
  stop = true;
  {
    std::lock_guard<std::mutex> guard(contexts_mutex);
    for (auto& context : contexts) {
      if (context != nullptr) context->TryCancel();
    }
  }
  for (std::thread& thread : busy) thread.join();
  for (const grpc::Status& status : busy_status) {
    INFO(status.error_message());
    CHECK(status.error_code() == grpc::StatusCode::CANCELLED);
  }
  // Slots come back once the calls stop.
  grpc::Status after;
  for (int attempt = 0; attempt < 50; ++attempt) {
    v1::GrepResponse response;
    after = server.Grep("zone_goal", std::chrono::seconds(30), &response);
    if (after.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(after.ok());
}

TEST_CASE("GitPush to A/../outside is PERMISSION_DENIED, a newline author INVALID_ARGUMENT",
          "[hostile][git][integration]") {
  TempDir remotes;
  fs::create_directories(remotes.path() / "A");
  git_libgit2_init();
  for (const fs::path& bare : {remotes.path() / "A/ok.git", remotes.path() / "outside.git"}) {
    git_repository* repo = nullptr;
    REQUIRE(git_repository_init(&repo, bare.c_str(), 1) == 0);
    git_repository_free(repo);
  }
  LightServer server({"--git_push_allowed_prefixes=" + (remotes.path() / "A").string() + "/"});
  auto call = [](auto method, const auto& request, auto* response) {
    grpc::ClientContext context;
    context.set_deadline(In(std::chrono::seconds(30)));
    return method(&context, request, response);
  };
  v1::GitInitRequest init;
  init.set_workspace("ws");
  v1::GitInitResponse init_response;
  REQUIRE(call([&](auto* c, auto& r, auto* o) { return server.git->GitInit(c, r, o); }, init,
               &init_response)
              .ok());
  server.Write("a.txt", "a\n");
  v1::GitCommitRequest commit;
  commit.set_workspace("ws");
  commit.mutable_author()->set_name("Ann");
  commit.mutable_author()->set_email("ann@example.org");
  commit.set_message("first");
  v1::GitCommitResponse committed;
  REQUIRE(call([&](auto* c, auto& r, auto* o) { return server.git->GitCommit(c, r, o); }, commit,
               &committed)
              .ok());

  // The escape.
  v1::GitPushRequest push;
  push.set_workspace("ws");
  push.set_remote("origin");
  push.set_url((remotes.path() / "A").string() + "/../outside.git");
  v1::GitPushResponse pushed;
  const grpc::Status escaped =
      call([&](auto* c, auto& r, auto* o) { return server.git->GitPush(c, r, o); }, push, &pushed);
  CHECK(escaped.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(fs::is_empty(remotes.path() / "outside.git/refs/heads"));
  server.RequireHealthy();
  push.set_url((remotes.path() / "A/ok.git").string());
  CHECK(call([&](auto* c, auto& r, auto* o) { return server.git->GitPush(c, r, o); }, push,
             &pushed)
            .ok());

  // A newline in the author: refused, nothing written, history unchanged.
  server.Write("a.txt", "b\n");
  std::size_t objects_before = 0;
  for (const auto& entry :
       fs::recursive_directory_iterator(server.dir.path() / "root/ws/.git/objects")) {
    objects_before += entry.is_regular_file();
  }
  commit.mutable_author()->set_name("Ann\nEvil: forged");
  commit.set_message("second");
  const grpc::Status forged = call(
      [&](auto* c, auto& r, auto* o) { return server.git->GitCommit(c, r, o); }, commit,
      &committed);
  CHECK(forged.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  std::size_t objects_after = 0;
  for (const auto& entry :
       fs::recursive_directory_iterator(server.dir.path() / "root/ws/.git/objects")) {
    objects_after += entry.is_regular_file();
  }
  CHECK(objects_after == objects_before);
  v1::GitLogRequest log;
  log.set_workspace("ws");
  v1::GitLogResponse history;
  REQUIRE(call([&](auto* c, auto& r, auto* o) { return server.git->GitLog(c, r, o); }, log,
               &history)
              .ok());
  CHECK(history.entries_size() == 1);
  server.RequireHealthy();
  commit.mutable_author()->set_name("Ann");
  CHECK(call([&](auto* c, auto& r, auto* o) { return server.git->GitCommit(c, r, o); }, commit,
             &committed)
            .ok());
}

TEST_CASE("Workspace names follow one pattern: no -rf, no .hidden", "[hostile][integration]") {
  LightServer server;
  for (const std::string& bad : std::vector<std::string>{
           "-rf", "--help", ".git", "..", "a/b", "a b", "", "_x", std::string(65, 'a')}) {
    v1::CreateWorkspaceRequest request;
    request.set_workspace(bad);
    v1::CreateWorkspaceResponse response;
    grpc::ClientContext context;
    context.set_deadline(In(std::chrono::seconds(10)));
    INFO(bad);
    const grpc::Status status = server.files->CreateWorkspace(&context, request, &response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  }
  CHECK_FALSE(fs::exists(server.dir.path() / "root/-rf"));
  v1::CreateWorkspaceRequest good;
  good.set_workspace("agent-7.run_1");
  v1::CreateWorkspaceResponse created;
  grpc::ClientContext context;
  context.set_deadline(In(std::chrono::seconds(10)));
  CHECK(server.files->CreateWorkspace(&context, good, &created).ok());
  server.RequireHealthy();
}
