// Files the parent places in a runner's job directory beside the payload, named once for both
// sides of the runner protocol (the parent writes them, the runner reads them).
#ifndef WORKERPAIR_SERVICES_HEAVY_RUNNER_JOB_DIR_FILES_H_
#define WORKERPAIR_SERVICES_HEAVY_RUNNER_JOB_DIR_FILES_H_

namespace workerpair::heavy {

// A serialised runner.proto SharedScene: the compiled model of this job's payload, made by
// another runner of the replica (shared_scene_store.h, shared_scene.h).
inline constexpr char kSharedSceneFileName[] = "scene.pack";

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_RUNNER_JOB_DIR_FILES_H_
