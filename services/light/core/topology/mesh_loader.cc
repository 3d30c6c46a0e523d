#include "services/light/core/topology/mesh_loader.h"

#include <bit>
#include <charconv>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "libs/common/ascii.h"
#include "libs/common/file_io.h"
#include "libs/common/path_confinement.h"
#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "libs/common/text_preview.h"

namespace workerpair::light {
namespace {

constexpr std::size_t kStlHeaderBytes = 84;
constexpr std::size_t kStlTriangleBytes = 50;
// Most tokens read from one line (see LineReader): bounds the memory of a one-line 64 MiB face.
constexpr std::size_t kMaxTokensPerLine = 1u << 16;
// How often (in lines or triangles) parsing asks its budget whether to go on.
constexpr std::uint64_t kBudgetStride = 4096;

// The budget's status every kBudgetStride steps; OK without a budget.
absl::Status CheckBudget(const CallBudget* budget, std::uint64_t step) {
  if (budget == nullptr || step % kBudgetStride != 0) return absl::OkStatus();
  return budget->Check();
}

using ascii::EndsWithIgnoreCase;
using ascii::EqualsIgnoreCase;

// Merges corners into shared vertices, exactly or within an epsilon (see the header).
class Welder {
 public:
  explicit Welder(double epsilon) : epsilon_(epsilon) {}

  // Returns the vertex index for `p` (finite), adding a vertex when none matches.
  // INVALID_ARGUMENT when a coordinate is too large for the epsilon grid.
  absl::StatusOr<std::uint32_t> Add(Vec3 p) {
    // Adding 0.0 turns -0.0 into +0.0, so both weld together.
    p = {p.x + 0.0, p.y + 0.0, p.z + 0.0};
    const Key key{std::bit_cast<std::int64_t>(p.x), std::bit_cast<std::int64_t>(p.y),
                  std::bit_cast<std::int64_t>(p.z)};
    if (epsilon_ == 0) {
      auto [it, inserted] = exact_.try_emplace(key, static_cast<std::uint32_t>(vertices_.size()));
      if (inserted) vertices_.push_back(p);
      return it->second;
    }
    // The answer for a position never changes (later vertices have higher indices), so repeated
    // corners, the common case in STL, are answered from the exact map.
    if (auto it = exact_.find(key); it != exact_.end()) return it->second;
    WP_ASSIGN_OR_RETURN(const std::uint32_t index, AddWithinEpsilon(p));
    exact_.emplace(key, index);
    return index;
  }

  std::vector<Vec3> TakeVertices() { return std::move(vertices_); }

 private:
  using Key = std::array<std::int64_t, 3>;
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      std::uint64_t h = 1469598103934665603ull;
      for (std::int64_t v : k) h = (h ^ static_cast<std::uint64_t>(v)) * 1099511628211ull;
      return static_cast<std::size_t>(h ^ (h >> 29));
    }
  };
  static constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

  // Looks in the 27 grid cells around p for the lowest-numbered vertex within epsilon.
  absl::StatusOr<std::uint32_t> AddWithinEpsilon(Vec3 p) {
    Key cell;
    for (int axis = 0; axis < 3; ++axis) {
      const double scaled = std::floor(p[axis] / epsilon_);
      if (!(std::abs(scaled) < 4e18)) {
        return absl::InvalidArgumentError(
            StrCat("weld epsilon ", epsilon_, " is too small for coordinate ", p[axis]));
      }
      cell[axis] = static_cast<std::int64_t>(scaled);
    }
    std::uint32_t best = kNone;
    for (std::int64_t dx = -1; dx <= 1; ++dx) {
      for (std::int64_t dy = -1; dy <= 1; ++dy) {
        for (std::int64_t dz = -1; dz <= 1; ++dz) {
          auto it = cells_.find(Key{cell[0] + dx, cell[1] + dy, cell[2] + dz});
          if (it == cells_.end()) continue;
          for (std::uint32_t index = it->second; index != kNone; index = next_in_cell_[index]) {
            if (index < best && Norm(vertices_[index] - p) <= epsilon_) best = index;
          }
        }
      }
    }
    if (best != kNone) return best;
    const auto index = static_cast<std::uint32_t>(vertices_.size());
    vertices_.push_back(p);
    // Push the vertex on the front of its cell's list.
    auto [head, inserted] = cells_.try_emplace(cell, index);
    next_in_cell_.push_back(inserted ? kNone : head->second);
    head->second = index;
    return index;
  }

