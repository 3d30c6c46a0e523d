#include "services/light/core/lint/mjcf_check.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>
#include <string>

#include "libs/common/str_cat.h"
#include "libs/common/text_preview.h"
#include "services/light/core/lint/workspace_refs.h"
#include "services/light/core/lint/xml_tree.h"

namespace workerpair::light {
namespace {

constexpr std::string_view kZoneGoalPrefix = "zone_goal";
constexpr std::string_view kZoneForbidPrefix = "zone_forbid";

// Directories from <compiler>: where mesh-like and texture files are looked up.
struct AssetDirs {
  std::string meshdir;
  std::string texturedir;
};

class MjcfChecker {
 public:
  MjcfChecker(const std::filesystem::path& root, std::string_view path, const SceneLimits& limits)
      : root_(root), path_(path), model_dir_(ParentDir(path)), limits_(limits) {}

  std::vector<Diagnostic> Run(const XmlElement& mujoco) {
    ReadCompiler(mujoco);
    for (const auto& child : mujoco.children) VisitSection(*child);
    if (bodies_ > limits_.max_bodies) {
      Add(mujoco, "mjcf/too-many-bodies", Severity::kError,
          StrCat("the scene has ", bodies_, " bodies, over the limit of ", limits_.max_bodies));
    }
    return std::move(found_);
  }

 private:
  void Add(const XmlElement& at, std::string code, Severity severity, std::string message) {
    found_.push_back(Diagnostic{path_, at.line, at.column, std::move(code), severity,
                                std::move(message)});
  }

  // <compiler assetdir/meshdir/texturedir>: meshdir and texturedir win over assetdir.
  void ReadCompiler(const XmlElement& mujoco) {
    std::string assetdir;
    std::optional<std::string> meshdir;
    std::optional<std::string> texturedir;
    for (const auto& child : mujoco.children) {
      if (child->name != "compiler") continue;
      if (auto v = child->Attribute("assetdir")) assetdir = *v;
      if (auto v = child->Attribute("meshdir")) meshdir = std::string(*v);
      if (auto v = child->Attribute("texturedir")) texturedir = std::string(*v);
    }
    dirs_.meshdir = meshdir.value_or(assetdir);
    dirs_.texturedir = texturedir.value_or(assetdir);
  }

  // A top-level child of <mujoco>; <default> holds classes, not objects, and is skipped.
  void VisitSection(const XmlElement& section) {
    const std::string& s = section.name;
    if (s == "default") return;
    if (s == "include") {
      CheckFile(section, "file", "", "included");
      return;
    }
    if (s == "size") {
      CheckSize(section);
      return;
    }
    // In these sections every child is one object kind named after the section.
    const bool kind_is_section =
        s == "tendon" || s == "actuator" || s == "sensor" || s == "equality";
    for (const auto& child : section.children) {
      if (kind_is_section) {
        CheckName(*child, s);
      } else if (s == "worldbody") {
        VisitWorld(*child);
      } else {
        CheckName(*child, child->name);
        if (s == "asset") CheckAsset(*child);
      }
    }
  }

  // An element under <worldbody>, recursively.
  void VisitWorld(const XmlElement& element) {
    const std::string& tag = element.name;
    if (tag == "body") ++bodies_;
    CheckName(element, tag == "freejoint" ? "joint" : tag);
    if (tag == "site") CheckZone(element);
    for (const auto& child : element.children) VisitWorld(*child);
  }

  void CheckAsset(const XmlElement& asset) {
    const std::string& tag = asset.name;
    if (tag == "mesh" || tag == "hfield" || tag == "skin") {
      CheckFile(asset, "file", dirs_.meshdir, tag);
    } else if (tag == "texture") {
      for (std::string_view key : {"file", "fileright", "fileleft", "fileup", "filedown",
                                   "filefront", "fileback"}) {
        CheckFile(asset, key, dirs_.texturedir, tag);
      }
    }
  }

  // A file attribute resolves against the model's directory plus the compiler's directory.
  void CheckFile(const XmlElement& element, std::string_view key, std::string_view dir,
                 std::string_view what) {
    std::optional<std::string_view> file = element.Attribute(key);
    if (!file) return;
    const ResolvedRef ref = ResolveReference(root_, JoinRelative(model_dir_, dir), *file);
    const std::string subject = StrCat(what, " file '", TextPreview(*file), "' (", key, "=)");
    switch (ref.problem) {
      case RefProblem::kNone:
        return;
      case RefProblem::kOutside:
        Add(element, "mjcf/asset-outside-workspace", Severity::kError,
            StrCat(subject, " lies outside the workspace"));
        return;
      case RefProblem::kInvalid:
        Add(element, "mjcf/invalid-asset-path", Severity::kError,
            StrCat(subject, " is not a valid path"));
        return;
      case RefProblem::kMissing:
        Add(element, "mjcf/missing-asset", Severity::kError,
            StrCat(subject, " not found: looked for '", TextPreview(ref.relative), "'"));
        return;
      case RefProblem::kNotFile:
        Add(element, "mjcf/asset-not-a-file", Severity::kError,
            StrCat(subject, " names '", TextPreview(ref.relative), "', which is not a regular file"));
        return;
    }
  }

