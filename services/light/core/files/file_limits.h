// Caps on what one call to the files core may make the service do.
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_FILES_FILE_LIMITS_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_FILES_FILE_LIMITS_H_

#include <cstdint>

namespace workerpair::light {

struct FileLimits {
  // Largest content one read returns (whole file, range or batch total).
  std::uint64_t max_read_bytes = 16u << 20;
  // Largest file a write, edit or upload may produce.
  std::uint64_t max_write_bytes = 32u << 20;
  // Most entries one list returns.
  std::uint32_t max_list_entries = 10000;
  // Most matches one grep returns.
  std::uint32_t max_grep_results = 1000;
  // Most files one batch read may name.
  std::uint32_t max_batch_files = 256;
  // Most edits in one edit call.
  std::uint32_t max_edits = 1000;
  // Most files and total bytes in one upload stream.
  std::uint32_t max_upload_files = 10000;
  std::uint64_t max_upload_bytes = 256u << 20;
  // Longest regular expression accepted by grep, in bytes.
  std::uint32_t max_pattern_bytes = 4096;
};

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_FILES_FILE_LIMITS_H_
