#include "libs/scene/mesh_reader.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <vector>

#include "libs/common/ascii.h"
#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "libs/common/text_preview.h"

namespace workerpair::scene {
namespace {

constexpr std::size_t kStlHeaderBytes = 84;
constexpr std::size_t kStlTriangleBytes = 50;
// Most tokens read from one line: bounds the memory of a one-line 64 MiB face.
constexpr std::size_t kMaxTokensPerLine = 1u << 16;
// How often (in lines or triangles) reading asks its budget whether to go on.
constexpr std::uint64_t kBudgetStride = 4096;
// MuJoCo 2.2.2's face limit for STL files.
constexpr std::uint64_t kMujocoMaxStlFaces = 200000;

absl::Status CheckBudget(const CallBudget* budget, std::uint64_t step) {
  if (budget == nullptr || step % kBudgetStride != 0) return absl::OkStatus();
  return budget->Check();
}

std::uint32_t ReadU32(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return static_cast<std::uint32_t>(b[0]) | static_cast<std::uint32_t>(b[1]) << 8 |
         static_cast<std::uint32_t>(b[2]) << 16 | static_cast<std::uint32_t>(b[3]) << 24;
}

float ReadF32(const char* p) { return std::bit_cast<float>(ReadU32(p)); }

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

  int line_number() const { return line_number_; }

 private:
  static bool IsSpace(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  int line_number_ = 0;
};

// Parses a whole token as a double (a leading '+' allowed); non-finite values parse.
bool ParseDouble(std::string_view token, double* value) {
  if (!token.empty() && token[0] == '+') token.remove_prefix(1);
  if (token.empty()) return false;
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), *value);
  return ec == std::errc() && end == token.data() + token.size();
}

struct Point {
  double v[3];
};

// Reads one file into the sink; each method returns false once reading must stop.
class Reader {
 public:
  Reader(std::string_view content, const MeshReadLimits& limits, MeshSink& sink,
         const CallBudget* budget)
      : content_(content), limits_(limits), sink_(sink), budget_(budget) {}

  // The status to return: a sink's or the budget's error, else OK.
  absl::Status status() const { return status_; }

  void Stl() {
    if (content_.empty()) {
      Problem(MeshProblemCode::kEmpty, 0, "the file is empty (no triangles)");
      return;
    }
    switch (DetectMeshKind(".stl", content_)) {
      case MeshFileKind::kStlBinary:
        BinaryStl(ReadU32(content_.data() + 80));
        return;
      case MeshFileKind::kStlAscii:
        AsciiStl();
        return;
      default:
        break;
    }
    if (content_.size() < kStlHeaderBytes) {
      Problem(MeshProblemCode::kStlTruncated, 0,
              StrCat("is a truncated binary STL: ", content_.size(), " bytes, shorter than the ",
                     kStlHeaderBytes, "-byte header"));
      return;
    }
    const std::uint64_t count = ReadU32(content_.data() + 80);
    Problem(MeshProblemCode::kStlSizeMismatch, 0,
            StrCat("is a malformed binary STL: the header declares ", count, " triangles (",
                   kStlHeaderBytes + count * kStlTriangleBytes, " bytes) but the file has ",
                   content_.size(), " bytes"));
  }

  void Obj() {
    // OBJ vertex number (0-based) -> the sink's id; a bad `v` line keeps its number.
    std::vector<std::uint32_t> ids;
    std::vector<std::uint32_t> polygon;
    std::uint64_t faces = 0;
    LineReader reader(content_);
    std::vector<std::string_view> t;
    while (reader.Next(&t, /*comments=*/true)) {
      if (!Budget(static_cast<std::uint64_t>(reader.line_number()))) return;
      if (t.empty()) continue;
      const int line = reader.line_number();
      if (t[0] == "v") {
        std::optional<Point> p = ParsePoint(line, t, 1, true, MeshProblemCode::kObjSyntax);
        for (std::size_t k = 4; p && k < t.size(); ++k) {
          double ignored;
          if (!ParseDouble(t[k], &ignored)) {
            Problem(MeshProblemCode::kObjSyntax, line,
                    StrCat("bad number '", TextPreview(t[k], 40), "'"));
            p.reset();
          }
        }
        if (!p) {
          if (stop_) return;
          ids.push_back(0);
          continue;
        }
        absl::StatusOr<std::uint32_t> id = sink_.Vertex(p->v[0], p->v[1], p->v[2]);
        if (!Ok(id.status())) return;
        ids.push_back(*id);
      } else if (t[0] == "f") {
        ++faces;
        if (!Face(line, t, ids, &polygon)) return;
      }
    }
    if (ids.empty()) {
      Problem(MeshProblemCode::kEmpty, 0, "OBJ has no vertices ('v' lines), so no triangles");
    } else if (faces == 0) {
      Problem(MeshProblemCode::kObjNoFaces, 0,
              "OBJ has vertices but no faces ('f' lines), so no triangles");
    }
  }