  // Names are unique per kind; the second use is the error, pointing back at the first.
  void CheckName(const XmlElement& element, const std::string& kind) {
    std::optional<std::string_view> name = element.Attribute("name");
    if (!name || name->empty()) return;
    auto [it, inserted] = names_[kind].emplace(std::string(*name), element.line);
    if (!inserted) {
      Add(element, "mjcf/duplicate-name", Severity::kError,
          StrCat(TextPreview(kind, 40), " name '", TextPreview(*name), "' is already used on line ",
                 it->second));
    }
  }

  void CheckZone(const XmlElement& site) {
    std::optional<std::string_view> name = site.Attribute("name");
    if (!name || !(name->starts_with(kZoneGoalPrefix) || name->starts_with(kZoneForbidPrefix))) {
      return;
    }
    const std::string_view type = site.Attribute("type").value_or("sphere");
    if (type != "box" && type != "sphere") {
      Add(site, "mjcf/zone-bad-type", Severity::kError,
          StrCat("zone site '", TextPreview(*name), "' is a ", TextPreview(type, 40),
                 "; zones must be boxes or spheres"));
    }
    std::optional<std::string_view> size = site.Attribute("size");
    if (!size) {
      Add(site, "mjcf/zone-without-size", Severity::kError,
          StrCat("zone site '", TextPreview(*name), "' has no size"));
      return;
    }
    std::vector<double> values;
    if (!ParseNumbers(*size, &values) || values.empty()) {
      Add(site, "mjcf/zone-bad-size", Severity::kError,
          StrCat("zone site '", TextPreview(*name), "' has size '", TextPreview(*size),
                 "', which is not a list of finite numbers"));
      return;
    }
    const std::size_t needed = type == "box" ? 3 : 1;
    bool positive = values.size() >= needed;
    for (std::size_t i = 0; i < needed && i < values.size(); ++i) positive &= values[i] > 0;
    if (!positive) {
      Add(site, "mjcf/zone-bad-size", Severity::kError,
          StrCat("zone site '", TextPreview(*name), "' needs ",
                 needed == 3 ? "3 positive half-extents (box)" : "a positive radius (sphere)",
                 ", got size '", TextPreview(*size), "'"));
    }
  }

  void CheckSize(const XmlElement& size) {
    CheckLimit(size, "njmax", limits_.max_njmax);
    CheckLimit(size, "nconmax", limits_.max_nconmax);
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
          StrCat(key, "=", value, " is over worker-heavy's limit of ", limit, "; the scene would be refused"));
    }
  }

  static std::string_view Trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
      text.remove_prefix(1);
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
      text.remove_suffix(1);
    }
    return text;
  }

  // Whitespace-separated finite decimal numbers; false on anything else (1e999, nan, inf).
  static bool ParseNumbers(std::string_view text, std::vector<double>* out) {
    std::string buffer(text);
    const char* p = buffer.c_str();
    while (true) {
      while (std::isspace(static_cast<unsigned char>(*p))) ++p;
      if (*p == '\0') return true;
      char* end = nullptr;
      const double value = std::strtod(p, &end);
      if (end == p || !std::isfinite(value)) return false;
      out->push_back(value);
      p = end;
    }
  }

  const std::filesystem::path& root_;
  std::string path_;
  std::string model_dir_;
  const SceneLimits& limits_;
  AssetDirs dirs_;
  // kind -> name -> line of first use
  std::map<std::string, std::map<std::string, int>> names_;
  int bodies_ = 0;
  std::vector<Diagnostic> found_;
};

}  // namespace

std::vector<Diagnostic> CheckXmlFile(const std::filesystem::path& root,
                                     std::string_view relative_path, std::string_view content,
                                     const SceneLimits& limits, const CallBudget* budget) {
  XmlParseResult parsed = ParseXml(content, XmlLimits{}, budget);
  if (parsed.error) {
    return {Diagnostic{std::string(relative_path), parsed.error->line, parsed.error->column,
                       "xml/malformed", Severity::kError,
                       StrCat("XML is not well-formed: ", parsed.error->message)}};
  }
  if (parsed.root->name != "mujoco") return {};
  return MjcfChecker(root, relative_path, limits).Run(*parsed.root);
}

}  // namespace workerpair::light
