#include "tests/heavy/intake/test_archives.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <stdexcept>

namespace workerpair::heavy::testing {
namespace {

la_ssize_t AppendToString(struct archive*, void* client, const void* buffer, size_t length) {
  static_cast<std::string*>(client)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

void Check(struct archive* a, int result) {
  if (result < ARCHIVE_WARN) throw std::runtime_error(archive_error_string(a));
}

}  // namespace

std::string MakeTarGz(const std::vector<ArchiveEntry>& entries) {
  std::string out;
  std::unique_ptr<struct archive, int (*)(struct archive*)> a(archive_write_new(),
                                                               archive_write_free);
  Check(a.get(), archive_write_add_filter_gzip(a.get()));
  Check(a.get(), archive_write_set_format_pax_restricted(a.get()));
  Check(a.get(), archive_write_set_bytes_in_last_block(a.get(), 1));
  Check(a.get(), archive_write_open(a.get(), &out, nullptr, AppendToString, nullptr));
  for (const ArchiveEntry& spec : entries) {
    std::unique_ptr<struct archive_entry, void (*)(struct archive_entry*)> entry(
        archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(entry.get(), spec.path.c_str());
    archive_entry_set_mtime(entry.get(), 0, 0);
    switch (spec.type) {
      case ArchiveEntry::Type::kFile:
        archive_entry_set_filetype(entry.get(), AE_IFREG);
        archive_entry_set_perm(entry.get(), 0644);
        archive_entry_set_size(entry.get(),
                               static_cast<la_int64_t>(spec.content.size() + spec.zero_bytes));
        break;
      case ArchiveEntry::Type::kDirectory:
        archive_entry_set_filetype(entry.get(), AE_IFDIR);
        archive_entry_set_perm(entry.get(), 0755);
        break;
      case ArchiveEntry::Type::kSymlink:
        archive_entry_set_filetype(entry.get(), AE_IFLNK);
        archive_entry_set_perm(entry.get(), 0777);
        archive_entry_set_symlink(entry.get(), spec.link_target.c_str());
        break;
      case ArchiveEntry::Type::kHardlink:
        archive_entry_set_filetype(entry.get(), AE_IFREG);
        archive_entry_set_perm(entry.get(), 0644);
        archive_entry_set_hardlink(entry.get(), spec.link_target.c_str());
        archive_entry_set_size(entry.get(), 0);
        break;
    }
    Check(a.get(), archive_write_header(a.get(), entry.get()));
    if (spec.type == ArchiveEntry::Type::kFile) {
      if (!spec.content.empty()) {
        archive_write_data(a.get(), spec.content.data(), spec.content.size());
      }
      const std::string zeros(1 << 20, '\0');
      for (std::uint64_t left = spec.zero_bytes; left > 0;) {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, zeros.size()));
        if (archive_write_data(a.get(), zeros.data(), n) < 0) {
          throw std::runtime_error(archive_error_string(a.get()));
        }
        left -= n;
      }
    }
  }
  Check(a.get(), archive_write_close(a.get()));
  return out;
}

}  // namespace workerpair::heavy::testing
