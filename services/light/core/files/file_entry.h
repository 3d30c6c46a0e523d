// FileEntry: what the files core reports about one filesystem entry.
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_FILES_FILE_ENTRY_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_FILES_FILE_ENTRY_H_

#include <sys/stat.h>

#include <cstdint>
#include <string>

namespace workerpair::light {

enum class EntryType { kFile, kDirectory, kSymlink, kOther };

struct FileEntry {
  // Path relative to the workspace, '/'-separated.
  std::string path;
  EntryType type = EntryType::kOther;
  // Bytes, for regular files.
  std::uint64_t size = 0;
  std::int64_t modified_unix_nanos = 0;
};

// Builds an entry from an lstat result.
FileEntry EntryFromStat(std::string relative_path, const struct stat& st);

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_FILES_FILE_ENTRY_H_
