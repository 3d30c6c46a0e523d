#include "services/heavy/core/scene/mujoco_guard.h"

#include <mujoco/mujoco.h>

#include <mutex>
#include <utility>

#include "libs/common/str_cat.h"

namespace workerpair::heavy::scene {
namespace {

// Warnings raised on this thread, until TakeMujocoWarnings collects them. Capped so that a
// scene warning every step cannot grow it without bound.
constexpr std::size_t kMaxWarnings = 256;
thread_local std::vector<std::string> t_warnings;

void ThrowingErrorHandler(const char* message) {
  // The message is copied into the exception before MuJoCo's buffer can be reused.
  throw MujocoError(message != nullptr ? message : "unknown MuJoCo error");
}

void RecordingWarningHandler(const char* message) {
  if (t_warnings.size() < kMaxWarnings) {
    t_warnings.emplace_back(message != nullptr ? message : "unknown MuJoCo warning");
  }
}

}  // namespace

void InstallMujocoHandlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    mju_user_error = ThrowingErrorHandler;
    mju_user_warning = RecordingWarningHandler;
  });
}

std::vector<std::string> TakeMujocoWarnings() {
  std::vector<std::string> taken;
  taken.swap(t_warnings);
  return taken;
}

absl::Status GuardMujoco(std::string_view what, const std::function<void()>& fn,
                         absl::StatusCode code) {
  InstallMujocoHandlers();
  try {
    fn();
  } catch (const MujocoError& error) {
    return absl::Status(code, StrCat(what, ": ", error.what()));
  }
  return absl::OkStatus();
}

}  // namespace workerpair::heavy::scene
