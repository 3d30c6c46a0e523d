// The simulation manifest as worker-heavy uses it: the scene contract's types and parser
// (libs/scene/manifest.h, the same schema worker-light's linter checks against), reachable as
// `scene::Manifest`, `scene::AssemblyPart`, `scene::ParseManifest` from heavy's cores (heavy's
// scene core, workerpair::heavy::scene, is where they are named).
//
//   WP_ASSIGN_OR_RETURN(scene::Manifest manifest, scene::ParseManifest(json_text, {}));
//   if (manifest.assembly) { ... parts and zones ... } else { ... manifest.scene ... }
//   for (const std::string& note : manifest.adjustments) { /* "... clamped to 120" */ }
//
// ParseManifest returns the first finding as the status: INVALID_ARGUMENT whose message names
// manifest.json, the JSON pointer, line and column and what was wrong, or RESOURCE_EXHAUSTED
// for an assembly with more parts than SceneLimits::max_bodies. The job pipeline adds
// ErrorReason PAYLOAD_INVALID. Values over a cap the schema documents as capped (duration,
// video size, fps) are clamped, each clamp described in `adjustments`.
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_SCENE_MANIFEST_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_SCENE_MANIFEST_H_

#include "libs/scene/manifest.h"
#include "libs/scene/scene_limits.h"
#include "libs/scene/scene_names.h"

namespace workerpair::heavy::scene {

// Heavy's scene core extends the scene contract: `scene::Manifest`, `scene::ParseManifest`,
// `scene::kManifestFileName` ... name libs/scene's own declarations from every heavy core.
using namespace ::workerpair::scene;  // NOLINT(build/namespaces)

}  // namespace workerpair::heavy::scene

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_SCENE_MANIFEST_H_
