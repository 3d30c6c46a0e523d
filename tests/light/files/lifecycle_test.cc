// worker-light as a process: health per service, configuration from the environment, and a
// clean exit on SIGTERM.
#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/support/server_process.h"
#include "workerpair/v1/light_files.grpc.pb.h"

namespace v1 = workerpair::v1;
namespace health = grpc::health::v1;
using workerpair::testing::ServerProcess;
using workerpair::testing::TempDir;

namespace {

grpc::Status Check(health::Health::Stub& stub, const std::string& service,
                   health::HealthCheckResponse* response) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  health::HealthCheckRequest request;
  request.set_service(service);
  return stub.Check(&context, request, response);
}

}  // namespace

TEST_CASE("Health reports SERVING for the server and for LightFiles", "[lifecycle]") {
  TempDir dir;
  auto light = ServerProcess::Start(WORKERPAIR_LIGHT_BINARY,
                                    {"--root=" + dir.path().string(), "--log_level=warn"});
  REQUIRE(light.ok());
  auto stub = health::Health::NewStub((*light)->Channel());
  health::HealthCheckResponse response;
  REQUIRE(Check(*stub, "", &response).ok());
  CHECK(response.status() == health::HealthCheckResponse::SERVING);
  REQUIRE(Check(*stub, "workerpair.v1.LightFilesService", &response).ok());
  CHECK(response.status() == health::HealthCheckResponse::SERVING);
  CHECK(Check(*stub, "workerpair.v1.NoSuchService", &response).error_code() ==
        grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("Flags come from WORKERPAIR_* environment variables", "[lifecycle]") {
  TempDir dir;
  auto light = ServerProcess::Start(
      WORKERPAIR_LIGHT_BINARY, {"--log_level=warn"}, absl::Seconds(60),
      {{"WORKERPAIR_ROOT", (dir.path() / "from-env").string()}, {"WORKERPAIR_MAX_READ_MB", "1"}});
  REQUIRE(light.ok());
  auto stub = v1::LightFilesService::NewStub((*light)->Channel());
  {
    grpc::ClientContext context;
    v1::CreateWorkspaceRequest request;
    request.set_workspace("ws");
    v1::CreateWorkspaceResponse response;
    REQUIRE(stub->CreateWorkspace(&context, request, &response).ok());
  }
  CHECK(std::filesystem::is_directory(dir.path() / "from-env/ws"));
  {
    grpc::ClientContext context;
    v1::WriteFileRequest request;
    request.set_workspace("ws");
    request.set_path("big");
    request.set_content(std::string((1 << 20) + 10, 'x'));
    v1::WriteFileResponse response;
    REQUIRE(stub->WriteFile(&context, request, &response).ok());
  }
  grpc::ClientContext context;
  v1::ReadFileRequest request;
  request.set_workspace("ws");
  request.set_path("big");
  v1::ReadFileResponse response;
  CHECK(stub->ReadFile(&context, request, &response).error_code() ==
        grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_CASE("SIGTERM shuts worker-light down cleanly with exit status 0", "[lifecycle]") {
  TempDir dir;
  auto light = ServerProcess::Start(WORKERPAIR_LIGHT_BINARY,
                                    {"--root=" + dir.path().string(), "--log_level=warn",
                                     "--shutdown_grace=2s"});
  REQUIRE(light.ok());
  (*light)->Signal(SIGTERM);
  const int status = (*light)->Wait(absl::Seconds(10));
  REQUIRE(status != -1);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("A bad flag value is refused at start-up", "[lifecycle]") {
  TempDir dir;
  auto light = ServerProcess::Start(WORKERPAIR_LIGHT_BINARY,
                                    {"--root=" + dir.path().string(), "--log_level=loud"},
                                    absl::Seconds(20));
  CHECK_FALSE(light.ok());
}
