// An MJCF scene as MuJoCo 2.2.2 reads it: the main file plus every file reached through
// <include>, parsed with expat (mjcf_xml.h), walked in MuJoCo's merged order.
//
//   MjcfScene scene = LoadMjcfScene("scenes/scene.xml", text, reader, MjcfLimits{});
//   for (const MjcfProblem& p : scene.problems) ...      // an include that could not be read
//   VisitMjcf(scene, [](const MjcfVisit& v) { ... v.element->name ... v.in_default ... });
//
// MuJoCo's include rules, checked on 2.2.2: an <include file=...> may stand anywhere; its path
// is relative to the MAIN model file's directory (also inside a nested include); the included
// file's root element (any name) is dropped and its children take the include's place; a file
// may be included only once ("already included", the main file counts). The reader decides
// where a relative path lives (a workspace, a scratch directory); this file touches no
// filesystem. Plain C++: no gRPC, no MuJoCo.
#ifndef WORKERPAIR_LIBS_SCENE_MJCF_SCENE_H_
#define WORKERPAIR_LIBS_SCENE_MJCF_SCENE_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/call_budget.h"
#include "libs/scene/mjcf_xml.h"

namespace workerpair::scene {

struct MjcfLimits {
  XmlLimits xml;
  // Deepest chain of <include> files followed (the main file is depth 0).
  int max_include_depth = 8;
  // Most files one scene may consist of, the main file included.
  std::size_t max_documents = 64;
};

// One parsed file of the scene.
struct MjcfDocument {
  // Root-relative path ('/'-separated) the file was read from.
  std::string path;
  std::unique_ptr<XmlElement> root;
};

enum class MjcfProblemKind {
  kMalformed,        // the main or an included file is not well-formed XML (or over XmlLimits)
  kIncludeRefused,   // the include's path breaks the path rule (mjcf_references.h)
  kIncludeUnread,    // the reader could not read it (missing, not a file, too large, outside)
  kRepeatedInclude,  // the file is already part of the scene
  kTooDeep,          // beyond max_include_depth
  kTooManyFiles,     // beyond max_documents
};

// Something that kept part of the scene from being read. Positioned at the <include> element
// (in the file that includes), or for a main file that is not well-formed at the parser's error.
// A malformed included file's own line and column are in the message.
struct MjcfProblem {
  MjcfProblemKind kind = MjcfProblemKind::kMalformed;
  std::string path;
  int line = 0;
  int column = 0;
  std::string message;
  // For a problem with an include: the root-relative path it names ("" when it has none or
  // breaks the path rule).
  std::string target;
};

struct MjcfScene {
  // documents[0] is the main file (absent when it is not well-formed).
  std::vector<MjcfDocument> documents;
  std::vector<MjcfProblem> problems;
  // Directory of the main file ("" at the root): includes and assets resolve against it.
  std::string model_dir;

  // True when every file of the scene was read and parsed.
  bool complete() const { return problems.empty() && !documents.empty(); }
  const MjcfDocument* Find(std::string_view path) const;
};

// Reads the root-relative file `path` (already checked against the path rule). Its error's
// message is used as is, so it must not carry server-side absolute paths.
using MjcfFileReader = std::function<absl::StatusOr<std::string>(const std::string& path)>;

// Parses `main_content` (the bytes of `main_path`) and every file it includes through `reader`.
// Never fails as a call: what could not be read is in `problems`. Stops reading further files
// once `budget` runs out (callers check the budget themselves).
MjcfScene LoadMjcfScene(std::string_view main_path, std::string_view main_content,
                        const MjcfFileReader& reader, const MjcfLimits& limits = {},
                        const CallBudget* budget = nullptr);

// The same for a main file the caller already parsed (ParseXml; `main_root` not null).
MjcfScene LoadMjcfScene(std::string_view main_path, std::unique_ptr<XmlElement> main_root,
                        const MjcfFileReader& reader, const MjcfLimits& limits = {},
                        const CallBudget* budget = nullptr);

// One element met by VisitMjcf.
struct MjcfVisit {
  const MjcfDocument* document = nullptr;   // the file the element is written in
  const XmlElement* element = nullptr;
  // The enclosing elements in the merged tree, outermost (<mujoco>) first; an <include> and the
  // included file's root are not among them.
  const std::vector<const XmlElement*>* ancestors = nullptr;
  // True inside a <default> section (there elements set class defaults, they are not objects).
  bool in_default = false;

  const XmlElement* parent() const {
    return ancestors->empty() ? nullptr : ancestors->back();
  }
};

// Calls `visit` for every element of the scene in MuJoCo's merged order (an <include> element
// itself is visited, then the included file's elements in its place). The main file's root is
// visited first with no ancestors.
void VisitMjcf(const MjcfScene& scene, const std::function<void(const MjcfVisit&)>& visit);

// Joins two '/'-separated relative paths; an empty or "." side vanishes.
std::string JoinScenePath(std::string_view a, std::string_view b);

// The directory part of a '/'-separated path ("" when none).
std::string SceneParentDir(std::string_view path);

}  // namespace workerpair::scene

#endif  // WORKERPAIR_LIBS_SCENE_MJCF_SCENE_H_
