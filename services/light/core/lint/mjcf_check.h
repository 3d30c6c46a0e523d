// Checks of XML files, and of MJCF scenes (XML whose root element is <mujoco>) in particular.
//
//   std::vector<Diagnostic> found =
//       CheckXmlFile(ws.root, "scenes/ramp.xml", content, SceneLimits{});
//
// MJCF is read as MuJoCo 2.2.2 reads it, with the scene contract's reader (libs/scene/mjcf_*):
// a file another MJCF file includes is part of that scene, and its references and names are
// checked with the including file (they resolve against the main file's directory), not alone.
//
// Codes (severity):
//   xml/malformed                  (error)   not well-formed, a DOCTYPE, or over XmlLimits
//                                            (mjcf_xml.h: depth, elements, attributes); the
//                                            parser's line and column
//   mjcf/bad-include               (error)   an included file that is not well-formed, included
//                                            twice, nested too deep, or one file too many
//   mjcf/missing-asset             (error)   a mesh/texture/hfield/skin/include file is missing
//   mjcf/asset-outside-workspace   (error)   such a reference is absolute or leads out
//   mjcf/asset-path-climbs         (error)   such a reference has a '..' (worker-heavy refuses it)
//   mjcf/invalid-asset-path        (error)   such a reference is empty or breaks the path rule
//                                            (scene::ScenePathProblem)
//   mjcf/asset-not-a-file          (error)   it names a directory or another non-file
//   mjcf/mesh-unsupported          (error)   an STL mesh MuJoCo 2.2.2 does not load (ASCII, or
//                                            not 1 to 200000 faces; scene::MujocoMeshProblem)
//   mjcf/duplicate-name            (error)   a name used twice within one kind (body, geom, ...);
//                                  (warning) when one of them is taken from a file name
//   mjcf/unknown-name              (error)   mesh=, material=, class=, joint=, ... naming nothing
//                                            (scene/mjcf_names.h); (warning) inside <default>
//   mjcf/zone-without-size         (error)   a zone_goal*/zone_forbid* site has no size
//   mjcf/zone-bad-size             (error)   a zone size that is not positive numbers
//   mjcf/zone-bad-type             (error)   a zone site that is neither a box nor a sphere
//   mjcf/invalid-value             (error)   njmax/nconmax that is not an integer
//   mjcf/njmax-over-limit, mjcf/nconmax-over-limit, mjcf/too-many-bodies
//                                  (error)   over SceneLimits: worker-heavy's defaults refuse it
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_LINT_MJCF_CHECK_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_LINT_MJCF_CHECK_H_

#include <filesystem>
#include <string_view>
#include <vector>

#include "libs/common/call_budget.h"
#include "libs/scene/scene_limits.h"
#include "services/light/core/lint/diagnostics.h"

namespace workerpair::light {

// Checks the XML file `relative_path` (workspace-relative) whose bytes are `content`, inside
// the canonical workspace directory `root` (against which references are resolved). A file
// whose root element is not <mujoco> is checked for well-formedness only. Parsing stops early
// when `budget` runs out (the caller then reports the budget's status, not these diagnostics).
// Values quoted in messages are cut (TextPreview).
std::vector<Diagnostic> CheckXmlFile(const std::filesystem::path& root,
                                     std::string_view relative_path, std::string_view content,
                                     const SceneLimits& limits,
                                     const CallBudget* budget = nullptr);

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_LINT_MJCF_CHECK_H_
