// Fuzzes the topology mesh loader and, when a mesh loads, the analyses every topology call
// runs on it (metrics, edge table, topology, one face and edge inspection, the overlap estimate
// of the mesh with itself moved a little). The first byte
// picks STL or OBJ and the weld epsilon, the rest is the file.
#include <cstdlib>

#include "services/light/core/topology/interference.h"
#include "services/light/core/topology/mesh_inspection.h"
#include "services/light/core/topology/mesh_loader.h"
#include "services/light/core/topology/mesh_metrics.h"
#include "services/light/core/topology/mesh_topology.h"
#include "tests/fuzz/fuzz_workspace.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace workerpair;
  if (size == 0) return 0;
  const char* name = (data[0] & 1) != 0 ? "part.obj" : "part.STL";
  const double epsilons[] = {0, 1e-6, 0.5, 1e300};
  const light::MeshLoadOptions options{.weld_epsilon = epsilons[(data[0] >> 1) & 3]};
  // Smaller than the service's limits so the fuzzer spends its time on structure.
  const light::MeshLimits limits{.max_file_bytes = 1u << 20, .max_triangles = 20000};
  absl::StatusOr<light::TriangleMesh> mesh =
      light::ParseMesh(name, fuzz::AsText(data + 1, size - 1), options, limits);
  if (!mesh.ok()) {
    if (mesh.status().message().size() > 4096) std::abort();
    return 0;
  }
  light::MeasureMesh(*mesh, 100);
  const light::EdgeTable edges = light::BuildEdgeTable(*mesh);
  light::AnalyzeTopology(*mesh, edges);
  light::InspectFace(name, *mesh, 0).IgnoreError();
  light::InspectEdge(name, *mesh, edges, 0).IgnoreError();
  const light::PosedMesh a = light::PoseMesh(*mesh, {});
  light::Pose moved;
  moved.position = {0.01, 0.02, 0.03};
  const light::PosedMesh b = light::PoseMesh(*mesh, moved);
  light::EstimateOverlap(a, b, 8).IgnoreError();
  return 0;
}
