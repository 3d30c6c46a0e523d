// The simulation manifest (manifest.json, schema version 1; docs/MANIFEST.md): its typed values
// and the one check that worker-light's linter, the controller and worker-heavy all use.
//
//   ManifestCheck check = CheckManifest(bytes, SceneLimits{});
//   for (const ManifestFinding& f : check.findings) {
//     // f.code "manifest/unknown-key", f.pointer "/simulation/duraton_s", f.line, f.column
//   }
//   if (check.manifest) { ... check.manifest->simulation.seed ... }
//
//   WP_ASSIGN_OR_RETURN(Manifest manifest, ParseManifest(bytes, limits));  // first error only
//
// The rules (keys, types, ranges, caps, names) live in one table, manifest_schema.h. Values over
// a SceneLimits cap that the schema documents as capped (duration, video size, fps) are clamped
// to the cap: a warning finding (manifest/over-cap) and a note in Manifest::adjustments. Which
// files exist is not this library's business (it has no file system): `references` lists the
// payload-relative paths the manifest names, with their positions, for the caller to resolve.
#ifndef WORKERPAIR_LIBS_SCENE_MANIFEST_H_
#define WORKERPAIR_LIBS_SCENE_MANIFEST_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/scene/scene_limits.h"

namespace workerpair::scene {

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

// `render`: what the caller asks of the video (the renderer's own frame settings are
// heavy::render::RenderSettings, services/heavy/core/render/render_settings.h).
struct ManifestRender {
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
  std::string name;                     // IsValidName (scene_names.h), unique among parts
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
  ManifestRender render;
  StressSettings stress;
  VerifySettings verify;
  // Human-readable notes on values clamped to a cap (the over-cap findings' messages), e.g.
  // "'simulation.duration_s' is 500, over the cap max_duration_s=120; clamped to 120".
  std::vector<std::string> adjustments;
};

// One thing wrong with (or, for a warning, clamped in) a manifest.
struct ManifestFinding {
  // Stable code, the linter's diagnostic code: "manifest/parse-error", "manifest/over-limit",
  // "manifest/unknown-key", "manifest/duplicate-key", "manifest/wrong-type",
  // "manifest/missing-key", "manifest/out-of-range", "manifest/unsupported-version",
  // "manifest/scene-or-assembly", "manifest/invalid-value", "manifest/duplicate-name",
  // "manifest/unknown-reference", "manifest/over-cap" (the only warning).
  std::string code;
  // False for a warning: the value is accepted and clamped.
  bool error = true;
  // The status a service answers with: INVALID_ARGUMENT, or RESOURCE_EXHAUSTED for an
  // assembly with more parts than SceneLimits::max_bodies.
  absl::StatusCode status_code = absl::StatusCode::kInvalidArgument;
  // RFC 6901 pointer of the value concerned ("" is the document), e.g. "/assembly/parts/2/mass";
  // for a missing key, the object that lacks it.
  std::string pointer;
  // 1-based line and column (bytes) of the pointer's key, or of the nearest enclosing value
  // whose position is known; of the parser's stop for parse errors.
  int line = 1;
  int column = 1;
  // What was wrong and where, caller values quoted only through bounded previews.
  std::string message;
};

// A payload-relative file the manifest names: `scene`, or a part's `mesh`.
struct ManifestReference {
  std::string what;     // "scene" or "mesh"
  std::string path;     // as written
  std::string pointer;  // "/scene", "/assembly/parts/0/mesh"
  std::string display;  // "scene", "assembly.parts[0].mesh"
  int line = 1;
  int column = 1;
};

struct ManifestCheck {
  // Every finding, in document order of the checks (errors and warnings). At most
  // kMaxManifestFindings; beyond that, one last manifest/over-limit finding says so.
  std::vector<ManifestFinding> findings;
  // Set exactly when no finding is an error.
  std::optional<Manifest> manifest;
  // The files named, also when there are errors elsewhere (each reference that is a string).
  std::vector<ManifestReference> references;

  // The first error, nullptr when none.
  const ManifestFinding* first_error() const;
};

inline constexpr std::size_t kMaxManifestFindings = 1000;

// CheckManifest()
//
// Checks `bytes` (manifest.json's content) against the schema and `limits`: first a flat scan of
// size (1 MiB), nesting depth (32) and string lengths (4 KiB), then a parse that never throws,
// then the schema table. Never crashes, throws or stalls on any input: hostile bytes give
// findings. Time and memory are linear in the input's size.
ManifestCheck CheckManifest(std::string_view bytes, const SceneLimits& limits);

// ParseManifest()
//
// CheckManifest's manifest, or its first error as a status whose message names the file, the
// pointer, line and column and what was wrong:
//   "manifest.json /simulation/seed (line 3, column 5): 'simulation.seed' is -1; it must be >= 0"
// Returns:
//   INVALID_ARGUMENT    any error finding but the one below
//   RESOURCE_EXHAUSTED  an assembly with more parts than limits.max_bodies (named)
absl::StatusOr<Manifest> ParseManifest(std::string_view bytes, const SceneLimits& limits);

// The status of one finding, as ParseManifest words it.
absl::Status FindingStatus(const ManifestFinding& finding);

}  // namespace workerpair::scene

#endif  // WORKERPAIR_LIBS_SCENE_MANIFEST_H_
