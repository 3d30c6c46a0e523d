#include "libs/common/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#ifndef WORKERPAIR_VERSION
#define WORKERPAIR_VERSION "unknown"
#endif
#ifndef WORKERPAIR_COMMIT
#define WORKERPAIR_COMMIT "unknown"
#endif

namespace workerpair {
namespace {

// The fields of /proc/self/stat after the command name (which may hold spaces and parentheses,
// hence the search for the last ')'). Field 3 of proc(5) (state) is element 0.
std::vector<std::string> SelfStatFields() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  const std::size_t end_of_name = line.rfind(')');
  std::vector<std::string> fields;
  if (end_of_name == std::string::npos) return fields;
  std::istringstream rest(line.substr(end_of_name + 1));
  for (std::string field; rest >> field;) fields.push_back(field);
  return fields;
}

// Field `number` as numbered in proc(5) (utime is 14), or 0 when missing.
double StatField(const std::vector<std::string>& fields, std::size_t number) {
  const std::size_t index = number - 3;
  if (index >= fields.size()) return 0;
  return std::strtod(fields[index].c_str(), nullptr);
}

double ClockTicksPerSecond() {
  const long ticks = ::sysconf(_SC_CLK_TCK);
  return ticks > 0 ? static_cast<double>(ticks) : 100.0;
}

double CpuSeconds() {
  const std::vector<std::string> fields = SelfStatFields();
  return (StatField(fields, 14) + StatField(fields, 15)) / ClockTicksPerSecond();
}

double ResidentBytes() {
  std::ifstream in("/proc/self/statm");
  double size_pages = 0, resident_pages = 0;
  in >> size_pages >> resident_pages;
  return resident_pages * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

double OpenFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  double count = 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count - 1;  // the descriptor opendir itself holds
}

double MaxFds() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 0;
  return static_cast<double>(limit.rlim_cur);
}

// Seconds since the epoch at which the system booted (btime in /proc/stat).
double BootTime() {
  std::ifstream in("/proc/stat");
  for (std::string key; in >> key;) {
    if (key == "btime") {
      double seconds = 0;
      in >> seconds;
      return seconds;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

double StartTimeSeconds() {
  // Computed once: neither the boot time nor the start time changes.
  static const double start =
      BootTime() + StatField(SelfStatFields(), 22) / ClockTicksPerSecond();
  return start;
}

}  // namespace

std::string_view BuildVersion() { return WORKERPAIR_VERSION; }
std::string_view BuildCommit() { return WORKERPAIR_COMMIT; }

void RegisterProcessMetrics(MetricsRegistry* registry) {
  registry
      ->AddGauge("workerpair_build_info",
                 "Always 1; the labels say which build runs (project version, git commit).",
                 {"version", "commit"})
      ->Set({std::string(BuildVersion()), std::string(BuildCommit())}, 1);
  registry->AddCounterCallback("process_cpu_seconds_total",
                               "Total user and system CPU time spent in seconds.", CpuSeconds);
  registry->AddGaugeCallback("process_resident_memory_bytes", "Resident memory size in bytes.",
                             ResidentBytes);
  registry->AddGaugeCallback("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                             [] { return StatField(SelfStatFields(), 23); });
  registry->AddGaugeCallback("process_open_fds", "Number of open file descriptors.", OpenFds);
  registry->AddGaugeCallback("process_max_fds", "Maximum number of open file descriptors.",
                             MaxFds);
  registry->AddGaugeCallback("process_threads", "Number of OS threads in the process.",
                             [] { return StatField(SelfStatFields(), 20); });
  StartTimeSeconds();
  registry->AddGaugeCallback("process_start_time_seconds",
                             "Start time of the process since unix epoch in seconds.",
                             StartTimeSeconds);
}

}  // namespace workerpair