  double epsilon_;
  std::vector<Vec3> vertices_;
  // Exact position -> vertex index (with an epsilon: the answer already given for it).
  std::unordered_map<Key, std::uint32_t, KeyHash> exact_;
  // Epsilon welding: each grid cell's most recent vertex, and per vertex the next in its cell.
  std::unordered_map<Key, std::uint32_t, KeyHash> cells_;
  std::vector<std::uint32_t> next_in_cell_;
};

// Collects triangles for one file, enforcing the triangle cap.
class MeshBuilder {
 public:
  MeshBuilder(std::string_view path, MeshFormat format, const MeshLoadOptions& options,
              const MeshLimits& limits)
      : path_(path), welder_(options.weld_epsilon), limits_(limits) {
    mesh_.format = format;
  }

  absl::StatusOr<std::uint32_t> Weld(Vec3 p) { return welder_.Add(p); }

  absl::Status AddTriangle(std::uint32_t a, std::uint32_t b, std::uint32_t c) {
    if (mesh_.triangles.size() >= limits_.max_triangles) {
      return absl::ResourceExhaustedError(StrCat("'", path_, "' has more than ",
                                                 limits_.max_triangles,
                                                 " triangles (the mesh triangle limit)"));
    }
    mesh_.triangles.push_back({a, b, c});
    return absl::OkStatus();
  }

  absl::StatusOr<TriangleMesh> Finish() {
    if (mesh_.triangles.empty()) {
      return absl::InvalidArgumentError(StrCat("'", path_, "' has no triangles"));
    }
    mesh_.vertices = welder_.TakeVertices();
    return std::move(mesh_);
  }

 private:
  std::string_view path_;
  Welder welder_;
  const MeshLimits& limits_;
  TriangleMesh mesh_;
};

std::uint32_t ReadU32(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return static_cast<std::uint32_t>(b[0]) | static_cast<std::uint32_t>(b[1]) << 8 |
         static_cast<std::uint32_t>(b[2]) << 16 | static_cast<std::uint32_t>(b[3]) << 24;
}

float ReadF32(const char* p) { return std::bit_cast<float>(ReadU32(p)); }

absl::StatusOr<TriangleMesh> ParseBinaryStl(std::string_view path, std::string_view content,
                                            std::uint64_t count, const MeshLoadOptions& options,
                                            const MeshLimits& limits, const CallBudget* budget) {
  if (count > limits.max_triangles) {
    return absl::ResourceExhaustedError(
        StrCat("'", path, "' declares ", count, " triangles; the limit is ", limits.max_triangles));
  }
  MeshBuilder builder(path, MeshFormat::kStlBinary, options, limits);
  for (std::uint64_t i = 0; i < count; ++i) {
    WP_RETURN_IF_ERROR(CheckBudget(budget, i));
    const std::size_t offset = kStlHeaderBytes + i * kStlTriangleBytes;
    // Skip the 12-byte facet normal; the winding order defines orientation.
    std::uint32_t corners[3];
    for (int k = 0; k < 3; ++k) {
      const char* at = content.data() + offset + 12 + 12 * k;
      const Vec3 p{ReadF32(at), ReadF32(at + 4), ReadF32(at + 8)};
      if (!IsFinite(p)) {
        return absl::InvalidArgumentError(StrCat("'", path, "' triangle ", i, " (byte ",
                                                 offset + 12 + 12 * k,
                                                 "): non-finite vertex coordinate"));
      }
      WP_ASSIGN_OR_RETURN(corners[k], builder.Weld(p));
    }
    WP_RETURN_IF_ERROR(builder.AddTriangle(corners[0], corners[1], corners[2]));
  }
  return builder.Finish();
}

