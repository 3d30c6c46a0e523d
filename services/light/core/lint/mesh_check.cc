#include "services/light/core/lint/mesh_check.h"

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "libs/common/ascii.h"
#include "libs/common/str_cat.h"
#include "libs/common/text_preview.h"

namespace workerpair::light {
namespace {

constexpr std::size_t kStlHeaderBytes = 84;
constexpr std::size_t kStlTriangleBytes = 50;
// Most tokens read from one line: an OBJ face of 65536 corners is already absurd, and the
// token list of a 64 MiB one-line face would cost a gigabyte.
constexpr std::size_t kMaxTokensPerLine = 1u << 16;
// How often (in lines or triangles) a long scan asks its budget whether to go on.
constexpr std::uint64_t kBudgetStride = 4096;

using ascii::EndsWithIgnoreCase;

// Splits a line into whitespace-separated tokens, at most kMaxTokensPerLine + 1 of them (so a
// caller can tell the line had too many).
std::vector<std::string_view> Tokens(std::string_view line) {
  std::vector<std::string_view> tokens;
  std::size_t i = 0;
  while (i < line.size() && tokens.size() <= kMaxTokensPerLine) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    const std::size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > start) tokens.push_back(line.substr(start, i - start));
  }
  return tokens;
}

bool ParseDouble(std::string_view token, double* value) {
  if (!token.empty() && token.front() == '+') token.remove_prefix(1);
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), *value);
  return ec == std::errc() && end == token.data() + token.size();
}

// Collects findings for one file, up to a cap.
class Findings {
 public:
  Findings(std::string_view path, std::size_t max) : path_(path), max_(max) {}
  // False once the cap is reached (callers stop scanning).
  bool Add(int line, std::string code, std::string message) {
    if (found_.size() >= max_) return false;
    found_.push_back(
        Diagnostic{path_, line, line > 0 ? 1 : 0, std::move(code), Severity::kError,
                   std::move(message)});
    return found_.size() < max_;
  }
  std::vector<Diagnostic> Take() { return std::move(found_); }

 private:
  std::string path_;
  std::size_t max_;
  std::vector<Diagnostic> found_;
};

// Calls `visit(line_number, line)` for each line; stops when it returns false or `budget` runs
// out.
template <typename Visit>
void ForEachLine(std::string_view content, const CallBudget* budget, Visit visit) {
  int number = 0;
  for (std::size_t begin = 0; begin < content.size();) {
    if (budget != nullptr && number % kBudgetStride == 0 && budget->Exhausted()) return;
    std::size_t end = content.find('\n', begin);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = content.substr(begin, end - begin);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    begin = end + 1;
    if (!visit(++number, line)) return;
  }
}

void CheckBinaryStl(std::string_view content, std::uint32_t triangles, Findings* findings,
                    const CallBudget* budget) {
  if (triangles == 0) {
    findings->Add(0, "mesh/empty", "binary STL holds no triangles");
    return;
  }
  for (std::uint32_t t = 0; t < triangles; ++t) {
    if (budget != nullptr && t % kBudgetStride == 0 && budget->Exhausted()) return;
    const char* record = content.data() + kStlHeaderBytes + t * kStlTriangleBytes;
    for (int k = 3; k < 12; ++k) {  // 3 vertices x 3 floats, after the normal
      float value;
      std::memcpy(&value, record + 4 * k, sizeof(value));
      if (!std::isfinite(value)) {
        if (!findings->Add(0, "mesh/non-finite",
                           StrCat("binary STL triangle ", t, " has a non-finite coordinate"))) {
          return;
        }
        break;
      }
    }
  }
}

void CheckAsciiStl(std::string_view content, Findings* findings, const CallBudget* budget) {
  int facets = 0;
  int facet_vertices = 0;
  int facet_line = 0;
  bool in_facet = false;
  ForEachLine(content, budget, [&](int number, std::string_view line) {
    const std::vector<std::string_view> tokens = Tokens(line);
    if (tokens.empty()) return true;
    const std::string_view keyword = tokens[0];
    if (keyword == "facet") {
      in_facet = true;
      facet_vertices = 0;
      facet_line = number;
      ++facets;
    } else if (keyword == "vertex") {
      double value;
      bool good = tokens.size() == 4 && in_facet;
      for (std::size_t i = 1; good && i < 4; ++i) {
        good = ParseDouble(tokens[i], &value) && std::isfinite(value);
      }
      ++facet_vertices;
      if (!good) {
        return findings->Add(number, "mesh/stl-syntax",
                             StrCat("'vertex' line ", number,
                                    " needs three finite numbers inside a facet"));
      }
    } else if (keyword == "endfacet") {
      in_facet = false;
      if (facet_vertices != 3) {
        return findings->Add(facet_line, "mesh/stl-syntax",
                             StrCat("facet starting on line ", facet_line, " has ",
                                    facet_vertices, " vertices instead of 3"));
      }
    } else if (keyword != "solid" && keyword != "outer" && keyword != "endloop" &&
               keyword != "endsolid") {
      return findings->Add(number, "mesh/stl-syntax",
                           StrCat("unexpected '", TextPreview(keyword, 40), "' in an ASCII STL"));
    }
    return true;
  });
  if (facets == 0) findings->Add(0, "mesh/empty", "ASCII STL holds no facets");
}

