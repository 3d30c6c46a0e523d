#include "libs/scene/mjcf_scene.h"

#include <set>
#include <utility>

#include "libs/common/str_cat.h"
#include "libs/common/text_preview.h"
#include "libs/scene/mjcf_references.h"

namespace workerpair::scene {
namespace {

class SceneLoader {
 public:
  SceneLoader(const MjcfFileReader& reader, const MjcfLimits& limits, const CallBudget* budget,
              std::string_view main_path, MjcfScene* scene)
      : reader_(reader), limits_(limits), budget_(budget), scene_(scene) {
    seen_.insert(std::string(main_path));
  }

  // Parses `content` as the file `path` and, recursively, what it includes; a parse error is
  // reported at `include` (null for the main file).
  void Add(const std::string& path, std::string_view content, int depth,
           const MjcfProblem* include) {
    XmlParseResult parsed = ParseXml(content, limits_.xml, budget_);
    if (!parsed.error) {
      AddParsed(path, std::move(parsed.root), depth);
    } else if (include == nullptr) {
      scene_->problems.push_back({MjcfProblemKind::kMalformed, path, parsed.error->line,
                                  parsed.error->column,
                                  StrCat("XML is not well-formed: ", parsed.error->message)});
    } else {
      MjcfProblem problem = *include;
      problem.kind = MjcfProblemKind::kMalformed;
      problem.message = StrCat("included file '", TextPreview(path), "' is not well-formed: line ",
                               parsed.error->line, ", column ", parsed.error->column, ": ",
                               parsed.error->message);
      scene_->problems.push_back(std::move(problem));
    }
  }

  void AddParsed(const std::string& path, std::unique_ptr<XmlElement> root, int depth) {
    scene_->documents.push_back({path, std::move(root)});
    // Pointers into the tree stay valid: the unique_ptr moved, not the element.
    FollowIncludes(path, *scene_->documents.back().root, depth);
  }

 private:
  void FollowIncludes(const std::string& path, const XmlElement& element, int depth) {
    for (const auto& child : element.children) {
      if (child->name == "include") {
        Include(path, *child, depth + 1);
      } else {
        FollowIncludes(path, *child, depth);
      }
    }
  }

  void Include(const std::string& from, const XmlElement& include, int depth) {
    std::string target;
    auto problem = [&](MjcfProblemKind kind, std::string message) {
      scene_->problems.push_back(
          {kind, from, include.line, include.column, std::move(message), target});
    };
    const std::optional<std::string_view> file = include.Attribute("file");
    if (!file) {
      problem(MjcfProblemKind::kIncludeRefused, "<include> has no file attribute");
      return;
    }
    if (std::optional<std::string> why = ScenePathProblem(*file)) {
      problem(MjcfProblemKind::kIncludeRefused,
              StrCat("<include file> names '", TextPreview(*file), "', which ", *why));
      return;
    }
    const std::string path = JoinScenePath(scene_->model_dir, *file);
    target = path;
    if (!seen_.insert(path).second) {
      problem(MjcfProblemKind::kRepeatedInclude,
              StrCat("'", TextPreview(path), "' is already part of the scene (MuJoCo includes a ",
                     "file once)"));
      return;
    }
    if (depth > limits_.max_include_depth) {
      problem(MjcfProblemKind::kTooDeep, StrCat("<include> nested deeper than ",
                                                limits_.max_include_depth, " files"));
      return;
    }
    if (scene_->documents.size() >= limits_.max_documents) {
      problem(MjcfProblemKind::kTooManyFiles,
              StrCat("the scene has more than ", limits_.max_documents, " files"));
      return;
    }
    if (budget_ != nullptr && budget_->Exhausted()) {
      problem(MjcfProblemKind::kIncludeUnread, "stopped: the call ran out of time");
      return;
    }
    absl::StatusOr<std::string> content = reader_(path);
    if (!content.ok()) {
      problem(MjcfProblemKind::kIncludeUnread,
              StrCat("included file '", TextPreview(path), "' could not be read: ",
                     std::string(content.status().message())));
      return;
    }
    const MjcfProblem at{MjcfProblemKind::kMalformed, from, include.line, include.column, "",
                         path};
    Add(path, *content, depth, &at);
  }

