// A compiled scene as one runner hands it to its siblings (runner.proto SharedScene), the runner
// side: ExportScene turns a scene the job pipeline just kept into the message sent to the
// parent (MuJoCo's binary model, mj_saveModel into a buffer, bounded in bytes); ImportScene
// turns the `scene.pack` the parent placed in a job directory back into a CompiledScene
// (mj_loadModel from memory, the manifest parsed with this runner's own limits), so the job
// runs on exactly the model a compile produces without unpacking or compiling the payload.
// Both run inside the runner's sandbox: the bytes came from another runner, untrusted like a
// payload.
//
//   internal::SharedScene shared = ExportScene(kept, settings.shared_scene_max_bytes());
//   WP_ASSIGN_OR_RETURN(job::CompiledScene scene, ImportScene(pack_path, sha256, limits, max));
#ifndef WORKERPAIR_SERVICES_HEAVY_RUNNER_SHARED_SCENE_H_
#define WORKERPAIR_SERVICES_HEAVY_RUNNER_SHARED_SCENE_H_

#include <cstdint>
#include <filesystem>
#include <string>

#include "absl/status/statusor.h"
#include "services/heavy/core/job/compiled_scene_cache.h"
#include "services/heavy/core/job/job_pipeline.h"
#include "services/heavy/runner/job_dir_files.h"
#include "workerpair/internal/runner.pb.h"

namespace workerpair::heavy {

// `scene` as a SharedScene of at most `max_bytes` serialised; a scene that does not fit, has
// no manifest text or cannot be saved comes back with `declined` saying why and no model.
internal::SharedScene ExportScene(const job::CompiledScene& scene, std::uint64_t max_bytes);

// The scene in `pack` (at most `max_bytes`) for payload `sha256`: INVALID_ARGUMENT when the
// file is too large, does not parse, or its model or manifest do not load.
absl::StatusOr<job::CompiledScene> ImportScene(const std::filesystem::path& pack,
                                               const std::string& sha256,
                                               const job::JobLimits& limits,
                                               std::uint64_t max_bytes);

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_RUNNER_SHARED_SCENE_H_
