#include "services/light/core/topology/mesh_loader.h"

#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <optional>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "libs/common/file_io.h"
#include "libs/common/path_confinement.h"
#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "libs/scene/mesh_reader.h"
#include "libs/scene/scene_names.h"

namespace workerpair::light {
namespace {

// Merges corners into shared vertices, exactly or within an epsilon (see the header).
class Welder {
 public:
  explicit Welder(double epsilon) : epsilon_(epsilon) {}

  // Returns the vertex index for `p` (finite), adding a vertex when none matches.
  // INVALID_ARGUMENT when a coordinate is too large for the epsilon grid.
  absl::StatusOr<std::uint32_t> Add(Vec3 p) {
    // Adding 0.0 turns -0.0 into +0.0, so both weld together.
    p = {p.x + 0.0, p.y + 0.0, p.z + 0.0};
    const Key key{std::bit_cast<std::int64_t>(p.x), std::bit_cast<std::int64_t>(p.y),
                  std::bit_cast<std::int64_t>(p.z)};
    if (epsilon_ == 0) {
      auto [it, inserted] = exact_.try_emplace(key, static_cast<std::uint32_t>(vertices_.size()));
      if (inserted) vertices_.push_back(p);
      return it->second;
    }
    // The answer for a position never changes (later vertices have higher indices), so repeated
    // corners, the common case in STL, are answered from the exact map.
    if (auto it = exact_.find(key); it != exact_.end()) return it->second;
    WP_ASSIGN_OR_RETURN(const std::uint32_t index, AddWithinEpsilon(p));
    exact_.emplace(key, index);
    return index;
  }

  std::vector<Vec3> TakeVertices() { return std::move(vertices_); }

 private:
  using Key = std::array<std::int64_t, 3>;
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      std::uint64_t h = 1469598103934665603ull;
      for (std::int64_t v : k) h = (h ^ static_cast<std::uint64_t>(v)) * 1099511628211ull;
      return static_cast<std::size_t>(h ^ (h >> 29));
    }
  };
  static constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

  // Looks in the 27 grid cells around p for the lowest-numbered vertex within epsilon.
  absl::StatusOr<std::uint32_t> AddWithinEpsilon(Vec3 p) {
    Key cell;
    for (int axis = 0; axis < 3; ++axis) {
      const double scaled = std::floor(p[axis] / epsilon_);
      if (!(std::abs(scaled) < 4e18)) {
        return absl::InvalidArgumentError(
            StrCat("weld epsilon ", epsilon_, " is too small for coordinate ", p[axis]));
      }
      cell[axis] = static_cast<std::int64_t>(scaled);
    }
    std::uint32_t best = kNone;
    for (std::int64_t dx = -1; dx <= 1; ++dx) {
      for (std::int64_t dy = -1; dy <= 1; ++dy) {
        for (std::int64_t dz = -1; dz <= 1; ++dz) {
          auto it = cells_.find(Key{cell[0] + dx, cell[1] + dy, cell[2] + dz});
          if (it == cells_.end()) continue;
          for (std::uint32_t index = it->second; index != kNone; index = next_in_cell_[index]) {
            if (index < best && Norm(vertices_[index] - p) <= epsilon_) best = index;
          }
        }
      }
    }
    if (best != kNone) return best;
    const auto index = static_cast<std::uint32_t>(vertices_.size());
    vertices_.push_back(p);
    // Push the vertex on the front of its cell's list.
    auto [head, inserted] = cells_.try_emplace(cell, index);
    next_in_cell_.push_back(inserted ? kNone : head->second);
    head->second = index;
    return index;
  }

  double epsilon_;
  std::vector<Vec3> vertices_;
  // Exact position -> vertex index (with an epsilon: the answer already given for it).
  std::unordered_map<Key, std::uint32_t, KeyHash> exact_;
  // Epsilon welding: each grid cell's most recent vertex, and per vertex the next in its cell.
  std::unordered_map<Key, std::uint32_t, KeyHash> cells_;
  std::vector<std::uint32_t> next_in_cell_;
};

// Welds what the scene contract's mesh reader reads into a TriangleMesh; keeps its first problem.
class MeshBuilder : public scene::MeshSink {
 public:
  MeshBuilder(MeshFormat format, const MeshLoadOptions& options) : welder_(options.weld_epsilon) {
    mesh_.format = format;
  }

  absl::StatusOr<std::uint32_t> Vertex(double x, double y, double z) override {
    return welder_.Add(Vec3{x, y, z});
  }
  absl::Status Triangle(std::uint32_t a, std::uint32_t b, std::uint32_t c) override {
    mesh_.triangles.push_back({a, b, c});
    return absl::OkStatus();
  }
  bool Problem(const scene::MeshProblem& problem) override {
    problem_ = problem;
    return false;
  }

  absl::StatusOr<TriangleMesh> Finish(std::string_view path) {
    if (problem_) {
      const std::string message = scene::MeshProblemText(path, *problem_);
      return scene::IsMeshLimit(problem_->code) ? absl::ResourceExhaustedError(message)
                                                : absl::InvalidArgumentError(message);
    }
    if (mesh_.triangles.empty()) {
      return absl::InvalidArgumentError(StrCat("'", path, "' has no triangles"));
    }
    mesh_.vertices = welder_.TakeVertices();
    return std::move(mesh_);
  }

 private:
  Welder welder_;
  TriangleMesh mesh_;
  std::optional<scene::MeshProblem> problem_;
};

MeshFormat FormatOf(scene::MeshFileKind kind) {
  switch (kind) {
    case scene::MeshFileKind::kStlAscii:
      return MeshFormat::kStlAscii;
    case scene::MeshFileKind::kObj:
      return MeshFormat::kObj;
    default:
      return MeshFormat::kStlBinary;
  }
}

}  // namespace

bool IsSupportedMeshPath(std::string_view path) { return scene::IsMeshFileName(path); }

absl::StatusOr<TriangleMesh> ParseMesh(std::string_view display_path, std::string_view content,
                                       const MeshLoadOptions& options, const MeshLimits& limits,
                                       const CallBudget* budget) {
  if (!std::isfinite(options.weld_epsilon) || options.weld_epsilon < 0) {
    return absl::InvalidArgumentError(
        StrCat("weld epsilon must be finite and >= 0, got ", options.weld_epsilon));
  }
  MeshBuilder builder(FormatOf(scene::DetectMeshKind(display_path, content)), options);
  WP_RETURN_IF_ERROR(scene::ReadMesh(
      display_path, content,
      scene::MeshReadLimits{.max_file_bytes = limits.max_file_bytes,
                            .max_triangles = limits.max_triangles},
      builder, budget));
  return builder.Finish(display_path);
}

absl::StatusOr<TriangleMesh> LoadMesh(const std::filesystem::path& root,
                                      std::string_view client_path, const MeshLoadOptions& options,
                                      const MeshLimits& limits, const CallBudget* budget) {
  WP_ASSIGN_OR_RETURN(std::filesystem::path file, ConfinePath(root, client_path));
  const std::string relative = RelativeToRoot(root, file);
  if (!IsSupportedMeshPath(relative)) {
    return absl::InvalidArgumentError(
        StrCat("'", relative, "' is not a supported mesh (.stl or .obj)"));
  }
  WP_ASSIGN_OR_RETURN(std::string content, ReadFileCapped(file, relative, limits.max_file_bytes));
  WP_RETURN_IF_ERROR(budget != nullptr ? budget->Check() : absl::OkStatus());
  return ParseMesh(relative, content, options, limits, budget);
}

}  // namespace workerpair::light
