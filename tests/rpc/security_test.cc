// TLS, mutual TLS and bearer tokens, end to end against the real worker-light.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "grpc/health/v1/health.grpc.pb.h"
#include "libs/rpc/client_channel.h"
#include "libs/rpc/server_credentials.h"
#include "tests/support/server_process.h"
#include "workerpair/v1/light_files.grpc.pb.h"

namespace fs = std::filesystem;
namespace v1 = workerpair::v1;
using workerpair::ClientSecurityOptions;
using workerpair::MakeClientChannel;
using workerpair::testing::ServerProcess;
using workerpair::testing::TempDir;

namespace {

struct Pki {
  Pki() {
    const std::string command = std::string("bash ") + WORKERPAIR_SOURCE_DIR +
                                "/scripts/gen_test_certs.sh " + dir.path().string() +
                                " > /dev/null";
    REQUIRE(std::system(command.c_str()) == 0);
    std::ifstream in(dir.path() / "token");
    std::getline(in, token);
  }
  std::string File(const char* name) const { return (dir.path() / name).string(); }
  TempDir dir;
  std::string token;
};

grpc::Status CreateWorkspace(const std::shared_ptr<grpc::Channel>& channel,
                             const std::string& name) {
  auto stub = v1::LightFilesService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::CreateWorkspaceRequest request;
  request.set_workspace(name);
  v1::CreateWorkspaceResponse response;
  return stub->CreateWorkspace(&context, request, &response);
}

grpc::Status HealthCheck(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::health::v1::HealthCheckResponse response;
  return stub->Check(&context, grpc::health::v1::HealthCheckRequest(), &response);
}

std::shared_ptr<grpc::Channel> Channel(const ServerProcess& server,
                                       const ClientSecurityOptions& options) {
  auto channel = MakeClientChannel(server.address(), options);
  REQUIRE(channel.ok());
  return *channel;
}

}  // namespace

TEST_CASE("TLS with a bearer token: the right token works, a wrong or missing one is "
          "UNAUTHENTICATED and does nothing, health needs no token", "[security]") {
  Pki pki;
  TempDir root;
  auto server = ServerProcess::Start(
      WORKERPAIR_LIGHT_BINARY,
      {"--root=" + root.path().string(), "--log_level=warn", "--tls_cert=" + pki.File("server.crt"),
       "--tls_key=" + pki.File("server.key"), "--auth_token_file=" + pki.File("token")});
  REQUIRE(server.ok());

  ClientSecurityOptions good;
  good.ca_file = pki.File("ca.crt");
  good.token = pki.token;
  CHECK(CreateWorkspace(Channel(**server, good), "allowed").ok());

  ClientSecurityOptions wrong = good;
  wrong.token = "not-the-token";
  grpc::Status refused = CreateWorkspace(Channel(**server, wrong), "refused");
  CHECK(refused.error_code() == grpc::StatusCode::UNAUTHENTICATED);

  ClientSecurityOptions none = good;
  none.token.clear();
  CHECK(CreateWorkspace(Channel(**server, none), "refused2").error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  CHECK(HealthCheck(Channel(**server, none)).ok());

  CHECK(fs::exists(root.path() / "allowed"));
  CHECK_FALSE(fs::exists(root.path() / "refused"));
  CHECK_FALSE(fs::exists(root.path() / "refused2"));
}

TEST_CASE("Mutual TLS: only clients with a certificate from the configured CA get in",
          "[security]") {
  Pki pki;
  TempDir root;
  auto server = ServerProcess::Start(
      WORKERPAIR_LIGHT_BINARY,
      {"--root=" + root.path().string(), "--log_level=warn", "--tls_cert=" + pki.File("server.crt"),
       "--tls_key=" + pki.File("server.key"), "--tls_client_ca=" + pki.File("ca.crt")});
  REQUIRE(server.ok());

  ClientSecurityOptions with_cert;
  with_cert.ca_file = pki.File("ca.crt");
  with_cert.cert_file = pki.File("client.crt");
  with_cert.key_file = pki.File("client.key");
  CHECK(CreateWorkspace(Channel(**server, with_cert), "allowed").ok());

  ClientSecurityOptions without_cert;
  without_cert.ca_file = pki.File("ca.crt");
  CHECK(CreateWorkspace(Channel(**server, without_cert), "no-cert").error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);

  ClientSecurityOptions rogue = with_cert;
  rogue.cert_file = pki.File("rogue-client.crt");
  rogue.key_file = pki.File("rogue-client.key");
  CHECK_FALSE(CreateWorkspace(Channel(**server, rogue), "rogue").ok());

  ClientSecurityOptions plaintext;
  auto insecure = MakeClientChannel((*server)->address(), plaintext);
  REQUIRE(insecure.ok());
  CHECK_FALSE(CreateWorkspace(*insecure, "plain").ok());

  CHECK(fs::exists(root.path() / "allowed"));
  for (const char* refused : {"no-cert", "rogue", "plain"}) {
    CHECK_FALSE(fs::exists(root.path() / refused));
  }
}

TEST_CASE("A bearer token without TLS is refused at start-up", "[security]") {
  Pki pki;
  TempDir root;
  auto server = ServerProcess::Start(WORKERPAIR_LIGHT_BINARY,
                                     {"--root=" + root.path().string(), "--log_level=off",
                                      "--auth_token_file=" + pki.File("token")},
                                     absl::Seconds(20));
  CHECK_FALSE(server.ok());
}

TEST_CASE("With TLS on, a plaintext health-only port answers probes and serves nothing else",
          "[security]") {
  Pki pki;
  TempDir root;
  auto server = ServerProcess::Start(
      WORKERPAIR_LIGHT_BINARY,
      {"--root=" + root.path().string(), "--log_level=warn", "--tls_cert=" + pki.File("server.crt"),
       "--tls_key=" + pki.File("server.key"), "--auth_token_file=" + pki.File("token"),
       "--health_listen=127.0.0.1:0"});
  REQUIRE(server.ok());
  REQUIRE((*server)->health_port() > 0);
  auto plaintext = MakeClientChannel("127.0.0.1:" + std::to_string((*server)->health_port()),
                                     ClientSecurityOptions{});
  REQUIRE(plaintext.ok());
  CHECK(HealthCheck(*plaintext).ok());
  CHECK(CreateWorkspace(*plaintext, "sneaky").error_code() == grpc::StatusCode::UNIMPLEMENTED);
  CHECK_FALSE(fs::exists(root.path() / "sneaky"));
}
