// Interference between two posed meshes: an estimate of the volume they share.
//
//   PosedMesh a = PoseMesh(mesh_a, pose_a), b = PoseMesh(mesh_b, pose_b);
//   OverlapEstimate overlap = EstimateOverlap(a, b, 64);
//   if (overlap.volume > threshold) ...
//
// The overlap of the two posed bounding boxes is divided into a grid of cells (`samples_per_axis`
// along its longest side, proportionally fewer along the others, at least one); the estimate is
// the fraction of cell centres inside both meshes times the region's volume. Inside means a
// non-zero winding number, counted along +x rays: each row of centres is cast once against the
// triangles that cover it, and a crossing on a shared edge or vertex is given to exactly one
// triangle (a top-left fill rule on the y-z projection with exactly consistent edge tests), so
// rays that graze edges neither double-count nor miss. The result is deterministic; it is
// meaningful for closed meshes, approximate at cell resolution, and exact for boxes whose faces
// fall between cell centres.
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_INTERFERENCE_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_INTERFERENCE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/call_budget.h"
#include "services/light/core/topology/mesh.h"
#include "services/light/core/topology/pose.h"

namespace workerpair::light {

// A mesh's triangles over its vertices moved into the assembly frame.
struct PosedMesh {
  const TriangleMesh* mesh = nullptr;
  std::vector<Vec3> vertices;
  Box bounds;
};

// `mesh` (which must outlive the result) moved by `pose`.
PosedMesh PoseMesh(const TriangleMesh& mesh, const Pose& pose);

struct OverlapEstimate {
  // Estimated shared volume (0 when the bounding boxes do not overlap).
  double volume = 0;
  // The region sampled: the intersection of the bounding boxes (empty when disjoint).
  Box region;
  // Cell centres tested, and how many were inside both meshes.
  std::uint64_t samples = 0;
  std::uint64_t inside_both = 0;
};

// What one estimate may cost: its work grows with triangles x grid rows, its memory with the
// ray crossings kept (16 bytes each).
struct OverlapLimits {
  // Polled while sampling; null for none.
  const CallBudget* budget = nullptr;
  // Most crossings kept per mesh (16M: 256 MiB).
  std::uint64_t max_crossings = 1u << 24;
};

// Estimates the volume inside both `a` and `b`; `samples_per_axis` >= 1. RESOURCE_EXHAUSTED
// over `limits.max_crossings`; the budget's CANCELLED / DEADLINE_EXCEEDED when it runs out.
absl::StatusOr<OverlapEstimate> EstimateOverlap(const PosedMesh& a, const PosedMesh& b,
                                                int samples_per_axis,
                                                const OverlapLimits& limits = {});

// The winding number of `mesh` at `p` (non-zero: inside), by the same rule.
int WindingNumber(const PosedMesh& mesh, Vec3 p);

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_INTERFERENCE_H_
