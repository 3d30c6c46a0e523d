#include "libs/scene/mjcf_names.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string_view>

#include "libs/common/str_cat.h"
#include "libs/common/text_preview.h"

namespace workerpair::scene {
namespace {

// Where a name was defined.
struct Definition {
  std::string path;
  int line = 0;
  bool implicit = false;  // taken from a file name
};

// The section an element lies in: the child of <mujoco> it descends from ("" for the root).
std::string_view SectionOf(const MjcfVisit& v) {
  const auto& a = *v.ancestors;
  if (a.empty()) return "";
  if (a.size() == 1) return v.element->name;
  return a[1]->name;
}

bool UnderWorldbody(const MjcfVisit& v) { return SectionOf(v) == "worldbody"; }

// The kind an element's name defines, or "" when it names no object.
std::string_view DefinedKind(const MjcfVisit& v) {
  if (v.in_default || v.ancestors->empty()) return "";
  const std::string& tag = v.element->name;
  const std::string_view parent = v.parent()->name;
  if (UnderWorldbody(v)) {
    if (tag == "freejoint") return "joint";
    if (tag == "body" || tag == "geom" || tag == "site" || tag == "camera" || tag == "light" ||
        tag == "joint") {
      return tag;
    }
    return "";
  }
  if (parent == "asset") {
    if (tag == "mesh" || tag == "texture" || tag == "material" || tag == "hfield" ||
        tag == "skin") {
      return tag;
    }
    return "";
  }
  if (parent == "tendon" || parent == "actuator" || parent == "sensor" || parent == "equality") {
    return parent;
  }
  if (parent == "contact" && (tag == "pair" || tag == "exclude")) return tag;
  if (parent == "custom" && (tag == "numeric" || tag == "text" || tag == "tuple")) return tag;
  if (parent == "keyframe" && tag == "key") return tag;
  return "";
}

// MuJoCo's name for an asset loaded from `file` without a name: no directory, no extension.
std::string NameFromFile(std::string_view file) {
  const std::size_t slash = file.find_last_of("/\\");
  if (slash != std::string_view::npos) file.remove_prefix(slash + 1);
  const std::size_t dot = file.rfind('.');
  if (dot != std::string_view::npos) file = file.substr(0, dot);
  return std::string(file);
}

// The kind an objtype=/reftype= value names, or "" for one without names.
std::string_view KindOfObjectType(std::string_view type) {
  if (type == "xbody") return "body";
  for (std::string_view kind :
       {"body", "joint", "geom", "site", "camera", "light", "mesh", "skin", "hfield", "texture",
        "material", "pair", "exclude", "equality", "tendon", "actuator", "sensor", "numeric",
        "text", "tuple", "key"}) {
    if (type == kind) return kind;
  }
  return "";
}

// The kind the attribute `key` of the element references, or "" when it is no reference.
std::string_view ReferencedKind(const XmlElement& element, std::string_view key) {
  if (key == "class") return element.name == "default" ? "" : "class";
  if (key == "childclass") return "class";
  if (key == "mesh" || key == "hfield" || key == "material" || key == "texture") return key;
  if (key == "body" || key == "body1" || key == "body2" || key == "target") return "body";
  if (key == "joint" || key == "joint1" || key == "joint2" || key == "jointinparent") {
    return "joint";
  }
  if (key == "site" || key == "sidesite" || key == "cranksite" || key == "slidersite") {
    return "site";
  }
  if (key == "geom" || key == "geom1" || key == "geom2") return "geom";
  if (key == "tendon" || key == "tendon1" || key == "tendon2") return "tendon";
  if (key == "actuator") return "actuator";
  if (key == "objname") return KindOfObjectType(element.Attribute("objtype").value_or(""));
  if (key == "refname") return KindOfObjectType(element.Attribute("reftype").value_or(""));
  return "";
}

// Sections whose elements may reference objects; others (<option>, <visual>, <size>, ...) use
// attribute names such as actuator= or joint= for flags and colours.
bool SectionHasReferences(std::string_view section) {
  for (std::string_view s : {"worldbody", "asset", "tendon", "actuator", "sensor", "equality",
                             "contact", "custom", "keyframe", "default"}) {
    if (section == s) return true;
  }
  return false;
}

// Edit distance, bounded: names over 100 bytes are not compared.
std::size_t EditDistance(std::string_view a, std::string_view b) {
  if (a.size() > 100 || b.size() > 100) return SIZE_MAX;
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

class NameChecker {
 public:
  explicit NameChecker(const MjcfScene& scene) : scene_(scene) {}

  std::vector<MjcfNameFinding> Run() {
    VisitMjcf(scene_, [&](const MjcfVisit& v) {
      if (v.element->name == "composite") generated_names_ = true;
      Define(v);
    });
    if (scene_.complete()) VisitMjcf(scene_, [&](const MjcfVisit& v) { Resolve(v); });
    return std::move(found_);
  }

 private:
  void Add(const MjcfVisit& v, std::string code, bool error, std::string message) {
    found_.push_back({std::move(code), error, v.document->path, v.element->line,
                      v.element->column, std::move(message)});
  }

  std::string Where(const Definition& d, const MjcfVisit& v) const {
    if (d.path == v.document->path) return StrCat("line ", d.line);
    return StrCat("'", TextPreview(d.path), "' line ", d.line);
  }

  void Define(const MjcfVisit& v) {
    const XmlElement& e = *v.element;
    if (e.name == "default") {
      std::optional<std::string_view> name = e.Attribute("class");
      const bool top = v.ancestors->size() == 1;
      if (!name && top) name = "main";
      if (name && !name->empty()) Record(v, "class", std::string(*name), false);
      return;
    }
    const std::string_view kind = DefinedKind(v);
    if (kind.empty()) return;
    std::string name(e.Attribute("name").value_or(""));
    bool implicit = false;
    if (name.empty() && (kind == "mesh" || kind == "texture" || kind == "hfield" || kind == "skin")) {
      name = NameFromFile(e.Attribute("file").value_or(""));
      implicit = true;
    }
    if (!name.empty()) Record(v, std::string(kind), std::move(name), implicit);
  }

  void Record(const MjcfVisit& v, const std::string& kind, std::string name, bool implicit) {
    auto [it, inserted] =
        names_[kind].emplace(name, Definition{v.document->path, v.element->line, implicit});
    if (inserted) return;
    // MuJoCo refuses two explicit names; one taken from a file name it lets through.
    const bool error = !implicit && !it->second.implicit;
    std::string message = StrCat(kind, " name '", TextPreview(name), "' is already used on ",
                                 Where(it->second, v));
    if (!error) message += " (a name taken from a file name: references find the first)";
    Add(v, "mjcf/duplicate-name", error, std::move(message));
  }

  void Resolve(const MjcfVisit& v) {
    if (v.ancestors->empty() || !SectionHasReferences(SectionOf(v))) return;
    for (const auto& [key, value] : v.element->attributes) {
      if (value.empty()) continue;
      const std::string_view kind = ReferencedKind(*v.element, key);
      if (kind.empty()) continue;
      if (kind == "body" && value == "world") continue;  // the world body's own name
      if (generated_names_ && IsModelElementKind(kind)) continue;
      const auto& defined = names_[std::string(kind)];
      if (defined.count(value) != 0) continue;
      std::string message = StrCat("<", TextPreview(v.element->name, 40), " ", key, "=\"",
                                   TextPreview(value), "\"> names no ", kind, Hint(kind, value));
      if (v.in_default) message += "; an element of this default class would fail to load";
      Add(v, "mjcf/unknown-name", !v.in_default, std::move(message));
    }
  }

  // "; did you mean 'ramp'?", or the names there are.
  std::string Hint(std::string_view kind, std::string_view value) {
    const auto& defined = names_[std::string(kind)];
    std::string best;
    std::size_t best_distance = SIZE_MAX;
    std::size_t listed = 0;
    std::string list;
    for (const auto& [name, definition] : defined) {
      const std::size_t d = EditDistance(value, name);
      if (d < best_distance) {
        best_distance = d;
        best = name;
      }
      if (listed < 5) list += StrCat(listed++ == 0 ? "" : ", ", "'", TextPreview(name, 40), "'");
    }
    if (!best.empty() && best_distance <= std::max<std::size_t>(2, value.size() / 3)) {
      return StrCat("; did you mean '", TextPreview(best), "'?");
    }
    if (listed == 0) return StrCat(" (the scene defines no ", kind, ")");
    return StrCat(" (the scene has ", list, defined.size() > 5 ? ", ..." : "", ")");
  }

  // <composite> makes bodies, joints, geoms, sites, tendons ... with names of its own (B0_1,
  // J0_1, ...): references to those kinds cannot be checked from the text.
  static bool IsModelElementKind(std::string_view kind) {
    return kind != "class" && kind != "mesh" && kind != "texture" && kind != "material" &&
           kind != "hfield";
  }

  const MjcfScene& scene_;
  bool generated_names_ = false;
  // kind -> name -> first definition
  std::map<std::string, std::map<std::string, Definition, std::less<>>, std::less<>> names_;
  std::vector<MjcfNameFinding> found_;
};

}  // namespace

std::vector<MjcfNameFinding> CheckMjcfNames(const MjcfScene& scene) {
  return NameChecker(scene).Run();
}

}  // namespace workerpair::scene