 private:
  // Records a problem; false when reading must stop.
  bool Problem(MeshProblemCode code, int line, std::string message) {
    ++problems_;
    if (!sink_.Problem(MeshProblem{code, line, std::move(message)})) stop_ = true;
    return !stop_;
  }

  bool Ok(const absl::Status& status) {
    if (status.ok()) return true;
    status_ = status;
    stop_ = true;
    return false;
  }

  bool Budget(std::uint64_t step) { return Ok(CheckBudget(budget_, step)); }

  bool AddTriangle(std::uint32_t a, std::uint32_t b, std::uint32_t c, int line) {
    if (++triangles_ > limits_.max_triangles) {
      Problem(MeshProblemCode::kTooManyTriangles, line,
              StrCat("has more than ", limits_.max_triangles,
                     " triangles (the mesh triangle limit)"));
      stop_ = true;
      return false;
    }
    return Ok(sink_.Triangle(a, b, c));
  }

  void BinaryStl(std::uint64_t count) {
    if (count == 0) {
      Problem(MeshProblemCode::kEmpty, 0, "binary STL holds no triangles");
      return;
    }
    if (count > limits_.max_triangles) {
      Problem(MeshProblemCode::kTooManyTriangles, 0,
              StrCat("declares ", count, " triangles; the limit is ", limits_.max_triangles));
      return;
    }
    for (std::uint64_t i = 0; i < count; ++i) {
      if (!Budget(i)) return;
      const std::size_t offset = kStlHeaderBytes + i * kStlTriangleBytes;
      // Skip the 12-byte facet normal; the winding order defines orientation.
      std::uint32_t corners[3];
      bool finite = true;
      for (int k = 0; k < 3 && finite; ++k) {
        const char* at = content_.data() + offset + 12 + 12 * k;
        const double x = ReadF32(at), y = ReadF32(at + 4), z = ReadF32(at + 8);
        if (!std::isfinite(x) || !std::isfinite(y) || !std::isfinite(z)) {
          finite = false;
          if (!Problem(MeshProblemCode::kNonFinite, 0,
                       StrCat("triangle ", i, " (byte ", offset + 12 + 12 * k,
                              "): non-finite vertex coordinate"))) {
            return;
          }
          break;
        }
        absl::StatusOr<std::uint32_t> id = sink_.Vertex(x, y, z);
        if (!Ok(id.status())) return;
        corners[k] = *id;
      }
      if (finite && !AddTriangle(corners[0], corners[1], corners[2], 0)) return;
    }
  }

  // Parses tokens[first..first+3) as a point; `finite` requires finite coordinates. Reports
  // the problem and returns nullopt when it does not parse.
  std::optional<Point> ParsePoint(int line, const std::vector<std::string_view>& tokens,
                                  std::size_t first, bool finite, MeshProblemCode syntax) {
    if (tokens.size() < first + 3) {
      Problem(syntax, line, "expected three numbers");
      return std::nullopt;
    }
    Point p;
    for (int k = 0; k < 3; ++k) {
      const std::string_view token = tokens[first + k];
      if (!ParseDouble(token, &p.v[k])) {
        Problem(syntax, line, StrCat("bad number '", TextPreview(token, 40), "'"));
        return std::nullopt;
      }
      if (finite && !std::isfinite(p.v[k])) {
        Problem(MeshProblemCode::kNonFinite, line,
                StrCat("non-finite coordinate '", TextPreview(token, 40), "'"));
        return std::nullopt;
      }
    }
    return p;
  }

