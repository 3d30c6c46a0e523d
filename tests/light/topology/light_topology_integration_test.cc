// worker-light's LightTopology service over real gRPC, against the real binary; meshes are
// written through LightFiles.WriteFile.
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>

#include "tests/light/topology/test_meshes.h"
#include "tests/support/server_process.h"
#include "workerpair/v1/light_files.grpc.pb.h"
#include "workerpair/v1/light_topology.grpc.pb.h"

namespace fs = std::filesystem;
namespace v1 = workerpair::v1;
namespace test = workerpair::light::test;
using workerpair::testing::ServerProcess;
using workerpair::testing::TempDir;

namespace {

void Deadline(grpc::ClientContext* context) {
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
}

struct TopologyServer {
  TopologyServer() {
    auto started = ServerProcess::Start(
        WORKERPAIR_LIGHT_BINARY, {"--root=" + (dir.path() / "root").string(), "--log_level=warn"});
    REQUIRE(started.ok());
    process = std::move(*started);
    files = v1::LightFilesService::NewStub(process->Channel());
    topology = v1::LightTopologyService::NewStub(process->Channel());
    v1::CreateWorkspaceRequest request;
    request.set_workspace("ws");
    request.set_exist_ok(true);
    v1::CreateWorkspaceResponse response;
    grpc::ClientContext context;
    Deadline(&context);
    REQUIRE(files->CreateWorkspace(&context, request, &response).ok());
  }

