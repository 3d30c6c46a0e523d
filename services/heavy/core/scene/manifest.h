// The simulation manifest (manifest.json, schema version 1; docs/MANIFEST.md) as typed values.
//
// Every payload carries a manifest at its root. ParseManifest checks it strictly (unknown keys,
// wrong types and out-of-range values are errors naming the key) and fills in the defaults:
//
//   WP_ASSIGN_OR_RETURN(Manifest manifest, ParseManifest(json_text, SceneLimits{}));
//   if (manifest.assembly) { ... parts and zones ... } else { ... manifest.scene ... }
//   for (const std::string& note : manifest.adjustments) { /* "clamped duration_s ..." */ }
//
// Values over a SceneLimits cap that the schema documents as "capped" (duration, video size,
// fps) are clamped to the cap, and each clamp is described in `adjustments`, as the linter
// (services/light/core/lint/manifest_check.h) promises. An assembly with more parts than
// `max_bodies` is RESOURCE_EXHAUSTED naming the limit.
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_SCENE_MANIFEST_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_SCENE_MANIFEST_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/scene_limits.h"

namespace workerpair::heavy {

// The manifest's file name at the payload root.
inline constexpr std::string_view kManifestFileName = "manifest.json";

// Prefixes of the MJCF site names that mark goal and forbidden zones.
inline constexpr std::string_view kGoalZonePrefix = "zone_goal";
inline constexpr std::string_view kForbidZonePrefix = "zone_forbid";

// `simulation.bounds`: the target body beyond these is OUT_OF_BOUNDS.
struct SimulationBounds {
  double min_z = -2.0;
  double max_abs_xy = 100.0;
};

// `simulation`.
struct SimulationSettings {
  double duration_s = 5.0;              // already clamped to SceneLimits::max_duration_s
  std::optional<double> timestep_s;     // overrides the MJCF timestep when set
  std::uint64_t seed = 0;
  std::string target_body;              // empty: the first body with a free joint
  SimulationBounds bounds;
};

// `render`.
struct RenderSettings {
  bool enabled = true;
  int width = 640;                      // even, clamped to SceneLimits::max_width
  int height = 480;                     // even, clamped to SceneLimits::max_height
  int fps = 30;                         // clamped to SceneLimits::max_fps
  std::string camera;                   // empty: the free (default) camera
};

// `stress`.
struct StressSettings {
  double yield_newtons = 1000.0;
};

// `verify`.
struct VerifySettings {
  double jitter_m = 0.005;
};

// One `assembly.parts[i]`.
struct AssemblyPart {
  std::string name;                     // [A-Za-z0-9_-]+, unique
  std::string mesh;                     // payload-relative .stl or .obj path
  std::array<double, 3> pos = {0, 0, 0};
  std::array<double, 3> euler_deg = {0, 0, 0};  // xyz order
  bool fixed = false;
  std::optional<double> mass;           // kg; at most one of mass and density
  std::optional<double> density;        // kg/m^3; 1000 when neither is given
  std::optional<std::array<double, 4>> rgba;
};

// One `assembly.zones[i]`: a box site.
struct AssemblyZone {
  std::string name;                     // starts with zone_goal or zone_forbid
  std::array<double, 3> pos = {0, 0, 0};
  std::array<double, 3> size = {0, 0, 0};  // half-extents, all > 0
};

// `assembly`.
struct Assembly {
  bool ground = false;                  // add a ground plane at z = 0
  std::vector<AssemblyPart> parts;      // at least one
  std::vector<AssemblyZone> zones;
};

// A parsed, validated manifest. Exactly one of `scene` (non-empty) and `assembly` is set.
struct Manifest {
  int version = 1;
  std::string scene;                    // payload-relative MJCF path; empty with an assembly
  std::optional<Assembly> assembly;
  SimulationSettings simulation;
  RenderSettings render;
  StressSettings stress;
  VerifySettings verify;
  // Human-readable notes on values clamped to a cap, e.g.
  // "simulation.duration_s 500 clamped to the cap max_duration_s=120".
  std::vector<std::string> adjustments;
};

// ParseManifest()
//
// Parses and validates manifest.json text against schema version 1 and `limits`.
// Returns:
//   INVALID_ARGUMENT    not JSON, not an object, an unknown key, a wrong type, a missing
//                       required key, a value out of its range (e.g. timestep_s outside
//                       limits.min_timestep_s .. max_timestep_s), an unsupported version,
//                       both or neither of scene/assembly, a bad or duplicate name, an odd
//                       video size, mass and density both given, a target_body that names no
//                       assembly part. The message names the key, e.g. "'simulation.seed' ...".
//   RESOURCE_EXHAUSTED  an assembly with more parts than limits.max_bodies (named in the message)
absl::StatusOr<Manifest> ParseManifest(std::string_view json_text, const SceneLimits& limits);

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_SCENE_MANIFEST_H_