  void AsciiStl() {
    enum class State { kOutside, kSolid, kFacet, kLoop, kEndLoop };
    State state = State::kOutside;
    std::vector<std::uint32_t> loop;
    LineReader reader(content_);
    std::vector<std::string_view> t;
    // Any problem ends the read: the grammar gives no place to resume.
    auto syntax = [&](std::string message) {
      Problem(MeshProblemCode::kStlSyntax, reader.line_number(), std::move(message));
    };
    auto expect = [&](std::string_view what) {
      syntax(StrCat("expected ", what, ", found '", TextPreview(t[0], 40), "'"));
    };
    auto is = [](std::string_view token, std::string_view keyword) {
      return ascii::EqualsIgnoreCase(token, keyword);
    };
    std::uint64_t facets = 0;
    while (reader.Next(&t, /*comments=*/false)) {
      if (!Budget(static_cast<std::uint64_t>(reader.line_number()))) return;
      if (t.empty()) continue;
      const int line = reader.line_number();
      const std::string_view word = t[0];
      switch (state) {
        case State::kOutside:
          if (!is(word, "solid")) return expect("'solid'");
          state = State::kSolid;
          break;
        case State::kSolid:
          if (is(word, "endsolid")) {
            state = State::kOutside;
          } else if (is(word, "facet")) {
            if (t.size() != 5 || !is(t[1], "normal")) {
              return syntax("expected 'facet normal nx ny nz'");
            }
            // The normal is checked for syntax only (exporters write nan for degenerate facets).
            if (!ParsePoint(line, t, 2, false, MeshProblemCode::kStlSyntax)) return;
            state = State::kFacet;
          } else {
            return expect("'facet' or 'endsolid'");
          }
          break;
        case State::kFacet:
          if (t.size() != 2 || !is(word, "outer") || !is(t[1], "loop")) {
            return expect("'outer loop'");
          }
          loop.clear();
          state = State::kLoop;
          break;
        case State::kLoop:
          if (is(word, "vertex")) {
            if (t.size() != 4) return syntax("expected 'vertex x y z'");
            if (loop.size() == 3) return syntax("a facet with more than 3 vertices");
            std::optional<Point> p = ParsePoint(line, t, 1, true, MeshProblemCode::kStlSyntax);
            if (!p) return;
            absl::StatusOr<std::uint32_t> id = sink_.Vertex(p->v[0], p->v[1], p->v[2]);
            if (!Ok(id.status())) return;
            loop.push_back(*id);
          } else if (is(word, "endloop")) {
            if (loop.size() != 3) {
              return syntax(StrCat("a facet with ", loop.size(), " vertices (needs 3)"));
            }
            state = State::kEndLoop;
          } else {
            return expect("'vertex' or 'endloop'");
          }
          break;
        case State::kEndLoop:
          if (!is(word, "endfacet")) return expect("'endfacet'");
          ++facets;
          if (!AddTriangle(loop[0], loop[1], loop[2], line)) return;
          state = State::kSolid;
          break;
      }
    }
    if (state != State::kOutside) {
      return syntax("file ends before 'endsolid' (truncated?)");
    }
    if (facets == 0) Problem(MeshProblemCode::kEmpty, 0, "ASCII STL holds no facets (no triangles)");
  }

  // One `f` line; false once reading must stop.
  bool Face(int line, const std::vector<std::string_view>& t,
            const std::vector<std::uint32_t>& ids, std::vector<std::uint32_t>* polygon) {
    if (t.size() < 4) {
      return Problem(MeshProblemCode::kObjSyntax, line,
                     StrCat("a face with ", t.size() - 1, " vertices (needs 3)"));
    }
    if (t.size() > kMaxTokensPerLine) {
      return Problem(MeshProblemCode::kObjSyntax, line,
                     StrCat("a face with more than ", kMaxTokensPerLine - 1, " vertices"));
    }
    polygon->clear();
    for (std::size_t k = 1; k < t.size(); ++k) {
      const std::string_view number = t[k].substr(0, t[k].find('/'));
      long long n = 0;
      auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
      if (number.empty() || ec != std::errc() || end != number.data() + number.size()) {
        return Problem(MeshProblemCode::kObjSyntax, line,
                       StrCat("bad face index '", TextPreview(t[k], 40), "'"));
      }
      const auto count = static_cast<long long>(ids.size());
      const long long index = n < 0 ? count + n : n - 1;
      if (n == 0 || index < 0 || index >= count) {
        return Problem(MeshProblemCode::kObjBadIndex, line,
                       StrCat("face index ", n, " names no vertex (", count,
                              " defined so far)"));
      }
      polygon->push_back(ids[static_cast<std::size_t>(index)]);
    }
    // A face after a problem is not passed on: its vertices may be placeholders.
    if (problems_ > 0) return true;
    // Fan triangulation: v0 v1 v2, v0 v2 v3, ...
    for (std::size_t k = 1; k + 1 < polygon->size(); ++k) {
      if (!AddTriangle((*polygon)[0], (*polygon)[k], (*polygon)[k + 1], line)) return false;
    }
    return true;
  }

  std::string_view content_;
  const MeshReadLimits& limits_;
  MeshSink& sink_;
  const CallBudget* budget_;
  absl::Status status_;
  bool stop_ = false;
  std::uint64_t problems_ = 0;
  std::uint64_t triangles_ = 0;
};

// Keeps the first problem only.
class FirstProblemSink : public MeshSink {
 public:
  absl::StatusOr<std::uint32_t> Vertex(double, double, double) override { return 0; }
  absl::Status Triangle(std::uint32_t, std::uint32_t, std::uint32_t) override {
    return absl::OkStatus();
  }
  bool Problem(const MeshProblem& problem) override {
    first = problem;
    return false;
  }
  std::optional<MeshProblem> first;
};

}  // namespace

