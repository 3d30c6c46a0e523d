// Assembly validation: several posed mesh parts checked for pairwise interference, containment
// in a build zone and a size limit.
//
//   std::vector<AssemblyPart> parts = {{"base", &base_mesh, base_pose}, {"arm", &arm_mesh, {}}};
//   WP_ASSIGN_OR_RETURN(AssemblyReport report,
//                       ValidateAssembly(parts, {.build_zone = zone, .max_extent = 0.5}));
//   if (!report.ok) ...                                // findings say which part and why
//
// Each part's posed bounding box (of its moved vertices) must lie inside the build zone and have
// no side longer than `max_extent`. Every pair whose boxes overlap gets an overlap estimate
// (interference.h); an estimate above `interference_threshold` fails. A part that is not
// watertight gets a warning: inside tests, and so its overlaps, are unreliable.
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_ASSEMBLY_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_ASSEMBLY_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/call_budget.h"
#include "services/light/core/topology/mesh.h"
#include "services/light/core/topology/pose.h"

namespace workerpair::light {

struct AssemblyPart {
  // Unique, non-empty; used in findings.
  std::string name;
  // The part's mesh (not owned); poses are applied to a copy of its vertices.
  const TriangleMesh* mesh = nullptr;
  // Rotation must be a unit quaternion (NormalizeQuaternion).
  Pose pose;
};

struct AssemblyOptions {
  // Overlap volumes above this fail (model units cubed); 0: any sampled overlap fails.
  double interference_threshold = 0;
  // When set, every part's posed bounding box must lie inside it.
  std::optional<Box> build_zone;
  // When > 0, no side of a part's posed bounding box may be longer.
  double max_extent = 0;
  // Sampling resolution of the overlap estimate (cells along the overlap's longest side).
  int samples_per_axis = 64;
  // Polled between parts and while sampling; null for none.
  const CallBudget* budget = nullptr;
};

struct PartResult {
  std::string name;
  Box posed_bounds;
  // Absolute volume of the part (pose-independent) and whether it is closed.
  double volume = 0;
  bool watertight = false;
  bool inside_build_zone = true;
  bool within_size_limit = true;
};

struct Interference {
  std::size_t part_a = 0;  // indices into the parts, part_a < part_b
  std::size_t part_b = 0;
  double overlap_volume = 0;
  Box region;
  bool exceeds_threshold = false;
};

struct AssemblyFinding {
  // "assembly/interference", "assembly/outside-build-zone", "assembly/too-large" (errors);
  // "assembly/not-watertight" (warning).
  std::string code;
  bool error = true;
  std::string part;
  // The other part of an interference; empty otherwise.
  std::string other_part;
  std::string message;
};

struct AssemblyReport {
  // No error finding.
  bool ok = true;
  std::vector<PartResult> parts;
  // Every pair with a non-zero overlap estimate, in pair order.
  std::vector<Interference> interferences;
  std::vector<AssemblyFinding> findings;
  // Union of the posed bounding boxes.
  Box bounds;
};

// Validates `parts`. INVALID_ARGUMENT for no parts, an empty or repeated name, a missing mesh,
// a non-unit rotation, a negative or non-finite threshold or extent, a samples_per_axis outside
// [1, 1024], a build zone with min > max or non-finite sides, or a pose that moves a part to
// non-finite coordinates; RESOURCE_EXHAUSTED when an overlap estimate is too costly
// (interference.h); the budget's CANCELLED / DEADLINE_EXCEEDED when it runs out.
absl::StatusOr<AssemblyReport> ValidateAssembly(const std::vector<AssemblyPart>& parts,
                                                const AssemblyOptions& options);

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_ASSEMBLY_H_
