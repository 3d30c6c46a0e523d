// The series every workerpair process exports beside its own: what build is running
// (workerpair_build_info) and the standard process_* metrics Prometheus client libraries
// export, read from /proc/self when the page is rendered.
//
//   RegisterProcessMetrics(&MetricsRegistry::Default());
#ifndef WORKERPAIR_LIBS_COMMON_PROCESS_METRICS_H_
#define WORKERPAIR_LIBS_COMMON_PROCESS_METRICS_H_

#include <string_view>

#include "libs/common/metrics.h"

namespace workerpair {

// The project version (CMake's project(VERSION)).
std::string_view BuildVersion();
// `git rev-parse --short HEAD` when CMake configured the build, or "unknown".
std::string_view BuildCommit();

// Registers workerpair_build_info{version,commit} 1 and process_cpu_seconds_total,
// process_resident_memory_bytes, process_virtual_memory_bytes, process_open_fds,
// process_max_fds, process_threads and process_start_time_seconds. Calling it again is harmless.
void RegisterProcessMetrics(MetricsRegistry* registry);

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_COMMON_PROCESS_METRICS_H_
