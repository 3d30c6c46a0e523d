#include "libs/rpc/pem_file.h"

#include <fstream>
#include <iterator>

#include "libs/common/str_cat.h"

namespace workerpair {

absl::StatusOr<std::string> ReadPemFile(const std::string& path, const char* what) {
  constexpr std::streamsize kMaxBytes = 1 << 20;
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat("cannot read ", what, " file '", path, "'"));
  std::string content(static_cast<std::size_t>(kMaxBytes) + 1, '\0');
  in.read(content.data(), kMaxBytes + 1);
  if (in.bad()) return absl::NotFoundError(StrCat("cannot read ", what, " file '", path, "'"));
  if (in.gcount() > kMaxBytes) {
    return absl::ResourceExhaustedError(
        StrCat(what, " file '", path, "' is larger than ", kMaxBytes, " bytes"));
  }
  content.resize(static_cast<std::size_t>(in.gcount()));
  return content;
}

}  // namespace workerpair
