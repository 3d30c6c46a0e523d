#include "services/light/core/topology/assembly.h"

#include <set>

#include "absl/status/status.h"
#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "services/light/core/topology/interference.h"
#include "services/light/core/topology/mesh_metrics.h"
#include "services/light/core/topology/mesh_topology.h"

namespace workerpair::light {
namespace {

bool IsFinite(const Box& box) { return IsFinite(box.min) && IsFinite(box.max); }

std::string Describe(Vec3 v) { return StrCat("(", v.x, ", ", v.y, ", ", v.z, ")"); }

absl::Status CheckOptions(const std::vector<AssemblyPart>& parts, const AssemblyOptions& options) {
  if (parts.empty()) return absl::InvalidArgumentError("an assembly needs at least one part");
  std::set<std::string> names;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const AssemblyPart& part = parts[i];
    if (part.name.empty()) return absl::InvalidArgumentError(StrCat("part ", i, " has no name"));
    if (!names.insert(part.name).second) {
      return absl::InvalidArgumentError(StrCat("part name '", part.name, "' is used twice"));
    }
    if (part.mesh == nullptr) {
      return absl::InvalidArgumentError(StrCat("part '", part.name, "' has no mesh"));
    }
    const Quaternion& q = part.pose.rotation;
    const double norm2 = q.w * q.w + q.x * q.x + q.y * q.y + q.z * q.z;
    if (!IsFinite(part.pose.position) || !(std::abs(norm2 - 1) < 1e-9)) {
      return absl::InvalidArgumentError(
          StrCat("part '", part.name, "' has a non-finite position or a non-unit rotation"));
    }
  }
  if (!std::isfinite(options.interference_threshold) || options.interference_threshold < 0) {
    return absl::InvalidArgumentError(StrCat("interference threshold must be finite and >= 0, got ",
                                             options.interference_threshold));
  }
  if (!std::isfinite(options.max_extent) || options.max_extent < 0) {
    return absl::InvalidArgumentError(
        StrCat("max extent must be finite and >= 0, got ", options.max_extent));
  }
  if (options.samples_per_axis < 1 || options.samples_per_axis > 1024) {
    return absl::InvalidArgumentError(
        StrCat("samples per axis must be in [1, 1024], got ", options.samples_per_axis));
  }
  if (options.build_zone && (!IsFinite(*options.build_zone) || options.build_zone->empty())) {
    return absl::InvalidArgumentError(StrCat("build zone min ", Describe(options.build_zone->min),
                                             " and max ", Describe(options.build_zone->max),
                                             " must be finite with min <= max"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AssemblyReport> ValidateAssembly(const std::vector<AssemblyPart>& parts,
                                                const AssemblyOptions& options) {
  if (absl::Status status = CheckOptions(parts, options); !status.ok()) return status;
  AssemblyReport report;
  std::vector<PosedMesh> posed;
  posed.reserve(parts.size());

  // Per part: posed box, zone, size, closedness.
  for (const AssemblyPart& part : parts) {
    if (options.budget != nullptr) WP_RETURN_IF_ERROR(options.budget->Check());
    posed.push_back(PoseMesh(*part.mesh, part.pose));
    const Box& box = posed.back().bounds;
    if (!IsFinite(box)) {
      return absl::InvalidArgumentError(
          StrCat("part '", part.name, "' has non-finite coordinates once posed"));
    }
    PartResult result;
    result.name = part.name;
    result.posed_bounds = box;
    result.volume = std::abs(MeasureMesh(*part.mesh, 0).signed_volume);
    result.watertight = AnalyzeTopology(*part.mesh, BuildEdgeTable(*part.mesh)).watertight;
    report.bounds.Add(box.min);
    report.bounds.Add(box.max);

    if (options.build_zone && !options.build_zone->Contains(box)) {
      result.inside_build_zone = false;
      report.findings.push_back(
          {"assembly/outside-build-zone", true, part.name, "",
           StrCat("part '", part.name, "' spans ", Describe(box.min), " to ", Describe(box.max),
                  ", outside the build zone ", Describe(options.build_zone->min), " to ",
                  Describe(options.build_zone->max))});
    }
    const Vec3 size = box.size();
    const double extent = std::max({size.x, size.y, size.z});
    if (options.max_extent > 0 && extent > options.max_extent) {
      result.within_size_limit = false;
      report.findings.push_back({"assembly/too-large", true, part.name, "",
                                 StrCat("part '", part.name, "' is ", extent,
                                        " long, over the size limit ", options.max_extent)});
    }
    if (!result.watertight) {
      report.findings.push_back({"assembly/not-watertight", false, part.name, "",
                                 StrCat("part '", part.name,
                                        "' is not watertight; its overlap estimates are "
                                        "unreliable")});
    }
    report.parts.push_back(std::move(result));
  }

  // Pairs: overlap estimates where the boxes meet.
  for (std::size_t a = 0; a < parts.size(); ++a) {
    for (std::size_t b = a + 1; b < parts.size(); ++b) {
      absl::StatusOr<OverlapEstimate> estimated = EstimateOverlap(
          posed[a], posed[b], options.samples_per_axis, {.budget = options.budget});
      if (!estimated.ok()) {
        if (estimated.status().code() != absl::StatusCode::kResourceExhausted) {
          return estimated.status();
        }
        return absl::ResourceExhaustedError(StrCat("parts '", parts[a].name, "' and '",
                                                   parts[b].name, "': ",
                                                   std::string(estimated.status().message())));
      }
      const OverlapEstimate& overlap = *estimated;
      if (overlap.inside_both == 0) continue;
      Interference interference{a, b, overlap.volume, overlap.region,
                                overlap.volume > options.interference_threshold};
      if (interference.exceeds_threshold) {
        report.findings.push_back(
            {"assembly/interference", true, parts[a].name, parts[b].name,
             StrCat("parts '", parts[a].name, "' and '", parts[b].name, "' overlap by about ",
                    overlap.volume, " (threshold ", options.interference_threshold, ") within ",
                    Describe(overlap.region.min), " to ", Describe(overlap.region.max))});
      }
      report.interferences.push_back(interference);
    }
  }
  for (const AssemblyFinding& finding : report.findings) {
    if (finding.error) report.ok = false;
  }
  return report;
}

}  // namespace workerpair::light
