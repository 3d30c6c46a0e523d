// Building a MuJoCo model from a payload's scratch directory, within SceneLimits.
//
//   WP_ASSIGN_OR_RETURN(Manifest manifest, ParseManifest(text, limits));
//   WP_ASSIGN_OR_RETURN(LoadedScene scene, LoadScene(scratch_dir, manifest, limits));
//   SceneStats stats = BuildSceneStats(scene.model.get());          // compile-only call
//   WP_ASSIGN_OR_RETURN(MjDataPtr data, MakeData(scene.model.get()));
//
// The scene is the manifest's MJCF file, or MJCF generated from its assembly (written into the
// scratch directory as kGeneratedSceneFileName). Before MuJoCo opens anything, the MJCF and
// every file it includes is read as the scene contract reads it (libs/scene/mjcf_scene.h, expat,
// the same reader as worker-light's linter): well-formed XML without a DOCTYPE, and every file it
// names (mesh, texture, hfield, skin, include, the compiler's meshdir/texturedir/assetdir)
// obeying the path rule (scene::ScenePathProblem: relative, no `..`, no backslash) and staying
// inside the scratch directory. That scan is the early, clear PAYLOAD_INVALID; the runner's
// Landlock sandbox is the guard. MuJoCo's messages have the scratch directory's path removed.
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_SCENE_SCENE_LOADER_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_SCENE_SCENE_LOADER_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <mujoco/mujoco.h>

#include "absl/status/statusor.h"
#include "libs/scene/scene_limits.h"
#include "services/heavy/core/scene/manifest.h"

namespace workerpair::heavy::scene {

// Owning pointers for MuJoCo's C objects.
struct MjModelDeleter {
  void operator()(mjModel* m) const { mj_deleteModel(m); }
};
struct MjDataDeleter {
  void operator()(mjData* d) const { mj_deleteData(d); }
};
using MjModelPtr = std::unique_ptr<mjModel, MjModelDeleter>;
using MjDataPtr = std::unique_ptr<mjData, MjDataDeleter>;

// Name of the MJCF file LoadScene writes into the scratch directory for an assembly.
inline constexpr char kGeneratedSceneFileName[] = ".workerpair-assembly.xml";

// Largest mjData stack LoadScene accepts (nstack * sizeof(mjtNum)), whatever the MJCF asks:
// mj_makeData allocates it up front.
inline constexpr std::int64_t kMaxStackBytes = std::int64_t{4} << 30;

// A compiled scene.
struct LoadedScene {
  MjModelPtr model;
  // Payload-relative path of the MJCF that was compiled (the manifest's `scene`, or
  // kGeneratedSceneFileName for an assembly).
  std::string scene_file;
  // Warnings MuJoCo raised while compiling.
  std::vector<std::string> warnings;
};

// LoadScene()
//
// Compiles the manifest's scene inside `scratch_dir` (an absolute, canonical directory), then:
// applies `simulation.timestep_s` when given; raises the model's offscreen buffer
// (vis.global.offwidth/offheight) to at least the manifest's render size; checks the caps.
// The caps are checked on the MJCF text (<size njmax/nconmax/nstack>, <body> count) before
// MuJoCo compiles it, since mj_loadXML allocates a trial mjData whose memory grows with njmax,
// and again on the compiled model. mjData itself is NOT allocated here (MakeData does that).
// Returns:
//   INVALID_ARGUMENT    the scene file is missing or not a file, it or a file it includes is not
//                       well-formed XML (message: file, line, column), an include is missing or
//                       repeated, a referenced path is absolute,
//                       climbs with `..` or leaves the scratch directory, or MuJoCo could not
//                       parse/compile the MJCF (its message, e.g. "XML Error: ... line 3")
//   RESOURCE_EXHAUSTED  njmax, nconmax, bodies (nbody - 1) or the stack over the caps; the
//                       message names the limit, e.g. "njmax 8000 exceeds max_njmax 5000"
//   INTERNAL            the generated assembly MJCF could not be written
absl::StatusOr<LoadedScene> LoadScene(const std::filesystem::path& scratch_dir,
                                      const Manifest& manifest, const SceneLimits& limits);

// MakeData()
//
// Allocates mjData for `model`, in its initial state (mj_resetData + mj_forward).
// Returns RESOURCE_EXHAUSTED when MuJoCo could not allocate it, INTERNAL on another MuJoCo error.
absl::StatusOr<MjDataPtr> MakeData(const mjModel* model);

// Model statistics for the compile-only "build scene" call.
struct SceneStats {
  int nbody = 0;       // including the world body
  int ngeom = 0;
  int njnt = 0;
  int nq = 0;
  int nv = 0;
  int nu = 0;          // actuators
  int nmesh = 0;
  int nsite = 0;
  int ncam = 0;
  int nlight = 0;
  int njmax = 0;
  int nconmax = 0;
  int nstack = 0;
  double timestep_s = 0;
  std::int64_t model_bytes = 0;   // nbuffer
  std::int64_t data_bytes = 0;    // estimated: nstack * sizeof(mjtNum)
  std::vector<std::string> goal_zones;    // site names starting with zone_goal
  std::vector<std::string> forbid_zones;  // site names starting with zone_forbid
  std::vector<std::string> free_bodies;   // bodies whose first joint is a free joint
};

// BuildSceneStats()
//
// Reads the statistics of a compiled model.
SceneStats BuildSceneStats(const mjModel* model);

}  // namespace workerpair::heavy::scene

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_SCENE_SCENE_LOADER_H_