// Splits text into lines (numbered from 1) and lines into whitespace-separated tokens.
class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {}

  // Reads the next line's tokens; false at the end. A '#' starts a comment when `comments`.
  // At most kMaxTokensPerLine + 1 tokens are kept, so a caller can tell there were too many.
  bool Next(std::vector<std::string_view>* tokens, bool comments) {
    if (pos_ >= text_.size()) return false;
    std::size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    std::string_view line = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    ++line_number_;
    if (comments) line = line.substr(0, line.find('#'));
    tokens->clear();
    std::size_t i = 0;
    while (i < line.size() && tokens->size() <= kMaxTokensPerLine) {
      while (i < line.size() && IsSpace(line[i])) ++i;
      const std::size_t start = i;
      while (i < line.size() && !IsSpace(line[i])) ++i;
      if (i > start) tokens->push_back(line.substr(start, i - start));
    }
    return true;
  }

  std::size_t line_number() const { return line_number_; }

 private:
  static bool IsSpace(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t line_number_ = 0;
};

// Parses a whole token as a double (a leading '+' allowed); non-finite values parse.
bool ParseDouble(std::string_view token, double* value) {
  if (!token.empty() && token[0] == '+') token.remove_prefix(1);
  if (token.empty()) return false;
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), *value);
  return ec == std::errc() && end == token.data() + token.size();
}

absl::Status LineError(std::string_view path, std::size_t line, std::string_view what) {
  return absl::InvalidArgumentError(StrCat("'", path, "' line ", line, ": ", what));
}

// Parses tokens[first..first+3) as a point; `finite` requires finite coordinates.
absl::StatusOr<Vec3> ParsePoint(std::string_view path, std::size_t line,
                                const std::vector<std::string_view>& tokens, std::size_t first,
                                bool finite) {
  if (tokens.size() < first + 3) return LineError(path, line, "expected three numbers");
  double v[3];
  for (int k = 0; k < 3; ++k) {
    const std::string_view token = tokens[first + k];
    if (!ParseDouble(token, &v[k])) {
      return LineError(path, line, StrCat("bad number '", TextPreview(token, 40), "'"));
    }
    if (finite && !std::isfinite(v[k])) {
      return LineError(path, line, StrCat("non-finite coordinate '", TextPreview(token, 40), "'"));
    }
  }
  return Vec3{v[0], v[1], v[2]};
}

