// Git calls stop once their caller has gone or their deadline has passed, not only before they
// start: a diff or status of a large working tree whose client cancels or runs out of time
// frees the workspace (a call that needs its tree lock gets it at once) and the service answers
// normal calls right after.
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/server_process.h"
#include "workerpair/v1/light_files.grpc.pb.h"
#include "workerpair/v1/light_git.grpc.pb.h"

namespace fs = std::filesystem;
namespace v1 = workerpair::v1;
using workerpair::testing::ServerProcess;
using workerpair::testing::TempDir;

namespace {

constexpr int kFiles = 800;

// About 100 KB of lines, every line different for another round.
std::string Lines(int file, int round) {
  std::string out;
  for (int line = 0; out.size() < 100000; ++line) {
    out += "round " + std::to_string(round) + " file " + std::to_string(file) + " line " +
           std::to_string(line * (round + 7)) + "\n";
  }
  return out;
}

void Run(const std::string& command) {
  INFO(command);
  REQUIRE(std::system((command + " >/dev/null 2>&1").c_str()) == 0);
}

std::chrono::system_clock::time_point After(std::chrono::milliseconds delay) {
  return std::chrono::system_clock::now() + delay;
}

// A GitLog on the workspace: it needs the workspace's tree lock, so it only returns within its
// short deadline when no earlier call still holds it.
grpc::Status LogRightAfter(v1::LightGitService::Stub& git) {
  grpc::ClientContext context;
  context.set_deadline(After(std::chrono::milliseconds(2500)));
  v1::GitLogRequest request;
  request.set_workspace("ws");
  request.set_limit(1);
  v1::GitLogResponse response;
  return git.GitLog(&context, request, &response);
}

}  // namespace

TEST_CASE("A git diff or status whose client leaves or runs out of time stops at once",
          "[git][budget]") {
  TempDir dir;
  const fs::path root = dir.path() / "root";
  auto started = ServerProcess::Start(WORKERPAIR_LIGHT_BINARY,
                                      {"--root=" + root.string(), "--log_level=error"});
  REQUIRE(started.ok());
  std::unique_ptr<ServerProcess> light = std::move(*started);
  auto files = v1::LightFilesService::NewStub(light->Channel());
  auto git = v1::LightGitService::NewStub(light->Channel());
  {
    grpc::ClientContext context;
    context.set_deadline(After(std::chrono::seconds(10)));
    v1::CreateWorkspaceRequest create;
    create.set_workspace("ws");
    v1::CreateWorkspaceResponse created;
    REQUIRE(files->CreateWorkspace(&context, create, &created).ok());
    grpc::ClientContext init_context;
    init_context.set_deadline(After(std::chrono::seconds(10)));
    v1::GitInitRequest init;
    init.set_workspace("ws");
    v1::GitInitResponse initialised;
    REQUIRE(git->GitInit(&init_context, init, &initialised).ok());
  }
  // 80 MB committed, then every line of every file changed: a diff of the working tree must
  // hash every file and compute 800 patches of entirely different text.
  const fs::path ws = root / "ws";
  for (int i = 0; i < kFiles; ++i) {
    std::ofstream(ws / ("f" + std::to_string(i) + ".txt"), std::ios::binary) << Lines(i, 0);
  }
  const std::string git_cli = "git -C '" + ws.string() +
                              "' -c safe.directory='*' -c user.name=T -c user.email=t@e.org "
                              "-c core.compression=0 ";
  Run(git_cli + "add -A");
  Run(git_cli + "commit -q -m base");
  for (int i = 0; i < kFiles; ++i) {
    std::ofstream(ws / ("f" + std::to_string(i) + ".txt"), std::ios::binary | std::ios::trunc)
        << Lines(i, 1);
  }

  {  // The workload outlasts a short deadline, and the diff stops there. (A 2 s deadline was
     // not enough: a quiet 2-core CI machine finished this diff in under 2 s.)
    grpc::ClientContext context;
    context.set_deadline(After(std::chrono::milliseconds(250)));
    v1::GitDiffRequest request;
    request.set_workspace("ws");
    v1::GitDiffResponse response;
    const grpc::Status status = git->GitDiff(&context, request, &response);
    INFO(status.error_code() << " " << status.error_message());
    CHECK(status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
    const grpc::Status after = LogRightAfter(*git);
    INFO(after.error_message());
    CHECK(after.ok());
  }
  {  // A short deadline.
    for (const bool diff : {true, false}) {
      INFO((diff ? "diff" : "status"));
      grpc::ClientContext context;
      context.set_deadline(After(std::chrono::milliseconds(300)));
      grpc::Status status;
      if (diff) {
        v1::GitDiffRequest request;
        request.set_workspace("ws");
        v1::GitDiffResponse response;
        status = git->GitDiff(&context, request, &response);
        CHECK(status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
      } else {
        v1::GitStatusRequest request;
        request.set_workspace("ws");
        v1::GitStatusResponse response;
        status = git->GitStatus(&context, request, &response);
        // A fast machine may finish the status in time; either way the workspace is free.
        CHECK((status.ok() || status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED));
      }
      const grpc::Status after = LogRightAfter(*git);
      INFO(after.error_message());
      CHECK(after.ok());
    }
  }
  {  // A client that cancels.
    grpc::ClientContext context;
    std::thread canceller([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      context.TryCancel();
    });
    v1::GitDiffRequest request;
    request.set_workspace("ws");
    v1::GitDiffResponse response;
    const grpc::Status status = git->GitDiff(&context, request, &response);
    canceller.join();
    CHECK(status.error_code() == grpc::StatusCode::CANCELLED);
    const grpc::Status after = LogRightAfter(*git);
    INFO(after.error_message());
    CHECK(after.ok());
  }
  // The service is up and answers a file call too.
  grpc::ClientContext context;
  context.set_deadline(After(std::chrono::seconds(5)));
  v1::ReadFileRequest read;
  read.set_workspace("ws");
  read.set_path("f1.txt");
  v1::ReadFileResponse content;
  const grpc::Status status = files->ReadFile(&context, read, &content);
  INFO(status.error_message());
  CHECK(status.ok());
}
