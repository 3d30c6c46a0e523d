// The one STL/OBJ reader of the scene contract: worker-light's linter (lint/mesh_check) maps its
// problems to diagnostics, topology (topology/mesh_loader) builds its welded mesh from its
// vertices and triangles, and worker-heavy checks the meshes a scene names with it before MuJoCo.
//
//   class Sink : public scene::MeshSink { ... };            // Vertex(), Triangle(), Problem()
//   WP_RETURN_IF_ERROR(scene::ReadMesh("parts/arm.stl", bytes, scene::MeshReadLimits{}, sink));
//
// Format by extension (.stl / .obj, any case). STL is binary when its size is exactly
// 84 + 50 * (the triangle count in its header); otherwise ASCII when, after leading whitespace,
// it starts with "solid" (any case) and holds no NUL byte; otherwise a truncated (under 84
// bytes) or malformed binary file. ASCII STL follows the grammar solid / facet normal n n n /
// outer loop / vertex x y z (three) / endloop / endfacet / endsolid, keywords in any case, and
// may hold several solids. OBJ reads `v` lines (three finite numbers, then optional numbers) and
// `f` lines (3 to 65535 corners; `i`, `i/t`, `i/t/n`, `i//n`; 1-based, negative = relative) whose
// indices name vertices defined ABOVE them; polygons are fan-triangulated (v0 v1 v2, v0 v2 v3,
// ...); other statements are ignored. Coordinates must be finite (an ASCII facet normal is
// checked for syntax only: exporters write nan for degenerate facets).
//
// Where worker-light's two old parsers disagreed, this takes the stricter rule: ASCII STL must
// follow the grammar and end with endsolid (lint took any keyword order), OBJ indices may not
// point forward (lint allowed it), an STL with a NUL byte is never ASCII (topology allowed it),
// and the triangle cap holds for lint too (lint had none).
//
// Plain C++: no gRPC, no MuJoCo.
#ifndef WORKERPAIR_LIBS_SCENE_MESH_READER_H_
#define WORKERPAIR_LIBS_SCENE_MESH_READER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/common/call_budget.h"

namespace workerpair::scene {

struct MeshReadLimits {
  // Largest mesh file read, in bytes.
  std::uint64_t max_file_bytes = 64ull << 20;
  // Most triangles one mesh may have (after triangulating OBJ polygons).
  std::uint64_t max_triangles = 2'000'000;
};

enum class MeshProblemCode {
  kUnsupported,       // not .stl or .obj
  kTooLarge,          // over max_file_bytes
  kTooManyTriangles,  // over max_triangles
  kEmpty,             // no triangles at all (empty file, no facets, no vertices)
  kStlTruncated,      // shorter than the 84-byte binary header
  kStlSizeMismatch,   // binary size disagrees with the header's triangle count
  kStlSyntax,         // ASCII STL off the grammar
  kNonFinite,         // a NaN or infinite coordinate
  kObjSyntax,         // an OBJ v/f line that does not parse, a face of under 3 or over 65535 corners
  kObjBadIndex,       // a face index naming no vertex defined above it
  kObjNoFaces,        // vertices but no faces
};

enum class MeshFileKind { kStlBinary, kStlAscii, kObj, kUnknown };

// Which reading ReadMesh gives `content` (kUnknown: an unsupported extension, or an STL that is
// neither binary nor ASCII by the rules above).
MeshFileKind DetectMeshKind(std::string_view path, std::string_view content);

// Stable lint code ("mesh/stl-syntax") of a problem code.
std::string_view MeshProblemName(MeshProblemCode code);

// True for the codes that are a limit (RESOURCE_EXHAUSTED), not a malformed file.
bool IsMeshLimit(MeshProblemCode code);

struct MeshProblem {
  MeshProblemCode code = MeshProblemCode::kEmpty;
  // 1-based line of a text format; 0 when the problem has none (binary STL, the whole file).
  int line = 0;
  // What was wrong, without the file's name ("bad number 'x'", "triangle 3 (byte 258):
  // non-finite vertex coordinate"); values quoted are cut (TextPreview).
  std::string message;
};

class MeshSink {
 public:
  virtual ~MeshSink() = default;
  // A vertex (finite coordinates), in file order; returns the id the triangles will use for it.
  // A non-OK status stops reading and is returned by ReadMesh.
  virtual absl::StatusOr<std::uint32_t> Vertex(double x, double y, double z) = 0;
  // A triangle of vertex ids, in file order. A non-OK status stops reading as above.
  virtual absl::Status Triangle(std::uint32_t a, std::uint32_t b, std::uint32_t c) = 0;
  // A problem with the file. Return true to read on (OBJ resumes at the next line, binary STL at
  // the next triangle; anything else stops), false to stop at once.
  virtual bool Problem(const MeshProblem& problem) = 0;
};

// Reads `content`, the bytes of the mesh file `path` (its extension picks the format), into
// `sink`. Returns OK when reading ran to its end or a Problem() call stopped it (the sink knows
// which); a sink's own error; or the budget's CANCELLED / DEADLINE_EXCEEDED when `budget`
// (optional) runs out. Memory: one line's tokens, plus 4 bytes per OBJ vertex.
absl::Status ReadMesh(std::string_view path, std::string_view content,
                      const MeshReadLimits& limits, MeshSink& sink,
                      const CallBudget* budget = nullptr);

// The problem as one message naming the file: "'parts/arm.stl' line 5: bad number 'x'",
// "'a.stl' is a truncated binary STL: ..." (the linter's message and topology's error alike).
std::string MeshProblemText(std::string_view path, const MeshProblem& problem);

// ReadMesh with a sink that keeps nothing: the first problem, or nullopt for a good mesh.
// The budget's status when it runs out.
absl::StatusOr<std::optional<MeshProblem>> FirstMeshProblem(std::string_view path,
                                                            std::string_view content,
                                                            const MeshReadLimits& limits = {},
                                                            const CallBudget* budget = nullptr);

// MuJoCo 2.2.2's own rules for a mesh file beyond its format, or nullopt: an STL must be
// binary ("perhaps this is an ASCII file?") with 1 to 200000 faces. `content` may be just the
// first 84 bytes of an STL. Other extensions: nullopt.
std::optional<std::string> MujocoMeshProblem(std::string_view path, std::string_view content,
                                             std::uint64_t file_size);

}  // namespace workerpair::scene

#endif  // WORKERPAIR_LIBS_SCENE_MESH_READER_H_
