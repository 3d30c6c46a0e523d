// Mesh files and requests written to make topology calls crash, stall or eat memory: every one
// must end in a clear error, and a budget that runs out must stop the work.
#include <catch2/catch.hpp>

#include <string>

#include "services/light/core/topology/assembly.h"
#include "services/light/core/topology/interference.h"
#include "services/light/core/topology/mesh_loader.h"
#include "services/light/core/topology/topology_analyzer.h"
#include "tests/light/topology/test_meshes.h"
#include "tests/support/server_process.h"

namespace workerpair::light {
namespace {

TEST_CASE("Hostile mesh bytes are INVALID_ARGUMENT with a bounded message",
          "[topology][hostile]") {
  std::string face = "v 0 0 0\nv 1 0 0\nv 0 1 0\nf";
  for (int i = 0; i < 100000; ++i) face += " 1";
  absl::Status status = ParseMesh("a.obj", face, {}, {}).status();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(status.message()).find("more than 65535") != std::string::npos);

  for (const std::string obj : std::vector<std::string>{
           "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 99999999999999999999\n",
           "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 -9223372036854775808\n",
           "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 4\n", "v nan 0 0\n", "v 1e999 0 0\n",
           "v 0 0 0\nf 1 1 " + std::string(100000, '9') + "\n"}) {
    status = ParseMesh("a.obj", obj, {}, {}).status();
    INFO(obj.substr(0, 60));
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(status.message().size() < 300);
  }
  // A binary STL header claiming 4 billion triangles in 84 bytes.
  std::string stl(84, '\0');
  stl[80] = stl[81] = stl[82] = stl[83] = '\xff';
  CHECK(ParseMesh("a.stl", stl, {}, {}).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Mesh parsing stops when its budget runs out", "[topology][hostile][budget]") {
  const std::string stl = test::BinaryStl(test::Sphere({0, 0, 0}, 1, 64, 32));
  const CallBudget cancelled;
  cancelled.Cancel();
  CHECK(ParseMesh("a.stl", stl, {}, {}, &cancelled).status().code() ==
        absl::StatusCode::kCancelled);
  const CallBudget plenty(absl::Now() + absl::Seconds(60), [] { return false; });
  CHECK(ParseMesh("a.stl", stl, {}, {}, &plenty).ok());
}

// Many large parallel triangles stacked along x: every sampling row crosses all of them.
TriangleMesh LayeredMesh(int layers) {
  test::Soup soup;
  for (int i = 0; i < layers; ++i) {
    const double x = i * 1e-4;
    const auto base = static_cast<std::uint32_t>(soup.v.size());
    soup.v.insert(soup.v.end(), {Vec3{x, 0, 0}, Vec3{x, 1, 0}, Vec3{x, 0, 1}, Vec3{x, 1, 1}});
    soup.f.push_back({base, base + 1, base + 2});
    soup.f.push_back({base + 3, base + 2, base + 1});
  }
  absl::StatusOr<TriangleMesh> mesh = ParseMesh("layers.obj", test::Obj(soup), {}, {});
  REQUIRE(mesh.ok());
  return std::move(*mesh);
}

TEST_CASE("An overlap estimate over its crossing budget is RESOURCE_EXHAUSTED",
          "[topology][hostile]") {
  const TriangleMesh layers = LayeredMesh(20000);
  const PosedMesh a = PoseMesh(layers, {});
  const PosedMesh b = PoseMesh(layers, {{0.5, 0, 0}, {}});
  absl::StatusOr<OverlapEstimate> estimate = EstimateOverlap(a, b, 256);
  CHECK(estimate.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(std::string(estimate.status().message()).find("samples_per_axis") != std::string::npos);

  const std::vector<AssemblyPart> parts = {{"a", &layers, {}}, {"b", &layers, {{0.5, 0, 0}, {}}}};
  absl::StatusOr<AssemblyReport> report = ValidateAssembly(parts, {.samples_per_axis = 256});
  CHECK(report.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(std::string(report.status().message()).find("parts 'a' and 'b'") != std::string::npos);

  // The budget stops it too, before any limit.
  const CallBudget expired(absl::Now() - absl::Seconds(1), nullptr);
  report = ValidateAssembly(parts, {.samples_per_axis = 256, .budget = &expired});
  CHECK(report.status().code() == absl::StatusCode::kDeadlineExceeded);
}

TEST_CASE("TopologyAnalyzer calls return the budget's status", "[topology][hostile][budget]") {
  testing::TempDir dir;
  test::WriteBytes(dir.path() / "s.stl", test::BinaryStl(test::Cube({0, 0, 0}, 1)));
  const TopologyAnalyzer analyzer(TopologyOptions{});
  const CallBudget cancelled;
  cancelled.Cancel();
  CHECK(analyzer.Analyze(dir.path(), "s.stl", {}, &cancelled).status().code() ==
        absl::StatusCode::kCancelled);
  CHECK(analyzer.InspectEdge(dir.path(), "s.stl", 0, {}, &cancelled).status().code() ==
        absl::StatusCode::kCancelled);
  const std::vector<AssemblyPartSpec> specs = {{.name = "p", .path = "s.stl"}};
  CHECK(analyzer.ValidateAssembly(dir.path(), specs, {}, {}, &cancelled).status().code() ==
        absl::StatusCode::kCancelled);
  CHECK(analyzer.Analyze(dir.path(), "s.stl", {}).ok());
}

}  // namespace
}  // namespace workerpair::light
