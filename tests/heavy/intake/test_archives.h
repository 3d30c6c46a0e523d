// Test support: gzipped tar archives built entry by entry with libarchive, hostile ones
// included (`..`, absolute paths, links pointing out, bombs), which PackDirectory never makes.
//
//   std::string archive = MakeTarGz({{.path = "../escape.txt", .content = "x"}});
#ifndef WORKERPAIR_TESTS_HEAVY_INTAKE_TEST_ARCHIVES_H_
#define WORKERPAIR_TESTS_HEAVY_INTAKE_TEST_ARCHIVES_H_

#include <cstdint>
#include <string>
#include <vector>

namespace workerpair::heavy::testing {

struct ArchiveEntry {
  enum class Type { kFile, kDirectory, kSymlink, kHardlink };
  std::string path;
  Type type = Type::kFile;
  // File content; `zero_bytes` zeros are appended after it (for bombs).
  std::string content;
  std::uint64_t zero_bytes = 0;
  // Target of a symlink or hardlink.
  std::string link_target;
};

// A gzipped pax tar of `entries`, in order. Throws std::runtime_error on a libarchive error.
std::string MakeTarGz(const std::vector<ArchiveEntry>& entries);

}  // namespace workerpair::heavy::testing

#endif  // WORKERPAIR_TESTS_HEAVY_INTAKE_TEST_ARCHIVES_H_
