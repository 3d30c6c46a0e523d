// Server reflection through a real reflection client, as grpcurl-style tools use it.
#include <catch2/catch.hpp>
#include <google/protobuf/descriptor.pb.h>

#include <algorithm>
#include <string>
#include <vector>

#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "tests/support/server_process.h"

namespace reflection = grpc::reflection::v1alpha;
using workerpair::testing::ServerProcess;
using workerpair::testing::TempDir;

namespace {

// Sends one reflection request on a fresh stream and returns the answer.
reflection::ServerReflectionResponse Ask(reflection::ServerReflection::Stub& stub,
                                         const reflection::ServerReflectionRequest& request) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto stream = stub.ServerReflectionInfo(&context);
  REQUIRE(stream->Write(request));
  stream->WritesDone();
  reflection::ServerReflectionResponse response;
  REQUIRE(stream->Read(&response));
  reflection::ServerReflectionResponse extra;
  while (stream->Read(&extra)) {
  }
  REQUIRE(stream->Finish().ok());
  return response;
}

// Names of the services a file descriptor set (as reflection returns it) defines.
std::vector<std::string> ServicesIn(const reflection::ServerReflectionResponse& response) {
  std::vector<std::string> services;
  for (const std::string& bytes : response.file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto file;
    REQUIRE(file.ParseFromString(bytes));
    for (const auto& service : file.service()) {
      services.push_back(file.package() + "." + service.name());
    }
  }
  return services;
}

}  // namespace

TEST_CASE("Reflection lists LightFiles and Health and describes both", "[reflection]") {
  TempDir dir;
  auto light = ServerProcess::Start(WORKERPAIR_LIGHT_BINARY,
                                    {"--root=" + dir.path().string(), "--log_level=warn"});
  REQUIRE(light.ok());
  auto stub = reflection::ServerReflection::NewStub((*light)->Channel());

  reflection::ServerReflectionRequest list;
  list.set_list_services("*");
  auto listed = Ask(*stub, list);
  std::vector<std::string> names;
  for (const auto& service : listed.list_services_response().service()) {
    names.push_back(service.name());
  }
  CHECK(std::count(names.begin(), names.end(), "workerpair.v1.LightFilesService") == 1);
  CHECK(std::count(names.begin(), names.end(), "grpc.health.v1.Health") == 1);

  for (const std::string symbol : {"workerpair.v1.LightFilesService", "grpc.health.v1.Health"}) {
    INFO(symbol);
    reflection::ServerReflectionRequest describe;
    describe.set_file_containing_symbol(symbol);
    auto described = Ask(*stub, describe);
    REQUIRE_FALSE(described.has_error_response());
    auto services = ServicesIn(described);
    CHECK(std::count(services.begin(), services.end(), symbol) == 1);
  }
}
