#include "services/light/core/lint/mjcf_check.h"

#include <charconv>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "libs/common/ascii.h"
#include "libs/common/file_io.h"
#include "libs/common/str_cat.h"
#include "libs/common/text_preview.h"
#include "libs/scene/mesh_reader.h"
#include "libs/scene/mjcf_names.h"
#include "libs/scene/mjcf_references.h"
#include "libs/scene/mjcf_scene.h"
#include "libs/scene/mjcf_xml.h"
#include "libs/scene/mjcf_zones.h"
#include "libs/scene/scene_names.h"
#include "services/light/core/lint/workspace_refs.h"

namespace workerpair::light {
namespace {

using scene::MjcfFileReference;
using scene::MjcfReferenceKind;
using scene::MjcfScene;
using scene::XmlElement;

// Largest included MJCF file read, and largest file read when looking for the file that
// includes another.
constexpr std::uint64_t kMaxIncludedBytes = 32 << 20;
constexpr std::uintmax_t kMaxIncluderBytes = 4 << 20;
// Most .xml files of one directory examined when looking for the file that includes another.
constexpr int kMaxIncludersPerDir = 64;

// Reads root-relative files of the workspace for the scene loader, confined to it.
scene::MjcfFileReader WorkspaceReader(const std::filesystem::path& root) {
  return [&root](const std::string& path) -> absl::StatusOr<std::string> {
    const ResolvedRef ref = ResolveReference(root, "", path);
    switch (ref.problem) {
      case RefProblem::kNone:
        return ReadFileCapped(root / ref.relative, ref.relative, kMaxIncludedBytes);
      case RefProblem::kOutside:
        return absl::PermissionDeniedError("it lies outside the workspace");
      case RefProblem::kInvalid:
        return absl::InvalidArgumentError("it is not a valid path");
      case RefProblem::kMissing:
        return absl::NotFoundError("it does not exist");
      case RefProblem::kNotFile:
        return absl::FailedPreconditionError("it is not a regular file");
    }
    return absl::InternalError("unreachable");
  };
}

// True when another MJCF file includes `relative_path` (directly or through its includes). Its
// includer lies in the file's directory or above it, since includes resolve against the main
// file's directory; a bounded number of .xml files there is examined.
bool IncludedByAnotherFile(const std::filesystem::path& root, const std::string& relative_path,
                           const CallBudget* budget) {
  std::string dir = scene::SceneParentDir(relative_path);
  while (true) {
    std::error_code ec;
    int examined = 0;
    for (std::filesystem::directory_iterator it(root / dir, ec), end; !ec && it != end;
         it.increment(ec)) {
      if (budget != nullptr && budget->Exhausted()) return false;
      const std::string name = it->path().filename().string();
      const std::string candidate = scene::JoinScenePath(dir, name);
      std::error_code stat_ec;
      if (candidate == relative_path || !ascii::EndsWithIgnoreCase(name, ".xml") ||
          !it->is_regular_file(stat_ec) || it->is_symlink(stat_ec) ||
          it->file_size(stat_ec) > kMaxIncluderBytes) {
        continue;
      }
      if (++examined > kMaxIncludersPerDir) break;
      absl::StatusOr<std::string> text = ReadFileCapped(it->path(), candidate, kMaxIncluderBytes);
      if (!text.ok() || text->find("include") == std::string::npos) continue;
      scene::XmlParseResult parsed = scene::ParseXml(*text, {}, budget);
      if (parsed.error || parsed.root->name != "mujoco") continue;
      const MjcfScene includer = scene::LoadMjcfScene(candidate, std::move(parsed.root),
                                                      WorkspaceReader(root), {}, budget);
      if (includer.Find(relative_path) != nullptr) return true;
    }
    if (dir.empty()) return false;
    dir = scene::SceneParentDir(dir);
  }
}

class MjcfChecker {
 public:
  MjcfChecker(const std::filesystem::path& root, std::string_view path, const SceneLimits& limits)
      : root_(root), path_(path), limits_(limits) {}