MeshFileKind DetectMeshKind(std::string_view path, std::string_view content) {
  if (ascii::EndsWithIgnoreCase(path, ".obj")) return MeshFileKind::kObj;
  if (!ascii::EndsWithIgnoreCase(path, ".stl")) return MeshFileKind::kUnknown;
  if (content.size() >= kStlHeaderBytes &&
      content.size() == kStlHeaderBytes + std::uint64_t{ReadU32(content.data() + 80)} *
                                              kStlTriangleBytes) {
    return MeshFileKind::kStlBinary;
  }
  const std::size_t first = content.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && content.size() - first >= 5 &&
      ascii::EqualsIgnoreCase(content.substr(first, 5), "solid") &&
      content.find('\0') == std::string_view::npos) {
    return MeshFileKind::kStlAscii;
  }
  return MeshFileKind::kUnknown;
}

std::string_view MeshProblemName(MeshProblemCode code) {
  switch (code) {
    case MeshProblemCode::kUnsupported: return "mesh/unsupported";
    case MeshProblemCode::kTooLarge: return "mesh/too-large";
    case MeshProblemCode::kTooManyTriangles: return "mesh/too-many-triangles";
    case MeshProblemCode::kEmpty: return "mesh/empty";
    case MeshProblemCode::kStlTruncated: return "mesh/stl-truncated";
    case MeshProblemCode::kStlSizeMismatch: return "mesh/stl-size-mismatch";
    case MeshProblemCode::kStlSyntax: return "mesh/stl-syntax";
    case MeshProblemCode::kNonFinite: return "mesh/non-finite";
    case MeshProblemCode::kObjSyntax: return "mesh/obj-syntax";
    case MeshProblemCode::kObjBadIndex: return "mesh/obj-bad-index";
    case MeshProblemCode::kObjNoFaces: return "mesh/obj-no-faces";
  }
  return "mesh/unknown";
}

bool IsMeshLimit(MeshProblemCode code) {
  return code == MeshProblemCode::kTooLarge || code == MeshProblemCode::kTooManyTriangles;
}

absl::Status ReadMesh(std::string_view path, std::string_view content,
                      const MeshReadLimits& limits, MeshSink& sink, const CallBudget* budget) {
  if (content.size() > limits.max_file_bytes) {
    sink.Problem(MeshProblem{MeshProblemCode::kTooLarge, 0,
                             StrCat("is ", content.size(), " bytes; the mesh file limit is ",
                                    limits.max_file_bytes)});
    return absl::OkStatus();
  }
  Reader reader(content, limits, sink, budget);
  if (ascii::EndsWithIgnoreCase(path, ".obj")) {
    reader.Obj();
  } else if (ascii::EndsWithIgnoreCase(path, ".stl")) {
    reader.Stl();
  } else {
    sink.Problem(MeshProblem{MeshProblemCode::kUnsupported, 0,
                             "is not a supported mesh (.stl or .obj)"});
  }
  return reader.status();
}

std::string MeshProblemText(std::string_view path, const MeshProblem& problem) {
  if (problem.line > 0 && !IsMeshLimit(problem.code)) {
    return StrCat("'", TextPreview(path), "' line ", problem.line, ": ", problem.message);
  }
  return StrCat("'", TextPreview(path), "' ", problem.message);
}

absl::StatusOr<std::optional<MeshProblem>> FirstMeshProblem(std::string_view path,
                                                            std::string_view content,
                                                            const MeshReadLimits& limits,
                                                            const CallBudget* budget) {
  FirstProblemSink sink;
  WP_RETURN_IF_ERROR(ReadMesh(path, content, limits, sink, budget));
  return sink.first;
}

std::optional<std::string> MujocoMeshProblem(std::string_view path, std::string_view content,
                                             std::uint64_t file_size) {
  if (!ascii::EndsWithIgnoreCase(path, ".stl")) return std::nullopt;
  if (content.size() >= kStlHeaderBytes) {
    const std::uint64_t count = ReadU32(content.data() + 80);
    if (file_size == kStlHeaderBytes + count * kStlTriangleBytes) {
      if (count >= 1 && count <= kMujocoMaxStlFaces) return std::nullopt;
      return StrCat("is a binary STL of ", count,
                    " triangles; MuJoCo 2.2.2 loads 1 to 200000 per STL file");
    }
  }
  return std::string("is not a binary STL; MuJoCo 2.2.2 loads binary STL only (convert it, or "
                     "use OBJ)");
}

}  // namespace workerpair::scene
