#include "services/light/core/topology/topology_analyzer.h"

#include <map>
#include <memory>

#include "absl/status/status.h"
#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"

namespace workerpair::light {
namespace {

absl::Status CheckBudget(const CallBudget* budget) {
  return budget != nullptr ? budget->Check() : absl::OkStatus();
}

// A budget's own status passes through unchanged (not wrapped with a part's name).
bool IsBudgetStatus(const absl::Status& status) {
  return status.code() == absl::StatusCode::kCancelled ||
         status.code() == absl::StatusCode::kDeadlineExceeded;
}

}  // namespace

absl::StatusOr<MeshAnalysis> TopologyAnalyzer::Analyze(const std::filesystem::path& root,
                                                       std::string_view path,
                                                       const MeshLoadOptions& load,
                                                       const CallBudget* budget) const {
  WP_ASSIGN_OR_RETURN(TriangleMesh mesh, LoadMesh(root, path, load, options_.limits, budget));
  MeshAnalysis analysis;
  analysis.path = std::string(path);
  analysis.format = mesh.format;
  analysis.triangle_count = mesh.triangles.size();
  analysis.vertex_count = mesh.vertices.size();
  // Each step is O(n log n) in the triangles (at most MeshLimits::max_triangles): the budget
  // is asked between them.
  analysis.metrics = MeasureMesh(mesh, options_.max_listed_faces);
  WP_RETURN_IF_ERROR(CheckBudget(budget));
  const EdgeTable edges = BuildEdgeTable(mesh);
  WP_RETURN_IF_ERROR(CheckBudget(budget));
  analysis.topology = AnalyzeTopology(mesh, edges);
  analysis.component_count = analysis.topology.components.size();
  if (analysis.topology.components.size() > options_.max_listed_components) {
    analysis.topology.components.resize(options_.max_listed_components);
  }
  return analysis;
}

absl::StatusOr<FaceInspection> TopologyAnalyzer::InspectFace(const std::filesystem::path& root,
                                                             std::string_view path,
                                                             std::uint64_t index,
                                                             const MeshLoadOptions& load,
                                                             const CallBudget* budget) const {
  WP_ASSIGN_OR_RETURN(TriangleMesh mesh, LoadMesh(root, path, load, options_.limits, budget));
  return light::InspectFace(path, mesh, index);
}

absl::StatusOr<EdgeInspection> TopologyAnalyzer::InspectEdge(const std::filesystem::path& root,
                                                             std::string_view path,
                                                             std::uint64_t index,
                                                             const MeshLoadOptions& load,
                                                             const CallBudget* budget) const {
  WP_ASSIGN_OR_RETURN(TriangleMesh mesh, LoadMesh(root, path, load, options_.limits, budget));
  const EdgeTable edges = BuildEdgeTable(mesh);
  WP_RETURN_IF_ERROR(CheckBudget(budget));
  return light::InspectEdge(path, mesh, edges, index);
}

absl::StatusOr<AssemblyReport> TopologyAnalyzer::ValidateAssembly(
    const std::filesystem::path& root, const std::vector<AssemblyPartSpec>& specs,
    AssemblyOptions assembly, const MeshLoadOptions& load, const CallBudget* budget) const {
  if (specs.size() > options_.max_assembly_parts) {
    return absl::InvalidArgumentError(StrCat("the assembly has ", specs.size(),
                                             " parts; the limit is ", options_.max_assembly_parts));
  }
  if (assembly.samples_per_axis <= 0) assembly.samples_per_axis = options_.default_samples_per_axis;
  if (assembly.samples_per_axis > options_.max_samples_per_axis) {
    return absl::InvalidArgumentError(StrCat("samples per axis ", assembly.samples_per_axis,
                                             " is over the limit ", options_.max_samples_per_axis));
  }
  // Each file is loaded once, however many parts use it.
  std::map<std::string, std::unique_ptr<TriangleMesh>, std::less<>> meshes;
  std::vector<AssemblyPart> parts;
  parts.reserve(specs.size());
  for (const AssemblyPartSpec& spec : specs) {
    auto found = meshes.find(spec.path);
    if (found == meshes.end()) {
      absl::StatusOr<TriangleMesh> mesh =
          LoadMesh(root, spec.path, load, options_.limits, budget);
      if (!mesh.ok()) {
        if (IsBudgetStatus(mesh.status())) return mesh.status();
        return absl::Status(
            mesh.status().code(),
            StrCat("part '", spec.name, "': ", std::string(mesh.status().message())));
      }
      found = meshes.emplace(spec.path, std::make_unique<TriangleMesh>(std::move(*mesh))).first;
    }
    Quaternion rotation = QuaternionFromEulerDegrees(spec.euler_degrees);
    if (spec.use_quaternion) {
      absl::StatusOr<Quaternion> normalized = NormalizeQuaternion(spec.quaternion);
      if (!normalized.ok()) {
        return absl::InvalidArgumentError(
            StrCat("part '", spec.name, "': ", std::string(normalized.status().message())));
      }
      rotation = *normalized;
    } else if (!IsFinite(spec.euler_degrees)) {
      return absl::InvalidArgumentError(
          StrCat("part '", spec.name, "': Euler angles must be finite"));
    }
    parts.push_back({spec.name, found->second.get(), {spec.position, rotation}});
  }
  assembly.budget = budget;
  return light::ValidateAssembly(parts, assembly);
}

}  // namespace workerpair::light