  // Checks of this file's own elements.
  void CheckFile(const XmlElement& element) {
    if (element.name == "default") return;  // class defaults, not objects
    if (element.name == "size") {
      CheckLimit(element, "njmax", limits_.max_njmax);
      CheckLimit(element, "nconmax", limits_.max_nconmax);
    }
    if (element.name == "site") CheckZone(element);
    for (const auto& child : element.children) CheckFile(*child);
  }

  // Checks of the scene this file is the main file of: its includes, file references, names
  // and body count, across every file it includes.
  void CheckScene(const MjcfScene& scene) {
    for (const scene::MjcfProblem& problem : scene.problems) {
      // Includes that are missing or break the path rule are reported as references below.
      if (problem.kind == scene::MjcfProblemKind::kIncludeRefused) continue;
      if (problem.kind == scene::MjcfProblemKind::kIncludeUnread &&
          ResolveReference(root_, "", problem.target).problem != RefProblem::kNone) {
        continue;
      }
      Add(problem.path, problem.line, problem.column, "mjcf/bad-include", Severity::kError,
          problem.message);
    }
    for (const MjcfFileReference& ref : scene::MjcfFileReferences(scene)) CheckReference(ref);
    for (scene::MjcfNameFinding& f : scene::CheckMjcfNames(scene)) {
      Add(f.path, f.line, f.column, std::move(f.code),
          f.error ? Severity::kError : Severity::kWarning, std::move(f.message));
    }
    int bodies = 0;
    scene::VisitMjcf(scene, [&](const scene::MjcfVisit& v) {
      if (v.element->name == "body" && !v.in_default) ++bodies;
    });
    if (bodies > limits_.max_bodies) {
      Add(path_, scene.documents.front().root->line, scene.documents.front().root->column,
          "mjcf/too-many-bodies", Severity::kError,
          StrCat("the scene has ", bodies, " bodies, over the limit of ", limits_.max_bodies));
    }
  }

  std::vector<Diagnostic> Take() { return std::move(found_); }

 private:
  void Add(const std::string& path, int line, int column, std::string code, Severity severity,
           std::string message) {
    found_.push_back(Diagnostic{path, line, column, std::move(code), severity, std::move(message)});
  }
  void Add(const XmlElement& at, std::string code, Severity severity, std::string message) {
    Add(path_, at.line, at.column, std::move(code), severity, std::move(message));
  }

  // The path rule (scene::ScenePathProblem, as worker-heavy applies it), then whether the file
  // is there.
  void CheckReference(const MjcfFileReference& ref) {
    const std::string what = ref.kind == MjcfReferenceKind::kInclude     ? "included"
                             : ref.kind == MjcfReferenceKind::kDirectory ? "compiler directory"
                                                                         : ref.element;
    const std::string subject =
        StrCat(TextPreview(what, 40), " ", ref.kind == MjcfReferenceKind::kDirectory ? "" : "file ",
               "'", TextPreview(ref.value), "' (", TextPreview(ref.attribute, 40), "=)");
    auto add = [&](std::string code, std::string message) {
      Add(ref.path, ref.line, ref.column, std::move(code), Severity::kError, std::move(message));
    };
    if (ref.value.empty()) {
      if (ref.kind != MjcfReferenceKind::kDirectory) {
        add("mjcf/invalid-asset-path", StrCat(subject, " is not a valid path"));
      }
      return;
    }
    const std::optional<std::string> why = scene::ScenePathProblem(ref.value);
    const bool absolute = ref.value.front() == '/';
    if (absolute) {
      add("mjcf/asset-outside-workspace", StrCat(subject, " lies outside the workspace"));
      return;
    }
    if (why) {
      const bool climbs = why->find("'..'") != std::string::npos;
      add(climbs ? "mjcf/asset-path-climbs" : "mjcf/invalid-asset-path",
          StrCat(subject, " ", *why, " (worker-heavy refuses it)"));
      if (!climbs) return;
    }
    // Directories, references in defaults, and files behind a refused compiler directory are
    // not looked up.
    if (ref.kind == MjcfReferenceKind::kDirectory || ref.in_default ||
        scene::ScenePathProblem(ref.directory) ||
        (!ref.directory.empty() && ref.directory.front() == '/')) {
      return;
    }
    const ResolvedRef resolved = ResolveReference(root_, "", ref.resolved);
    switch (resolved.problem) {
      case RefProblem::kNone:
        if (ref.element == "mesh" && ref.attribute == "file") CheckMujocoMesh(ref, resolved);
        return;
      case RefProblem::kOutside:
        add("mjcf/asset-outside-workspace", StrCat(subject, " lies outside the workspace"));
        return;
      case RefProblem::kInvalid:
        add("mjcf/invalid-asset-path", StrCat(subject, " is not a valid path"));
        return;
      case RefProblem::kMissing:
        add("mjcf/missing-asset",
            StrCat(subject, " not found: looked for '", TextPreview(resolved.relative), "'"));
        return;
      case RefProblem::kNotFile:
        add("mjcf/asset-not-a-file", StrCat(subject, " names '", TextPreview(resolved.relative),
                                             "', which is not a regular file"));
        return;
    }
  }