void CheckStl(std::string_view content, Findings* findings, const CallBudget* budget) {
  if (content.empty()) {
    findings->Add(0, "mesh/empty", "the file is empty");
    return;
  }
  if (content.size() >= kStlHeaderBytes) {
    std::uint32_t triangles;
    std::memcpy(&triangles, content.data() + 80, sizeof(triangles));  // little-endian hosts
    const std::uint64_t expected =
        kStlHeaderBytes + static_cast<std::uint64_t>(triangles) * kStlTriangleBytes;
    if (expected == content.size()) {
      CheckBinaryStl(content, triangles, findings, budget);
      return;
    }
    std::string_view head = content;
    while (!head.empty() && std::isspace(static_cast<unsigned char>(head.front()))) {
      head.remove_prefix(1);
    }
    const bool text = content.find('\0') == std::string_view::npos;
    if (!(head.starts_with("solid") && text)) {
      findings->Add(0, "mesh/stl-size-mismatch",
                    StrCat("binary STL header says ", triangles, " triangles (", expected,
                           " bytes) but the file is ", content.size(), " bytes"));
      return;
    }
  } else if (!content.starts_with("solid")) {
    findings->Add(0, "mesh/stl-truncated",
                  StrCat("binary STL is ", content.size(),
                         " bytes, shorter than its 84-byte header"));
    return;
  }
  CheckAsciiStl(content, findings, budget);
}

// The line without its comment, when its first token is `keyword`.
bool StartsWithKeyword(std::string_view line, std::string_view keyword) {
  line = line.substr(0, line.find('#'));
  std::size_t i = 0;
  while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
  line.remove_prefix(i);
  return line.starts_with(keyword) &&
         (line.size() == keyword.size() ||
          std::isspace(static_cast<unsigned char>(line[keyword.size()])));
}

void CheckObj(std::string_view content, Findings* findings, const CallBudget* budget) {
  // First pass: how many vertices the file has, so that forward (positive) indices can be
  // checked as they come, in constant memory.
  std::int64_t total_vertices = 0;
  ForEachLine(content, budget, [&](int, std::string_view line) {
    if (StartsWithKeyword(line, "v")) ++total_vertices;
    return true;
  });
  std::int64_t vertices = 0;
  std::int64_t faces = 0;
  ForEachLine(content, budget, [&](int number, std::string_view line) {
    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    const std::vector<std::string_view> tokens = Tokens(line);
    if (tokens.empty()) return true;
    if (tokens[0] == "v") {
      double value;
      bool good = tokens.size() >= 4;
      for (std::size_t i = 1; good && i < 4; ++i) {
        good = ParseDouble(tokens[i], &value) && std::isfinite(value);
      }
      ++vertices;
      if (!good) {
        return findings->Add(number, "mesh/obj-syntax",
                             StrCat("'v' on line ", number, " needs three finite numbers"));
      }
    } else if (tokens[0] == "f") {
      ++faces;
      if (tokens.size() < 4) {
        return findings->Add(number, "mesh/obj-syntax",
                             StrCat("'f' on line ", number, " needs at least 3 vertices"));
      }
      if (tokens.size() > kMaxTokensPerLine) {
        return findings->Add(number, "mesh/obj-syntax",
                             StrCat("'f' on line ", number, " has more than ",
                                    kMaxTokensPerLine - 1, " vertices"));
      }
      for (std::size_t i = 1; i < tokens.size(); ++i) {
        const std::string_view ref = tokens[i].substr(0, tokens[i].find('/'));
        std::int64_t index = 0;
        auto [end, ec] = std::from_chars(ref.data(), ref.data() + ref.size(), index);
        if (ec != std::errc() || end != ref.data() + ref.size() || index == 0) {
          return findings->Add(number, "mesh/obj-syntax",
                               StrCat("'f' on line ", number, " has a bad vertex reference '",
                                      TextPreview(tokens[i], 40), "'"));
        }
        if (index > total_vertices) {
          return findings->Add(number, "mesh/obj-bad-index",
                               StrCat("'f' on line ", number, " refers to vertex ", index,
                                      " but the file has ", total_vertices));
        }
        if (index < 0 && vertices + index < 0) {
          return findings->Add(number, "mesh/obj-bad-index",
                               StrCat("'f' on line ", number, " refers to vertex ", index,
                                      " but only ", vertices, " precede it"));
        }
      }
    }
    return true;
  });
  if (vertices == 0) {
    findings->Add(0, "mesh/empty", "OBJ has no vertices ('v' lines)");
  } else if (faces == 0) {
    findings->Add(0, "mesh/obj-no-faces", "OBJ has vertices but no faces ('f' lines)");
  }
}

}  // namespace

bool IsMeshFile(std::string_view relative_path) {
  return EndsWithIgnoreCase(relative_path, ".stl") || EndsWithIgnoreCase(relative_path, ".obj");
}

std::vector<Diagnostic> CheckMeshFile(std::string_view relative_path, std::string_view content,
                                      std::size_t max_findings, const CallBudget* budget) {
  Findings findings(relative_path, max_findings);
  if (EndsWithIgnoreCase(relative_path, ".stl")) {
    CheckStl(content, &findings, budget);
  } else if (EndsWithIgnoreCase(relative_path, ".obj")) {
    CheckObj(content, &findings, budget);
  }
  return findings.Take();
}

}  // namespace workerpair::light
