// MJCF text generated from a manifest's assembly (docs/MANIFEST.md, "Assembly").
//
//   std::string xml = AssemblyToMjcf(*manifest.assembly, manifest, limits);
//
// The model has: each part's mesh as a <mesh file=...> asset; one body per part with a free
// joint unless `fixed`, a mesh geom with the part's mass (or density) and colour; each zone as
// a translucent box site (goal green, forbidden red); a ground plane when `ground`; a
// directional light; a camera named kDefaultCameraName looking at the parts from the front
// and above; nconmax/njmax sized for the parts within the caps; the manifest's timestep.
// Mesh paths are written as given (relative to the scratch directory); LoadScene checks them.
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_SCENE_MJCF_WRITER_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_SCENE_MJCF_WRITER_H_

#include <string>
#include <string_view>

#include "libs/scene/scene_limits.h"
#include "services/heavy/core/scene/manifest.h"

namespace workerpair::heavy::scene {

// The camera every generated assembly scene has.
inline constexpr char kDefaultCameraName[] = "default";

// Returns MJCF text for `assembly` (validated by ParseManifest). Never fails.
std::string AssemblyToMjcf(const Assembly& assembly, const Manifest& manifest,
                           const SceneLimits& limits);

// Escapes &, <, >, " and ' for an XML attribute value.
std::string XmlEscape(std::string_view text);

}  // namespace workerpair::heavy::scene

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_SCENE_MJCF_WRITER_H_
