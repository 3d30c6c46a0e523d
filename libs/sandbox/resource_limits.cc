// setrlimit from ResourceLimits, for the calling process or (prepared) for a child.
#include <sys/resource.h>

#include <cerrno>

#include "libs/common/str_cat.h"
#include "libs/sandbox/internal.h"

namespace workerpair::sandbox {
namespace internal {

std::vector<RlimitSetting> RlimitSettings(const ResourceLimits& limits) {
  std::vector<RlimitSetting> settings;
  auto add = [&](int resource, std::uint64_t soft, std::uint64_t hard, const char* name) {
    settings.push_back(RlimitSetting{resource, rlimit{soft, hard}, name});
  };
  if (limits.address_space_bytes != 0) {
    add(RLIMIT_AS, limits.address_space_bytes, limits.address_space_bytes, "RLIMIT_AS");
  }
  if (limits.data_bytes != 0) add(RLIMIT_DATA, limits.data_bytes, limits.data_bytes, "RLIMIT_DATA");
  // SIGXCPU at the soft limit (a clear signal to report); SIGKILL two seconds later.
  if (limits.cpu_seconds != 0) add(RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 2, "RLIMIT_CPU");
  if (limits.file_size_bytes != 0) {
    add(RLIMIT_FSIZE, limits.file_size_bytes, limits.file_size_bytes, "RLIMIT_FSIZE");
  }
  if (limits.open_files != 0) add(RLIMIT_NOFILE, limits.open_files, limits.open_files, "RLIMIT_NOFILE");
  if (limits.processes != 0) add(RLIMIT_NPROC, limits.processes, limits.processes, "RLIMIT_NPROC");
  if (limits.no_core_dumps) add(RLIMIT_CORE, 0, 0, "RLIMIT_CORE");
  return settings;
}

}  // namespace internal

absl::Status ApplyResourceLimits(const ResourceLimits& limits) {
  for (const internal::RlimitSetting& setting : internal::RlimitSettings(limits)) {
    if (::setrlimit(setting.resource, &setting.value) == 0) continue;
    const int error = errno;
    if (error == EPERM || error == EINVAL) {
      return absl::InvalidArgumentError(StrCat("sandbox: ", setting.name, " = ", setting.value.rlim_cur,
                                               " is above this process's hard limit (",
                                               internal::ErrnoText(error), ")"));
    }
    return absl::InternalError(
        StrCat("sandbox: setrlimit ", setting.name, " failed: ", internal::ErrnoText(error)));
  }
  return absl::OkStatus();
}

}  // namespace workerpair::sandbox
