// TopologyAnalyzer: mesh analysis, inspection and assembly validation on the mesh files of a
// workspace, with the service's limits.
//
//   TopologyAnalyzer analyzer(TopologyOptions{});
//   WP_ASSIGN_OR_RETURN(MeshAnalysis analysis, analyzer.Analyze(ws.root, "parts/arm.stl", {}));
//   WP_ASSIGN_OR_RETURN(FaceInspection face, analyzer.InspectFace(ws.root, "parts/arm.stl", 3,
//   {})); WP_ASSIGN_OR_RETURN(AssemblyReport report, analyzer.ValidateAssembly(ws.root, specs, {},
//   {}));
//
// Paths are workspace-relative and confined (ConfinePath). Every call reads and parses the file
// afresh; errors are those of LoadMesh (mesh_loader.h) plus the ones listed per call. Every call
// takes an optional CallBudget, polled while parsing, between analysis steps and while
// sampling overlaps: when it runs out the call returns its CANCELLED / DEADLINE_EXCEEDED.
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_TOPOLOGY_ANALYZER_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_TOPOLOGY_ANALYZER_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "services/light/core/topology/assembly.h"
#include "services/light/core/topology/mesh.h"
#include "services/light/core/topology/mesh_inspection.h"
#include "services/light/core/topology/mesh_loader.h"
#include "services/light/core/topology/mesh_metrics.h"
#include "services/light/core/topology/mesh_topology.h"

namespace workerpair::light {

struct TopologyOptions {
  MeshLimits limits;
  // Most degenerate / duplicate face indices and components one analysis lists.
  std::size_t max_listed_faces = 100;
  std::size_t max_listed_components = 100;
  // Most parts in one assembly.
  std::size_t max_assembly_parts = 64;
  // Overlap sampling resolution when a request names none, and the most it may name.
  int default_samples_per_axis = 64;
  int max_samples_per_axis = 256;
};

struct MeshAnalysis {
  // Workspace-relative path of the file.
  std::string path;
  MeshFormat format = MeshFormat::kStlBinary;
  // Triangles in the file (OBJ polygons triangulated) and welded vertices.
  std::uint64_t triangle_count = 0;
  std::uint64_t vertex_count = 0;
  MeshMetrics metrics;
  // `topology.components` is cut to max_listed_components; `component_count` is the total.
  TopologyReport topology;
  std::uint64_t component_count = 0;
};

// One part of an assembly request: a mesh file and its pose. Exactly one rotation form is used:
// `quaternion` when `use_quaternion`, else `euler_degrees`.
struct AssemblyPartSpec {
  std::string name;
  std::string path;
  Vec3 position;
  Vec3 euler_degrees;
  Quaternion quaternion;
  bool use_quaternion = false;
};

class TopologyAnalyzer {
 public:
  explicit TopologyAnalyzer(TopologyOptions options) : options_(std::move(options)) {}

  // Volume, area, box, centre, manifoldness, components, genus, degenerate/duplicate faces.
  absl::StatusOr<MeshAnalysis> Analyze(const std::filesystem::path& root, std::string_view path,
                                       const MeshLoadOptions& load,
                                       const CallBudget* budget = nullptr) const;

  // One face by index; OUT_OF_RANGE when there is no such face.
  absl::StatusOr<FaceInspection> InspectFace(const std::filesystem::path& root,
                                             std::string_view path, std::uint64_t index,
                                             const MeshLoadOptions& load,
                                             const CallBudget* budget = nullptr) const;

  // One edge by index (EdgeTable order); OUT_OF_RANGE when there is no such edge.
  absl::StatusOr<EdgeInspection> InspectEdge(const std::filesystem::path& root,
                                             std::string_view path, std::uint64_t index,
                                             const MeshLoadOptions& load,
                                             const CallBudget* budget = nullptr) const;

  // Loads every part's mesh (a file named by several parts is read once) and validates the
  // assembly. `assembly.samples_per_axis` <= 0 takes the default. INVALID_ARGUMENT for more than
  // max_assembly_parts parts, more than max_samples_per_axis samples, or a bad rotation; errors
  // of a part's mesh name the part. See ValidateAssembly for the rest.
  absl::StatusOr<AssemblyReport> ValidateAssembly(const std::filesystem::path& root,
                                                  const std::vector<AssemblyPartSpec>& parts,
                                                  AssemblyOptions assembly,
                                                  const MeshLoadOptions& load,
                                                  const CallBudget* budget = nullptr) const;

  const TopologyOptions& options() const { return options_; }

 private:
  TopologyOptions options_;
};

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_TOPOLOGY_ANALYZER_H_