  const MjcfFileReader& reader_;
  const MjcfLimits& limits_;
  const CallBudget* budget_;
  MjcfScene* scene_;
  // Paths already part of the scene, as MuJoCo compares them (the joined string).
  std::set<std::string> seen_;
};

// Walks `element`'s children, expanding includes.
class Visitor {
 public:
  Visitor(const MjcfScene& scene, const std::function<void(const MjcfVisit&)>& visit)
      : scene_(scene), visit_(visit) {}

  void Children(const MjcfDocument& document, const XmlElement& element, bool in_default) {
    for (const auto& child : element.children) {
      Element(document, *child, in_default);
    }
  }

  void Element(const MjcfDocument& document, const XmlElement& element, bool in_default) {
    in_default = in_default || element.name == "default";
    visit_(MjcfVisit{&document, &element, &ancestors_, in_default});
    if (element.name == "include") {
      // The included file's root is dropped; its children stand where the include stood.
      if (const MjcfDocument* included = IncludedDocument(element)) {
        Children(*included, *included->root, in_default);
      }
      return;
    }
    ancestors_.push_back(&element);
    Children(document, element, in_default);
    ancestors_.pop_back();
  }

 private:
  const MjcfDocument* IncludedDocument(const XmlElement& include) {
    const std::optional<std::string_view> file = include.Attribute("file");
    if (!file || ScenePathProblem(*file)) return nullptr;
    const std::string path = JoinScenePath(scene_.model_dir, *file);
    // Each document once, as MuJoCo (a refused repeat has no document of its own).
    if (!visited_.insert(path).second) return nullptr;
    const MjcfDocument* document = scene_.Find(path);
    return document != nullptr && document != &scene_.documents.front() ? document : nullptr;
  }

  const MjcfScene& scene_;
  const std::function<void(const MjcfVisit&)>& visit_;
  std::vector<const XmlElement*> ancestors_;
  std::set<std::string> visited_;
};

}  // namespace

const MjcfDocument* MjcfScene::Find(std::string_view path) const {
  for (const MjcfDocument& document : documents) {
    if (document.path == path) return &document;
  }
  return nullptr;
}

std::string JoinScenePath(std::string_view a, std::string_view b) {
  if (a.empty() || a == ".") return std::string(b);
  if (b.empty() || b == ".") return std::string(a);
  std::string joined(a);
  if (joined.back() != '/') joined.push_back('/');
  joined.append(b);
  return joined;
}

std::string SceneParentDir(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? "" : std::string(path.substr(0, slash));
}

MjcfScene LoadMjcfScene(std::string_view main_path, std::string_view main_content,
                        const MjcfFileReader& reader, const MjcfLimits& limits,
                        const CallBudget* budget) {
  MjcfScene scene;
  scene.model_dir = SceneParentDir(main_path);
  SceneLoader loader(reader, limits, budget, main_path, &scene);
  loader.Add(std::string(main_path), main_content, 0, nullptr);
  return scene;
}

MjcfScene LoadMjcfScene(std::string_view main_path, std::unique_ptr<XmlElement> main_root,
                        const MjcfFileReader& reader, const MjcfLimits& limits,
                        const CallBudget* budget) {
  MjcfScene scene;
  scene.model_dir = SceneParentDir(main_path);
  SceneLoader loader(reader, limits, budget, main_path, &scene);
  loader.AddParsed(std::string(main_path), std::move(main_root), 0);
  return scene;
}

void VisitMjcf(const MjcfScene& scene, const std::function<void(const MjcfVisit&)>& visit) {
  if (scene.documents.empty()) return;
  const MjcfDocument& main = scene.documents.front();
  Visitor(scene, visit).Element(main, *main.root, false);
}

}  // namespace workerpair::scene