absl::StatusOr<TriangleMesh> ParseAsciiStl(std::string_view path, std::string_view content,
                                           const MeshLoadOptions& options,
                                           const MeshLimits& limits, const CallBudget* budget) {
  MeshBuilder builder(path, MeshFormat::kStlAscii, options, limits);
  enum class State { kOutside, kSolid, kFacet, kLoop, kEndLoop };
  State state = State::kOutside;
  std::vector<std::uint32_t> loop;
  LineReader reader(content);
  std::vector<std::string_view> t;
  auto expect = [&](std::string_view what) {
    return LineError(path, reader.line_number(),
                     StrCat("expected ", what, ", found '", TextPreview(t[0], 40), "'"));
  };
  while (reader.Next(&t, /*comments=*/false)) {
    WP_RETURN_IF_ERROR(CheckBudget(budget, reader.line_number()));
    if (t.empty()) continue;
    const std::string_view word = t[0];
    switch (state) {
      case State::kOutside:
        if (!EqualsIgnoreCase(word, "solid")) return expect("'solid'");
        state = State::kSolid;
        break;
      case State::kSolid:
        if (EqualsIgnoreCase(word, "endsolid")) {
          state = State::kOutside;
        } else if (EqualsIgnoreCase(word, "facet")) {
          if (t.size() != 5 || !EqualsIgnoreCase(t[1], "normal")) {
            return LineError(path, reader.line_number(), "expected 'facet normal nx ny nz'");
          }
          // The normal is checked for syntax only (exporters write nan for degenerate facets).
          WP_RETURN_IF_ERROR(ParsePoint(path, reader.line_number(), t, 2, false).status());
          state = State::kFacet;
        } else {
          return expect("'facet' or 'endsolid'");
        }
        break;
      case State::kFacet:
        if (t.size() != 2 || !EqualsIgnoreCase(word, "outer") || !EqualsIgnoreCase(t[1], "loop")) {
          return expect("'outer loop'");
        }
        loop.clear();
        state = State::kLoop;
        break;
      case State::kLoop:
        if (EqualsIgnoreCase(word, "vertex")) {
          if (t.size() != 4)
            return LineError(path, reader.line_number(), "expected 'vertex x y z'");
          if (loop.size() == 3) {
            return LineError(path, reader.line_number(), "a facet with more than 3 vertices");
          }
          WP_ASSIGN_OR_RETURN(Vec3 p, ParsePoint(path, reader.line_number(), t, 1, true));
          WP_ASSIGN_OR_RETURN(std::uint32_t index, builder.Weld(p));
          loop.push_back(index);
        } else if (EqualsIgnoreCase(word, "endloop")) {
          if (loop.size() != 3) {
            return LineError(path, reader.line_number(),
                             StrCat("a facet with ", loop.size(), " vertices (needs 3)"));
          }
          state = State::kEndLoop;
        } else {
          return expect("'vertex' or 'endloop'");
        }
        break;
      case State::kEndLoop:
        if (!EqualsIgnoreCase(word, "endfacet")) return expect("'endfacet'");
        WP_RETURN_IF_ERROR(builder.AddTriangle(loop[0], loop[1], loop[2]));
        state = State::kSolid;
        break;
    }
  }
  if (state != State::kOutside) {
    return LineError(path, reader.line_number(), "file ends before 'endsolid' (truncated?)");
  }
  return builder.Finish();
}

absl::StatusOr<TriangleMesh> ParseObj(std::string_view path, std::string_view content,
                                      const MeshLoadOptions& options, const MeshLimits& limits,
                                      const CallBudget* budget) {
  MeshBuilder builder(path, MeshFormat::kObj, options, limits);
  // OBJ vertex number (0-based) -> welded vertex index.
  std::vector<std::uint32_t> welded;
  std::vector<std::uint32_t> polygon;
  LineReader reader(content);
  std::vector<std::string_view> t;
  while (reader.Next(&t, /*comments=*/true)) {
    WP_RETURN_IF_ERROR(CheckBudget(budget, reader.line_number()));
    if (t.empty()) continue;
    const std::size_t line = reader.line_number();
    if (t[0] == "v") {
      WP_ASSIGN_OR_RETURN(Vec3 p, ParsePoint(path, line, t, 1, true));
      // Extra numbers (w, or r g b) must still be numbers.
      for (std::size_t k = 4; k < t.size(); ++k) {
        double ignored;
        if (!ParseDouble(t[k], &ignored)) {
          return LineError(path, line, StrCat("bad number '", TextPreview(t[k], 40), "'"));
        }
      }
      WP_ASSIGN_OR_RETURN(std::uint32_t index, builder.Weld(p));
      welded.push_back(index);
    } else if (t[0] == "f") {
      if (t.size() < 4) {
        return LineError(path, line, StrCat("a face with ", t.size() - 1, " vertices (needs 3)"));
      }
      if (t.size() > kMaxTokensPerLine) {
        return LineError(path, line,
                         StrCat("a face with more than ", kMaxTokensPerLine - 1, " vertices"));
      }
      polygon.clear();
      for (std::size_t k = 1; k < t.size(); ++k) {
        const std::string_view number = t[k].substr(0, t[k].find('/'));
        long long n = 0;
        auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
        if (number.empty() || ec != std::errc() || end != number.data() + number.size()) {
          return LineError(path, line, StrCat("bad face index '", TextPreview(t[k], 40), "'"));
        }
        const auto count = static_cast<long long>(welded.size());
        const long long index = n < 0 ? count + n : n - 1;
        if (n == 0 || index < 0 || index >= count) {
          return LineError(
              path, line,
              StrCat("face index ", n, " names no vertex (", count, " defined so far)"));
        }
        polygon.push_back(welded[static_cast<std::size_t>(index)]);
      }
      // Fan triangulation: v0 v1 v2, v0 v2 v3, ...
      for (std::size_t k = 1; k + 1 < polygon.size(); ++k) {
        WP_RETURN_IF_ERROR(builder.AddTriangle(polygon[0], polygon[k], polygon[k + 1]));
      }
    }
  }
  return builder.Finish();
}

}  // namespace

