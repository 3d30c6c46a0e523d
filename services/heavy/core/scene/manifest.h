// The simulation manifest as worker-heavy uses it: the scene contract's types and parser
// (libs/scene/manifest.h, the same schema worker-light's linter checks against), named in this
// namespace so heavy's cores say `Manifest`, `AssemblyPart`, `ParseManifest`.
//
//   WP_ASSIGN_OR_RETURN(Manifest manifest, ParseManifest(json_text, SceneLimits{}));
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

namespace workerpair::heavy {

using scene::Assembly;
using scene::AssemblyPart;
using scene::AssemblyZone;
using scene::kForbidZonePrefix;
using scene::kGoalZonePrefix;
using scene::kManifestFileName;
using scene::Manifest;
using scene::ManifestRender;
using scene::ParseManifest;
using scene::SimulationBounds;
using scene::SimulationSettings;
using scene::StressSettings;
using scene::VerifySettings;

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_SCENE_MANIFEST_H_