  // MuJoCo 2.2.2's own mesh rules (binary STL only, 1 to 200000 faces): the file's own lint
  // passes an ASCII STL, which topology reads but MuJoCo refuses.
  void CheckMujocoMesh(const MjcfFileReference& ref, const ResolvedRef& resolved) {
    const std::filesystem::path file = root_ / resolved.relative;
    std::error_code ec;
    const std::uintmax_t size = std::filesystem::file_size(file, ec);
    if (ec) return;
    std::string head(84, '\0');
    std::ifstream in(file, std::ios::binary);
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(std::max<std::streamsize>(in.gcount(), 0)));
    if (std::optional<std::string> why = scene::MujocoMeshProblem(resolved.relative, head, size)) {
      Add(ref.path, ref.line, ref.column, "mjcf/mesh-unsupported", Severity::kError,
          StrCat("mesh file '", TextPreview(resolved.relative), "' ", *why));
    }
  }

  void CheckZone(const XmlElement& site) {
    for (scene::ZoneProblem& problem : scene::ZoneSiteProblems(site)) {
      Add(site, std::move(problem.code), Severity::kError, std::move(problem.message));
    }
  }

  void CheckLimit(const XmlElement& element, std::string_view key, int limit) {
    std::optional<std::string_view> text = element.Attribute(key);
    if (!text) return;
    long long value = 0;
    const std::string_view trimmed = Trim(*text);
    auto [end, ec] = std::from_chars(trimmed.data(), trimmed.data() + trimmed.size(), value);
    if (ec != std::errc() || end != trimmed.data() + trimmed.size()) {
      Add(element, "mjcf/invalid-value", Severity::kError,
          StrCat(key, "='", TextPreview(*text), "' is not an integer"));
      return;
    }
    if (value > limit) {
      Add(element, StrCat("mjcf/", key, "-over-limit"), Severity::kError,
          StrCat(key, "=", value, " is over worker-heavy's limit of ", limit,
                 "; the scene would be refused"));
    }
  }

  // XML whitespace (the parser normalised the rest away).
  static bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

  static std::string_view Trim(std::string_view text) {
    while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
    while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
    return text;
  }

  const std::filesystem::path& root_;
  std::string path_;
  const SceneLimits& limits_;
  std::vector<Diagnostic> found_;
};

}  // namespace

std::vector<Diagnostic> CheckXmlFile(const std::filesystem::path& root,
                                     std::string_view relative_path, std::string_view content,
                                     const SceneLimits& limits, const CallBudget* budget) {
  scene::XmlParseResult parsed = scene::ParseXml(content, scene::XmlLimits{}, budget);
  if (parsed.error) {
    return {Diagnostic{std::string(relative_path), parsed.error->line, parsed.error->column,
                       "xml/malformed", Severity::kError,
                       StrCat("XML is not well-formed: ", parsed.error->message)}};
  }
  if (parsed.root->name != "mujoco") return {};
  const std::string path(relative_path);
  MjcfChecker checker(root, path, limits);
  checker.CheckFile(*parsed.root);
  // A file another one includes is a part of that scene: its references and names are checked
  // with it (MuJoCo resolves them against the main file), not on their own.
  if (!IncludedByAnotherFile(root, path, budget)) {
    checker.CheckScene(scene::LoadMjcfScene(path, std::move(parsed.root), WorkspaceReader(root),
                                            {}, budget));
  }
  return checker.Take();
}

}  // namespace workerpair::light