bool IsSupportedMeshPath(std::string_view path) {
  return EndsWithIgnoreCase(path, ".stl") || EndsWithIgnoreCase(path, ".obj");
}

absl::StatusOr<TriangleMesh> ParseMesh(std::string_view display_path, std::string_view content,
                                       const MeshLoadOptions& options, const MeshLimits& limits,
                                       const CallBudget* budget) {
  if (!std::isfinite(options.weld_epsilon) || options.weld_epsilon < 0) {
    return absl::InvalidArgumentError(
        StrCat("weld epsilon must be finite and >= 0, got ", options.weld_epsilon));
  }
  if (content.size() > limits.max_file_bytes) {
    return absl::ResourceExhaustedError(StrCat("'", display_path, "' is ", content.size(),
                                               " bytes; the mesh file limit is ",
                                               limits.max_file_bytes));
  }
  if (EndsWithIgnoreCase(display_path, ".obj")) {
    return ParseObj(display_path, content, options, limits, budget);
  }
  if (!EndsWithIgnoreCase(display_path, ".stl")) {
    return absl::InvalidArgumentError(
        StrCat("'", display_path, "' is not a supported mesh (.stl or .obj)"));
  }
  // Binary when the size matches the header's triangle count exactly.
  if (content.size() >= kStlHeaderBytes) {
    const std::uint64_t count = ReadU32(content.data() + 80);
    if (content.size() == kStlHeaderBytes + count * kStlTriangleBytes) {
      return ParseBinaryStl(display_path, content, count, options, limits, budget);
    }
  }
  std::size_t first = content.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && content.size() - first >= 5 &&
      EqualsIgnoreCase(content.substr(first, 5), "solid")) {
    return ParseAsciiStl(display_path, content, options, limits, budget);
  }
  if (content.size() < kStlHeaderBytes) {
    return absl::InvalidArgumentError(
        StrCat("'", display_path, "' is a truncated binary STL: ", content.size(),
               " bytes, shorter than the ", kStlHeaderBytes, "-byte header"));
  }
  const std::uint64_t count = ReadU32(content.data() + 80);
  return absl::InvalidArgumentError(
      StrCat("'", display_path, "' is a malformed binary STL: the header declares ", count,
             " triangles (", kStlHeaderBytes + count * kStlTriangleBytes,
             " bytes) but the file has ", content.size(), " bytes"));
}

absl::StatusOr<TriangleMesh> LoadMesh(const std::filesystem::path& root,
                                      std::string_view client_path, const MeshLoadOptions& options,
                                      const MeshLimits& limits, const CallBudget* budget) {
  WP_ASSIGN_OR_RETURN(std::filesystem::path file, ConfinePath(root, client_path));
  const std::string relative = RelativeToRoot(root, file);
  if (!IsSupportedMeshPath(relative)) {
    return absl::InvalidArgumentError(
        StrCat("'", relative, "' is not a supported mesh (.stl or .obj)"));
  }
  WP_ASSIGN_OR_RETURN(std::string content, ReadFileCapped(file, relative, limits.max_file_bytes));
  WP_RETURN_IF_ERROR(budget != nullptr ? budget->Check() : absl::OkStatus());
  return ParseMesh(relative, content, options, limits, budget);
}

}  // namespace workerpair::light
