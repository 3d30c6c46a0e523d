// Resolving file references written inside workspace files (an MJCF `file=` attribute, a
// manifest's "scene" or part "mesh") to files of the same workspace, confined to it.
//
//   ResolvedRef ref = ResolveReference(ws.root, "scenes", "meshes/ramp.stl");
//   if (ref.problem == RefProblem::kMissing) ...   // ref.relative == "scenes/meshes/ramp.stl"
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_LINT_WORKSPACE_REFS_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_LINT_WORKSPACE_REFS_H_

#include <filesystem>
#include <string>
#include <string_view>

namespace workerpair::light {

enum class RefProblem {
  kNone,     // an existing regular file inside the workspace
  kOutside,  // absolute, climbs out through `..`, or leads out through a symlink
  kInvalid,  // empty, NUL byte, over-long
  kMissing,  // inside the workspace but nothing is there
  kNotFile,  // there is something, but not a regular file (a directory, a device)
};

struct ResolvedRef {
  RefProblem problem = RefProblem::kNone;
  // The workspace-relative path the reference names ('/'-separated), when it stays inside.
  std::string relative;
};

// Resolves `reference` relative to the workspace-relative directory `base_dir` ("" or "." for
// the workspace root) inside the canonical workspace directory `root`.
ResolvedRef ResolveReference(const std::filesystem::path& root, std::string_view base_dir,
                             std::string_view reference);

// The workspace-relative directory holding `relative_file` ("" for a file at the root).
std::string ParentDir(std::string_view relative_file);

// Joins two '/'-separated relative paths; an empty or "." side vanishes.
std::string JoinRelative(std::string_view a, std::string_view b);

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_LINT_WORKSPACE_REFS_H_
