// A runner's warm-up: one tiny rendered job through the whole pipeline before the runner says
// "ready". It loads every library a job will need (MuJoCo's compiler, the H.264 encoder, PNG,
// the GL shaders), so that afterwards the runner can drop read access to the system's files
// altogether (runner_main.cc) and a payload can read nothing but its own directory; and the
// first real job pays no first-use cost.
#ifndef WORKERPAIR_SERVICES_HEAVY_RUNNER_RUNNER_WARMUP_H_
#define WORKERPAIR_SERVICES_HEAVY_RUNNER_RUNNER_WARMUP_H_

#include <filesystem>

#include "absl/status/status.h"
#include "services/heavy/core/job/job_pipeline.h"

namespace workerpair::heavy {

// Runs a built-in scene (rendered when `render_thread` is set, else simulated only) in
// `<runner_dir>/warmup/`, which is removed afterwards.
absl::Status WarmUpRunner(const std::filesystem::path& runner_dir, const job::JobLimits& limits,
                          render::RenderThread* render_thread);

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_RUNNER_RUNNER_WARMUP_H_