  void Write(const std::string& path, const std::string& content) {
    v1::WriteFileRequest request;
    request.set_workspace("ws");
    request.set_path(path);
    request.set_content(content);
    request.set_overwrite(true);
    v1::WriteFileResponse response;
    grpc::ClientContext context;
    Deadline(&context);
    const grpc::Status status = files->WriteFile(&context, request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
  }

  grpc::Status Analyze(const std::string& path, v1::AnalyzeMeshResponse* response) {
    v1::AnalyzeMeshRequest request;
    request.set_workspace("ws");
    request.set_path(path);
    grpc::ClientContext context;
    Deadline(&context);
    return topology->AnalyzeMesh(&context, request, response);
  }

  TempDir dir;
  std::unique_ptr<ServerProcess> process;
  std::unique_ptr<v1::LightFilesService::Stub> files;
  std::unique_ptr<v1::LightTopologyService::Stub> topology;
};

void SetVec(v1::TopologyVec3* out, double x, double y, double z) {
  out->set_x(x);
  out->set_y(y);
  out->set_z(z);
}

}  // namespace

TEST_CASE("AnalyzeMesh over gRPC measures a unit cube written through LightFiles",
          "[topology][integration]") {
  TopologyServer server;
  server.Write("parts/cube.stl", test::BinaryStl(test::Cube({0, 0, 0}, 1)));
  v1::AnalyzeMeshResponse response;
  const grpc::Status status = server.Analyze("parts/cube.stl", &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  INFO(response.DebugString());
  CHECK(response.format() == "stl-binary");
  CHECK(response.triangle_count() == 12);
  CHECK(response.vertex_count() == 8);
  CHECK(response.edge_count() == 18);
  CHECK(response.volume() == Approx(1.0));
  CHECK(response.area() == Approx(6.0));
  CHECK(response.center_of_mass().x() == Approx(0.5));
  CHECK(response.bounding_box().max().z() == 1.0);
  CHECK(response.watertight());
  CHECK(response.manifold());
  CHECK(response.consistently_oriented());
  CHECK(response.component_count() == 1);
  CHECK(response.euler_characteristic() == 2);
  REQUIRE(response.has_genus());
  CHECK(response.genus() == 0);
}

TEST_CASE("AnalyzeMesh over gRPC reports a torus's genus and an open box's holes",
          "[topology][integration]") {
  TopologyServer server;
  server.Write("torus.obj", test::Obj(test::Torus(3, 1, 32, 16)));
  test::Soup open = test::CubeQuads({0, 0, 0}, 1);
  open.f.pop_back();
  server.Write("open.obj", test::Obj(open));

  v1::AnalyzeMeshResponse torus;
  REQUIRE(server.Analyze("torus.obj", &torus).ok());
  CHECK(torus.euler_characteristic() == 0);
  REQUIRE(torus.has_genus());
  CHECK(torus.genus() == 1);

  v1::AnalyzeMeshResponse box;
  REQUIRE(server.Analyze("open.obj", &box).ok());
  CHECK_FALSE(box.watertight());
  CHECK(box.boundary_edge_count() == 4);
  CHECK_FALSE(box.has_genus());
}

TEST_CASE("Malformed meshes and bad paths map to gRPC codes without leaking paths",
          "[topology][integration]") {
  TopologyServer server;
  const std::string cube = test::BinaryStl(test::Cube({0, 0, 0}, 1));
  server.Write("bad.stl", cube.substr(0, cube.size() - 7));
  v1::AnalyzeMeshResponse response;
  grpc::Status status = server.Analyze("bad.stl", &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::Contains("'bad.stl'"));
  CHECK_THAT(status.error_message(), !Catch::Contains(server.dir.path().string()));

  server.Write("bad.obj", "v 0 0 0\nv 1 0 0\nf 1 2 9\n");
  status = server.Analyze("bad.obj", &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::Contains("line 3"));

  CHECK(server.Analyze("none.stl", &response).error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(server.Analyze("../../etc/x.stl", &response).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
}

TEST_CASE("InspectFace and InspectEdge over gRPC, with OUT_OF_RANGE past the end",
          "[topology][integration]") {
  TopologyServer server;
  server.Write("cube.stl", test::AsciiStl(test::Cube({0, 0, 0}, 2)));

  v1::InspectFaceRequest face_request;
  face_request.set_workspace("ws");
  face_request.set_path("cube.stl");
  face_request.set_face_index(2);  // first half of the top quad, normal +z
  v1::InspectFaceResponse face;
  {
    grpc::ClientContext context;
    Deadline(&context);
    REQUIRE(server.topology->InspectFace(&context, face_request, &face).ok());
  }
  CHECK(face.area() == Approx(2.0));
  CHECK(face.normal().z() == Approx(1.0));
  CHECK(face.centre().z() == Approx(2.0));
  CHECK(face.vertices_size() == 3);
  CHECK(face.vertex_indices_size() == 3);

  face_request.set_face_index(12);
  {
    grpc::ClientContext context;
    Deadline(&context);
    const grpc::Status status = server.topology->InspectFace(&context, face_request, &face);
    CHECK(status.error_code() == grpc::StatusCode::OUT_OF_RANGE);
    CHECK_THAT(status.error_message(), Catch::Contains("12 faces"));
  }

  v1::InspectEdgeRequest edge_request;
  edge_request.set_workspace("ws");
  edge_request.set_path("cube.stl");
  edge_request.set_edge_index(0);
  v1::InspectEdgeResponse edge;
  {
    grpc::ClientContext context;
    Deadline(&context);
    REQUIRE(server.topology->InspectEdge(&context, edge_request, &edge).ok());
  }
  CHECK(edge.adjacent_faces_size() == 2);
  CHECK(edge.consistent());
  CHECK((edge.length() == Approx(2.0) || edge.length() == Approx(2 * std::sqrt(2.0))));
  edge_request.set_edge_index(18);
  {
    grpc::ClientContext context;
    Deadline(&context);
    CHECK(server.topology->InspectEdge(&context, edge_request, &edge).error_code() ==
          grpc::StatusCode::OUT_OF_RANGE);
  }
}

TEST_CASE("ValidateAssembly over gRPC names interfering parts and zone violations",
          "[topology][integration]") {
  TopologyServer server;
  server.Write("parts/cube.stl", test::BinaryStl(test::Cube({0, 0, 0}, 1)));

  v1::ValidateAssemblyRequest request;
  request.set_workspace("ws");
  v1::TopologyPart* base = request.add_parts();
  base->set_name("base");
  base->set_path("parts/cube.stl");
  v1::TopologyPart* slider = request.add_parts();
  slider->set_name("slider");
  slider->set_path("parts/cube.stl");
  SetVec(slider->mutable_pose()->mutable_position(), 0.5, 0, 0);
  slider->mutable_pose()->mutable_quaternion()->set_w(1);
  v1::TopologyPart* lid = request.add_parts();
  lid->set_name("lid");
  lid->set_path("parts/cube.stl");
  SetVec(lid->mutable_pose()->mutable_position(), 0, 0, 5);
  SetVec(lid->mutable_pose()->mutable_euler_degrees(), 0, 0, 45);
  SetVec(request.mutable_build_zone()->mutable_min(), -1, -1, -1);
  SetVec(request.mutable_build_zone()->mutable_max(), 3, 3, 3);

  v1::ValidateAssemblyResponse response;
  grpc::ClientContext context;
  Deadline(&context);
  const grpc::Status status = server.topology->ValidateAssembly(&context, request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  INFO(response.DebugString());
  CHECK_FALSE(response.ok());
  REQUIRE(response.interferences_size() == 1);
  CHECK(response.interferences(0).part_a() == "base");
  CHECK(response.interferences(0).part_b() == "slider");
  CHECK(response.interferences(0).overlap_volume() == Approx(0.5).epsilon(0.02));
  CHECK(response.interferences(0).exceeds_threshold());
  REQUIRE(response.parts_size() == 3);
  CHECK(response.parts(0).inside_build_zone());
  CHECK_FALSE(response.parts(2).inside_build_zone());
  CHECK(response.parts(2).posed_bounding_box().max().x() -
            response.parts(2).posed_bounding_box().min().x() ==
        Approx(std::sqrt(2.0)));
  std::vector<std::string> codes;
  for (const v1::TopologyFinding& finding : response.findings()) codes.push_back(finding.code());
  CHECK(codes == std::vector<std::string>{"assembly/outside-build-zone", "assembly/interference"});

  // A zero quaternion is the caller's error.
  slider->mutable_pose()->mutable_quaternion()->set_w(0);
  grpc::ClientContext again;
  Deadline(&again);
  CHECK(server.topology->ValidateAssembly(&again, request, &response).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
}
