// Light structural checks of mesh files: can they be parsed, and do they hold any geometry.
// (Geometry proper — volume, watertightness — belongs to the topology capability.)
//
//   std::vector<Diagnostic> found = CheckMeshFile("meshes/ramp.stl", content);
//
// STL: binary when the size is exactly 84 + 50 * (triangle count in the header); otherwise
// ASCII when it starts with "solid"; otherwise a broken binary file. OBJ: `v` lines with three
// numbers and `f` lines whose indices (1-based, negative = relative) name existing vertices.
// Codes (all errors):
//   mesh/empty               no triangles, or no vertices
//   mesh/stl-truncated       shorter than the 84-byte binary header
//   mesh/stl-size-mismatch   binary size disagrees with the triangle count
//   mesh/stl-syntax          an ASCII STL line that does not parse, a facet without 3 vertices
//   mesh/non-finite          a NaN or infinite coordinate
//   mesh/obj-syntax          an OBJ v/f line that does not parse, a face of over 65535 corners
//   mesh/obj-bad-index       a face index naming no vertex
//   mesh/obj-no-faces        vertices but no faces
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
// diagnostics are returned for one file. Memory stays proportional to one line whatever the
// file (an OBJ is read twice: vertices are counted first). The scan stops early when `budget`
// runs out (the caller then reports the budget's status, not these diagnostics).
std::vector<Diagnostic> CheckMeshFile(std::string_view relative_path, std::string_view content,
                                      std::size_t max_findings = 20,
                                      const CallBudget* budget = nullptr);

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_LINT_MESH_CHECK_H_
