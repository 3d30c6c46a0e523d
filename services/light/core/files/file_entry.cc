#include "services/light/core/files/file_entry.h"

namespace workerpair::light {

FileEntry EntryFromStat(std::string relative_path, const struct stat& st) {
  FileEntry entry;
  entry.path = std::move(relative_path);
  if (S_ISREG(st.st_mode)) {
    entry.type = EntryType::kFile;
    entry.size = static_cast<std::uint64_t>(st.st_size);
  } else if (S_ISDIR(st.st_mode)) {
    entry.type = EntryType::kDirectory;
  } else if (S_ISLNK(st.st_mode)) {
    entry.type = EntryType::kSymlink;
  }
  entry.modified_unix_nanos =
      static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return entry;
}

}  // namespace workerpair::light
