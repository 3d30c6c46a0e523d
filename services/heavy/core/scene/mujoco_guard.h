// MuJoCo error and warning handling that never ends the process, safe across threads.
//
// MuJoCo's default error handler prints "Press Enter to exit" and calls exit(1), and its
// default handlers write MUJOCO_LOG.TXT into the working directory. InstallMujocoHandlers()
// replaces both, once per process (the hooks are process-wide function pointers):
//   - mju_user_error throws MujocoError carrying MuJoCo's message; catch it at the call site.
//   - mju_user_warning appends the message to a thread_local list, read with TakeMujocoWarnings.
// Every function here calls InstallMujocoHandlers() itself; code that calls MuJoCo directly
// (e.g. mjr_makeContext in the renderer) should call it first, then wrap the call:
//
//   InstallMujocoHandlers();
//   absl::Status s = GuardMujoco("mjr_makeContext", [&] { mjr_makeContext(m, &con, 150); });
//   // s is INTERNAL "mjr_makeContext: <MuJoCo's message>" when MuJoCo raised an error.
//
// Throwing out of a MuJoCo call may leak what that call had allocated and may leave the mjData
// it worked on inconsistent: discard (or mj_resetData) that mjData afterwards.
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_SCENE_MUJOCO_GUARD_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_SCENE_MUJOCO_GUARD_H_

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace workerpair::heavy::scene {

// Thrown by the installed mju_user_error handler; what() is MuJoCo's message.
class MujocoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Installs the throwing error handler and the recording warning handler. Idempotent and
// thread-safe (std::call_once); cheap to call on every entry point.
void InstallMujocoHandlers();

// Returns and clears the warnings MuJoCo raised on the calling thread since the last call.
std::vector<std::string> TakeMujocoWarnings();

// Runs `fn`; returns OK, or `code` with "<what>: <MuJoCo's message>" when MuJoCo raised an error.
absl::Status GuardMujoco(std::string_view what, const std::function<void()>& fn,
                         absl::StatusCode code = absl::StatusCode::kInternal);

}  // namespace workerpair::heavy::scene

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_SCENE_MUJOCO_GUARD_H_
