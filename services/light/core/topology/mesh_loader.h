// Mesh loading: STL (binary and ASCII) and OBJ bytes into a welded TriangleMesh.
//
//   MeshLimits limits;                                     // 64 MiB, 2M triangles
//   WP_ASSIGN_OR_RETURN(TriangleMesh mesh,
//                       ParseMesh("parts/arm.stl", bytes, {.weld_epsilon = 1e-6}, limits));
//
// The file is read by the scene contract's one mesh reader (libs/scene/mesh_reader.h: binary
// and ASCII STL, OBJ with fan-triangulated polygons; its rules, limits and messages), which
// worker-light's linter and worker-heavy use too; this file welds what it reads.
//
// STL has no shared vertices, so corners are welded: by exact position (-0 equals 0), or, with a
// positive epsilon, to the lowest-numbered earlier vertex within that distance. Vertices are
// numbered in order of first appearance.
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_MESH_LOADER_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_MESH_LOADER_H_

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "absl/status/statusor.h"
#include "libs/common/call_budget.h"
#include "services/light/core/topology/mesh.h"

namespace workerpair::light {

struct MeshLimits {
  // Largest mesh file read, in bytes.
  std::uint64_t max_file_bytes = 64ull << 20;
  // Most triangles one mesh may have (after triangulating OBJ polygons).
  std::uint64_t max_triangles = 2'000'000;
};

struct MeshLoadOptions {
  // 0: weld corners with exactly equal positions; > 0: weld corners within this distance.
  double weld_epsilon = 0;
};

// True when `path` ends in .stl or .obj (any case).
bool IsSupportedMeshPath(std::string_view path);

// Parses `content`, the bytes of the mesh file `display_path` (used for the format and in
// messages). INVALID_ARGUMENT naming the file and the place (byte offset, triangle or line) for
// an unsupported extension, a truncated binary STL, a syntax error, a bad or non-finite number,
// an OBJ index naming no vertex above it, a face with under 3 or over 65535 vertices, a mesh with no
// triangles, or a negative / non-finite epsilon; RESOURCE_EXHAUSTED when the content is larger
// than `limits.max_file_bytes` or holds more than `limits.max_triangles` triangles; the
// budget's CANCELLED / DEADLINE_EXCEEDED when `budget` (optional) runs out while parsing.
absl::StatusOr<TriangleMesh> ParseMesh(std::string_view display_path, std::string_view content,
                                       const MeshLoadOptions& options, const MeshLimits& limits,
                                       const CallBudget* budget = nullptr);

// Reads `client_path` inside `root` (ConfinePath; ReadFileCapped at limits.max_file_bytes) and
// parses it. Besides ParseMesh's errors: INVALID_ARGUMENT / PERMISSION_DENIED for a bad or
// escaping path, NOT_FOUND when missing, FAILED_PRECONDITION when not a regular file.
absl::StatusOr<TriangleMesh> LoadMesh(const std::filesystem::path& root,
                                      std::string_view client_path, const MeshLoadOptions& options,
                                      const MeshLimits& limits, const CallBudget* budget = nullptr);

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_MESH_LOADER_H_
