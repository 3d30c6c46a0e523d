// Structural checks of mesh files: can they be parsed, and do they hold any geometry, read by
// the scene contract's one mesh reader (libs/scene/mesh_reader.h, which topology uses too).
// (Geometry proper — volume, watertightness — belongs to the topology capability.)
//
//   std::vector<Diagnostic> found = CheckMeshFile("meshes/ramp.stl", content);
//
// Codes (all errors; the message is the reader's, naming the file):
//   mesh/empty               no triangles, or no vertices
//   mesh/stl-truncated       shorter than the 84-byte binary header
//   mesh/stl-size-mismatch   binary size disagrees with the triangle count
//   mesh/stl-syntax          an ASCII STL off the grammar (first problem only), or not ended
//   mesh/non-finite          a NaN or infinite coordinate
//   mesh/obj-syntax          an OBJ v/f line that does not parse, a face of over 65535 corners
//   mesh/obj-bad-index       a face index naming no vertex defined above it
//   mesh/obj-no-faces        vertices but no faces
//   mesh/too-large, mesh/too-many-triangles   over scene::MeshReadLimits (64 MiB, 2M triangles)
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_LINT_MESH_CHECK_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_LINT_MESH_CHECK_H_

#include <string_view>
#include <vector>

#include "libs/common/call_budget.h"
#include "services/light/core/lint/diagnostics.h"

namespace workerpair::light {

// True for the file names CheckMeshFile understands (*.stl, *.obj, any case).
bool IsMeshFile(std::string_view relative_path);

// Checks the mesh file `relative_path` whose bytes are `content`. At most `max_findings`
// diagnostics are returned for one file. Memory: one line, plus 4 bytes per OBJ vertex. The
// scan stops early when `budget`
// runs out (the caller then reports the budget's status, not these diagnostics).
std::vector<Diagnostic> CheckMeshFile(std::string_view relative_path, std::string_view content,
                                      std::size_t max_findings = 20,
                                      const CallBudget* budget = nullptr);

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_LINT_MESH_CHECK_H_
