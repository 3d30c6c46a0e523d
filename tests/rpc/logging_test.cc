// --log_json is JSON on every stderr line, gRPC core's own lines included (they go through
// gpr_set_log_function into the same logger), at every verbosity; --log_level sets how much of
// gRPC's output appears.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/server_process.h"

extern char** environ;

namespace {

// A loopback port held by a listening socket, so a server told to use it fails to bind.
class BusyPort {
 public:
  BusyPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(::listen(fd_, 1) == 0);
    socklen_t length = sizeof(addr);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &length) == 0);
    port_ = ntohs(addr.sin_port);
  }
  ~BusyPort() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

struct Run {
  int exit_status = -1;
  std::vector<std::string> lines;
};

// Runs worker-light with `args` and GRPC_VERBOSITY set to `grpc_verbosity` (unset when empty),
// stderr captured, until it exits (killed after 30 s). With `during`, the server listens on a
// free port; once it serves, `during(port, root)` runs and the server gets SIGTERM.
Run RunLight(const std::vector<std::string>& args, const std::string& grpc_verbosity,
             const std::function<void(int, const std::filesystem::path&)>& during = {}) {
  workerpair::testing::TempDir dir;
  const std::string stderr_path = (dir.path() / "stderr").string();
  const std::filesystem::path root = dir.path() / "root";
  const std::filesystem::path port_file = dir.path() / "port";
  std::vector<std::string> argv_strings = {WORKERPAIR_LIGHT_BINARY, "--root=" + root.string()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  if (during) {
    argv_strings.push_back("--listen=127.0.0.1:0");
    argv_strings.push_back("--port_file=" + port_file.string());
  }
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** env = environ; *env != nullptr; ++env) {
    if (std::strncmp(*env, "GRPC_VERBOSITY=", 15) == 0 || std::strncmp(*env, "GRPC_TRACE=", 11) == 0 ||
        std::strncmp(*env, "WORKERPAIR_", 11) == 0) {
      continue;
    }
    env_strings.emplace_back(*env);
  }
  if (!grpc_verbosity.empty()) env_strings.push_back("GRPC_VERBOSITY=" + grpc_verbosity);
  std::vector<char*> envp;
  for (std::string& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  INFO("starting " << argv_strings[0]);
  REQUIRE(spawned == 0);
  Run run;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  if (during) {
    int port = 0;
    while (port == 0 && std::chrono::steady_clock::now() < deadline) {
      std::ifstream(port_file) >> port;
      if (port == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (port != 0) during(port, root);
    ::kill(pid, SIGTERM);
    CHECK(port != 0);
  }
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      FAIL("worker-light did not exit within 30 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  run.exit_status = status;
  std::ifstream in(stderr_path);
  for (std::string line; std::getline(in, line);) run.lines.push_back(line);
  return run;
}

// Every line is one JSON object with ts, level, logger and msg; returns the objects.
std::vector<nlohmann::json> ParseAll(const Run& run) {
  std::vector<nlohmann::json> records;
  for (const std::string& line : run.lines) {
    INFO("stderr line: " << line);
    nlohmann::json record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    REQUIRE(record.is_object());
    CHECK(record["ts"].is_string());
    CHECK(record["level"].is_string());
    CHECK(record["logger"].is_string());
    CHECK(record["msg"].is_string());
    records.push_back(std::move(record));
  }
  return records;
}

int CountFrom(const std::vector<nlohmann::json>& records, const std::string& logger,
              const std::string& level = "") {
  int count = 0;
  for (const nlohmann::json& record : records) {
    if (record.value("logger", "") == logger && (level.empty() || record.value("level", "") == level)) {
      ++count;
    }
  }
  return count;
}

}  // namespace

TEST_CASE("A port already in use: gRPC's error and ours are JSON lines", "[logging]") {
  BusyPort busy;
  const Run run = RunLight(
      {"--log_json", "--listen=127.0.0.1:" + std::to_string(busy.port())}, "");
  CHECK(WIFEXITED(run.exit_status));
  CHECK(WEXITSTATUS(run.exit_status) != 0);
  const std::vector<nlohmann::json> records = ParseAll(run);
  // gRPC says why it could not bind, through our logger, with its source line.
  REQUIRE(CountFrom(records, "grpc", "error") >= 1);
  for (const nlohmann::json& record : records) {
    if (record["logger"] == "grpc") CHECK(record["src"].is_string());
  }
  CHECK(CountFrom(records, "workerpair", "critical") == 1);
  // At info, gRPC's debug chatter is not produced at all.
  CHECK(CountFrom(records, "grpc", "trace") == 0);
  CHECK(CountFrom(records, "grpc", "debug") == 0);
}

TEST_CASE("GRPC_VERBOSITY=debug: every line gRPC produces is written, all of them JSON",
          "[logging]") {
  BusyPort busy;
  const Run run = RunLight(
      {"--log_json", "--listen=127.0.0.1:" + std::to_string(busy.port())}, "debug");
  const std::vector<nlohmann::json> records = ParseAll(run);
  CHECK(CountFrom(records, "grpc", "error") >= 1);
  // gRPC's INFO and DEBUG lines are logged as debug and trace.
  CHECK(CountFrom(records, "grpc", "debug") + CountFrom(records, "grpc", "trace") >= 1);
}

TEST_CASE("A log level of trace turns gRPC's debug output on, --log_level=off silences it",
          "[logging]") {
  BusyPort busy;
  const std::string listen = "--listen=127.0.0.1:" + std::to_string(busy.port());
  const Run verbose = RunLight({"--log_json", "--log_level=trace", listen}, "");
  const std::vector<nlohmann::json> records = ParseAll(verbose);
  CHECK(CountFrom(records, "grpc", "debug") + CountFrom(records, "grpc", "trace") >= 1);

  const Run quiet = RunLight({"--log_json", "--log_level=off", listen}, "");
  CHECK(quiet.lines.empty());
}

TEST_CASE("Plain-text logs name gRPC's lines", "[logging]") {
  BusyPort busy;
  const Run run = RunLight({"--listen=127.0.0.1:" + std::to_string(busy.port())}, "");
  int grpc_lines = 0;
  for (const std::string& line : run.lines) {
    if (line.find(" grpc ") != std::string::npos) ++grpc_lines;
  }
  CHECK(grpc_lines >= 1);
}

TEST_CASE("Protobuf's own complaints are JSON lines too", "[logging]") {
  const Run run = RunLight({"--log_json"}, "", [](int port, const std::filesystem::path&) {
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                       grpc::InsecureChannelCredentials());
    // A hostile client's request: field 1 (workspace, a proto3 string) holding bytes that are
    // not UTF-8. Parsing it makes protobuf log an error before the call fails.
    const std::string wire = std::string("\x0a\x02\xff\xfe", 4);
    grpc::Slice slice(wire);
    grpc::ByteBuffer request(&slice, 1), response;
    grpc::GenericStub stub(channel);
    grpc::CompletionQueue queue;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto call = stub.PrepareUnaryCall(&context, "/workerpair.v1.LightFilesService/ListFiles", request,
                                      &queue);
    call->StartCall();
    grpc::Status status;
    call->Finish(&response, &status, reinterpret_cast<void*>(1));
    void* tag = nullptr;
    bool ok = false;
    REQUIRE(queue.Next(&tag, &ok));
    CHECK_FALSE(status.ok());
  });
  const std::vector<nlohmann::json> records = ParseAll(run);
  CHECK(CountFrom(records, "protobuf", "error") >= 1);
}
