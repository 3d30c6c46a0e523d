#include "services/light/core/lint/manifest_check.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "libs/common/json_kind.h"
#include "libs/common/json_limits.h"
#include "libs/common/str_cat.h"
#include "libs/common/text_preview.h"
#include "services/light/core/lint/json_positions.h"
#include "services/light/core/lint/workspace_refs.h"

namespace workerpair::light {
namespace {

using json_kind::IsKind;
using json_kind::Kind;
using json_kind::KindName;
using json_kind::TypeOf;

using json = nlohmann::json;

// What a manifest may be, as JSON (see the header): real ones are a few KiB, 4 levels deep.
constexpr JsonLimits kManifestJsonLimits{
    .max_bytes = 1u << 20, .max_depth = 32, .max_string_bytes = 4096};

// Where a value sits: its JSON pointer (for positions) and a readable name (for messages).
struct Loc {
  std::string pointer;
  std::string display;

  // The display shows keys through TextPreview: a caller's key may be kilobytes long.
  Loc Key(std::string_view key) const {
    const std::string shown = TextPreview(key, 64);
    return {StrCat(pointer, "/", JsonPointerToken(key)),
            display.empty() ? shown : StrCat(display, ".", shown)};
  }
  Loc Index(std::size_t index) const {
    return {StrCat(pointer, "/", index), StrCat(display, "[", index, "]")};
  }
  std::string Name() const { return display.empty() ? "the manifest" : StrCat("'", display, "'"); }
};

bool EndsWithIgnoreCase(std::string_view text, std::string_view suffix) {
  if (text.size() < suffix.size()) return false;
  return std::equal(suffix.begin(), suffix.end(), text.end() - suffix.size(),
                    [](char a, char b) { return std::tolower(a) == std::tolower(b); });
}

class ManifestChecker {
 public:
  ManifestChecker(const std::filesystem::path& root, std::string_view path, std::string_view text,
                  const SceneLimits& limits)
      : root_(root), path_(path), base_dir_(ParentDir(path)), text_(text), limits_(limits),
        positions_(IndexJsonPositions(text, kManifestJsonLimits.max_depth)) {}

  std::vector<Diagnostic> Run(const json& doc) {
    for (std::size_t i = 0; i < positions_.duplicates.size(); ++i) {
      const LineColumn at = LineColumnAt(text_, positions_.duplicate_offsets[i]);
      found_.push_back(Diagnostic{path_, at.line, at.column, "manifest/duplicate-key",
                                  Severity::kError,
                                  StrCat("key '", TextPreview(positions_.duplicates[i].substr(1), 64),
                                         "' appears twice in one object")});
    }
    const Loc top;
    if (!doc.is_object()) {
      Add(top, "manifest/wrong-type", StrCat("the manifest must be a JSON object, not ",
                                             TypeOf(doc)));
      return std::move(found_);
    }
    Keys(doc, top, {"version", "scene", "assembly", "simulation", "render", "stress", "verify"});
    if (const json* v = Get(doc, top, "version", Kind::kInt, /*required=*/true);
        v && *v != kManifestVersion) {
      Add(top.Key("version"), "manifest/unsupported-version",
          StrCat("version is ", JsonPreview(*v), "; this service reads version ", kManifestVersion));
    }
    const json* scene = Get(doc, top, "scene", Kind::kString);
    const json* assembly = Get(doc, top, "assembly", Kind::kObject);
    if (doc.contains("scene") == doc.contains("assembly")) {
      Add(top, "manifest/scene-or-assembly",
          doc.contains("scene") ? "the manifest has both 'scene' and 'assembly'; give exactly one"
                                : "the manifest has neither 'scene' nor 'assembly'; give one");
    }
    if (scene) File(*scene, top.Key("scene"), "scene");
    if (assembly) Assembly(*assembly, top.Key("assembly"));
    if (const json* v = Get(doc, top, "simulation", Kind::kObject)) {
      Simulation(*v, top.Key("simulation"));
    }
    if (const json* v = Get(doc, top, "render", Kind::kObject)) Render(*v, top.Key("render"));
    if (const json* v = Get(doc, top, "stress", Kind::kObject)) {
      const Loc loc = top.Key("stress");
      Keys(*v, loc, {"yield_newtons"});
      Above(Get(*v, loc, "yield_newtons", Kind::kNumber), loc.Key("yield_newtons"), 0);
    }
    if (const json* v = Get(doc, top, "verify", Kind::kObject)) {
      const Loc loc = top.Key("verify");
      Keys(*v, loc, {"jitter_m"});
      if (const json* j = Get(*v, loc, "jitter_m", Kind::kNumber); j && j->get<double>() < 0) {
        Add(loc.Key("jitter_m"), "manifest/out-of-range",
            StrCat("'verify.jitter_m' is ", JsonPreview(*j), "; it must be >= 0"));
      }
    }
    // An assembly's target body must be one of its parts.
    if (assembly && assembly->is_object() && !part_names_.empty() && doc.contains("simulation") &&
        doc["simulation"].is_object()) {
      const json& simulation = doc["simulation"];
      if (auto it = simulation.find("target_body");
          it != simulation.end() && it->is_string() &&
          !part_names_.contains(it->get<std::string>())) {
        Add(top.Key("simulation").Key("target_body"), "manifest/unknown-reference",
            StrCat("'simulation.target_body' names '", TextPreview(it->get<std::string>()),
                   "', which is no part of the assembly"));
      }
    }
    return std::move(found_);
  }

 private:
  void Add(const Loc& loc, std::string code, std::string message,
           Severity severity = Severity::kError) {
    // The value's own position, else its nearest indexed ancestor's.
    std::string pointer = loc.pointer;
    auto it = positions_.offsets.find(pointer);
    while (it == positions_.offsets.end() && !pointer.empty()) {
      pointer.resize(pointer.rfind('/'));
      it = positions_.offsets.find(pointer);
    }
    LineColumn at;
    if (it != positions_.offsets.end()) at = LineColumnAt(text_, it->second);
    found_.push_back(
        Diagnostic{path_, at.line, at.column, std::move(code), severity, std::move(message)});
  }

  // Unknown keys are errors: a typo must not fall back to a default silently.
  void Keys(const json& object, const Loc& loc, std::initializer_list<std::string_view> allowed) {
    for (const auto& [key, value] : object.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      std::string list;
      for (std::string_view name : allowed) list += StrCat(list.empty() ? "" : ", ", name);
      Add(loc.Key(key), "manifest/unknown-key",
          StrCat("unknown key '", TextPreview(key, 64), "' in ", loc.Name(), " (known: ", list, ")"));
    }
  }

  // The member `key` when present and of `kind`; nullptr otherwise (with a diagnostic when it
  // has the wrong type, or is required and absent).
  const json* Get(const json& object, const Loc& loc, std::string_view key, Kind kind,
                  bool required = false) {
    auto it = object.find(key);
    if (it == object.end()) {
      if (required) {
        Add(loc, "manifest/missing-key", StrCat(loc.Name(), " lacks the required key '", key, "'"));
      }
      return nullptr;
    }
    if (!IsKind(*it, kind)) {
      Add(loc.Key(key), "manifest/wrong-type",
          StrCat(loc.Key(key).Name(), " must be ", KindName(kind), ", not ", TypeOf(*it)));
      return nullptr;
    }
    return &*it;
  }

  // A number that must be > `bound`.
  void Above(const json* value, const Loc& loc, double bound) {
    if (value && value->get<double>() <= bound) {
      Add(loc, "manifest/out-of-range",
          StrCat(loc.Name(), " is ", JsonPreview(*value), "; it must be > ", bound));
    }
  }

  // An integer in [1, cap]: below is an error, above is clamped by the service.
  void CappedCount(const json* value, const Loc& loc, int cap) {
    if (!value) return;
    // Past INT64_MAX an unsigned integer is simply over any cap.
    const std::int64_t v =
        value->is_number_unsigned() &&
                value->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)
            ? INT64_MAX
            : value->get<std::int64_t>();
    if (v <= 0) {
      Add(loc, "manifest/out-of-range", StrCat(loc.Name(), " is ", v, "; it must be > 0"));
    } else if (v > cap) {
      Add(loc, "manifest/over-cap",
          StrCat(loc.Name(), " is ", JsonPreview(*value), ", over the cap of ", cap,
                 "; the service clamps it"),
          Severity::kWarning);
    }
  }

  void File(const json& value, const Loc& loc, std::string_view what) {
    const std::string reference = value.get<std::string>();
    const ResolvedRef ref = ResolveReference(root_, base_dir_, reference);
    const std::string subject =
        StrCat(what, " file '", TextPreview(reference), "' (", loc.display, ")");
    switch (ref.problem) {
      case RefProblem::kNone:
        return;
      case RefProblem::kOutside:
        Add(loc, "manifest/file-outside-workspace", StrCat(subject, " lies outside the workspace"));
        return;
      case RefProblem::kInvalid:
        Add(loc, "manifest/invalid-path", StrCat(subject, " is not a valid path"));
        return;
      case RefProblem::kMissing:
        Add(loc, "manifest/missing-file",
            StrCat(subject, " not found: looked for '", TextPreview(ref.relative), "'"));
        return;
      case RefProblem::kNotFile:
        Add(loc, "manifest/not-a-file",
            StrCat(subject, " names '", TextPreview(ref.relative), "', which is not a regular file"));
        return;
    }
  }

  // An array of `n` numbers, each passing `ok` (described by `rule` when it fails).
  void Vector(const json* value, const Loc& loc, std::size_t n, bool (*ok)(double),
              std::string_view rule) {
    if (!value) return;
    bool good = value->size() == n;
    for (const json& element : *value) {
      good = good && element.is_number() && (ok == nullptr || ok(element.get<double>()));
    }
    if (!good) {
      Add(loc, "manifest/invalid-value",
          StrCat(loc.Name(), " must be an array of ", n, " numbers", rule, ", got ",
                 JsonPreview(*value)));
    }
  }

  void Simulation(const json& sim, const Loc& loc) {
    Keys(sim, loc, {"duration_s", "timestep_s", "seed", "target_body", "bounds"});
    if (const json* v = Get(sim, loc, "duration_s", Kind::kNumber)) {
      Above(v, loc.Key("duration_s"), 0);
      if (v->get<double>() > limits_.max_duration_s) {
        Add(loc.Key("duration_s"), "manifest/over-cap",
            StrCat("'simulation.duration_s' is ", JsonPreview(*v), ", over the cap of ",
                   limits_.max_duration_s, " s; the service clamps it"),
            Severity::kWarning);
      }
    }
    if (const json* v = Get(sim, loc, "timestep_s", Kind::kNumber)) {
      const double t = v->get<double>();
      if (t < limits_.min_timestep_s || t > limits_.max_timestep_s) {
        Add(loc.Key("timestep_s"), "manifest/out-of-range",
            StrCat("'simulation.timestep_s' is ", JsonPreview(*v), "; it must be within ",
                   limits_.min_timestep_s, " .. ", limits_.max_timestep_s));
      }
    }
    if (const json* v = Get(sim, loc, "seed", Kind::kInt); v && v->is_number_integer() &&
                                                           !v->is_number_unsigned() &&
                                                           v->get<std::int64_t>() < 0) {
      Add(loc.Key("seed"), "manifest/out-of-range",
          StrCat("'simulation.seed' is ", JsonPreview(*v), "; it must be >= 0"));
    }
    if (const json* v = Get(sim, loc, "target_body", Kind::kString); v && v->get<std::string>().empty()) {
      Add(loc.Key("target_body"), "manifest/invalid-value", "'simulation.target_body' is empty");
    }
    if (const json* v = Get(sim, loc, "bounds", Kind::kObject)) {
      const Loc b = loc.Key("bounds");
      Keys(*v, b, {"min_z", "max_abs_xy"});
      Get(*v, b, "min_z", Kind::kNumber);
      Above(Get(*v, b, "max_abs_xy", Kind::kNumber), b.Key("max_abs_xy"), 0);
    }
  }

  void Render(const json& render, const Loc& loc) {
    Keys(render, loc, {"enabled", "width", "height", "fps", "camera"});
    Get(render, loc, "enabled", Kind::kBool);
    Get(render, loc, "camera", Kind::kString);
    for (auto [key, cap] : {std::pair<std::string_view, int>{"width", limits_.max_width},
                            std::pair<std::string_view, int>{"height", limits_.max_height}}) {
      const json* v = Get(render, loc, key, Kind::kInt);
      CappedCount(v, loc.Key(key), cap);
      if (v && v->get<std::int64_t>() % 2 != 0) {
        Add(loc.Key(key), "manifest/invalid-value",
            StrCat(loc.Key(key).Name(), " is ", JsonPreview(*v), "; video sizes must be even"));
      }
    }
    CappedCount(Get(render, loc, "fps", Kind::kInt), loc.Key("fps"), limits_.max_fps);
  }

  void Assembly(const json& assembly, const Loc& loc) {
    Keys(assembly, loc, {"ground", "parts", "zones"});
    Get(assembly, loc, "ground", Kind::kBool);
    if (const json* parts = Get(assembly, loc, "parts", Kind::kArray, /*required=*/true)) {
      if (parts->empty()) Add(loc.Key("parts"), "manifest/invalid-value", "'assembly.parts' is empty");
      for (std::size_t i = 0; i < parts->size(); ++i) Part((*parts)[i], loc.Key("parts").Index(i));
    }
    if (const json* zones = Get(assembly, loc, "zones", Kind::kArray)) {
      std::set<std::string> names;
      for (std::size_t i = 0; i < zones->size(); ++i) {
        Zone((*zones)[i], loc.Key("zones").Index(i), &names);
      }
    }
  }

  // A name from [A-Za-z0-9_-]+, unique within `seen`.
  void Name(const json& object, const Loc& loc, std::set<std::string>* seen, std::string_view what) {
    const json* v = Get(object, loc, "name", Kind::kString, /*required=*/true);
    if (!v) return;
    const std::string name = v->get<std::string>();
    const bool valid = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
    if (!valid) {
      Add(loc.Key("name"), "manifest/invalid-value",
          StrCat(what, " name '", TextPreview(name), "' must be 1+ characters from [A-Za-z0-9_-]"));
    } else if (!seen->insert(name).second) {
      Add(loc.Key("name"), "manifest/duplicate-name",
          StrCat(what, " name '", TextPreview(name), "' is used twice"));
    }
  }

  void Part(const json& part, const Loc& loc) {
    if (!part.is_object()) {
      Add(loc, "manifest/wrong-type", StrCat(loc.Name(), " must be an object, not ", TypeOf(part)));
      return;
    }
    Keys(part, loc, {"name", "mesh", "pos", "euler_deg", "fixed", "mass", "density", "rgba"});
    Name(part, loc, &part_names_, "part");
    if (const json* mesh = Get(part, loc, "mesh", Kind::kString, /*required=*/true)) {
      const std::string file = mesh->get<std::string>();
      if (!EndsWithIgnoreCase(file, ".stl") && !EndsWithIgnoreCase(file, ".obj")) {
        Add(loc.Key("mesh"), "manifest/invalid-value",
            StrCat(loc.Key("mesh").Name(), " is '", TextPreview(file), "'; meshes are .stl or .obj files"));
      }
      File(*mesh, loc.Key("mesh"), "mesh");
    }
    Vector(Get(part, loc, "pos", Kind::kArray), loc.Key("pos"), 3, nullptr, "");
    Vector(Get(part, loc, "euler_deg", Kind::kArray), loc.Key("euler_deg"), 3, nullptr, "");
    Get(part, loc, "fixed", Kind::kBool);
    const json* mass = Get(part, loc, "mass", Kind::kNumber);
    const json* density = Get(part, loc, "density", Kind::kNumber);
    Above(mass, loc.Key("mass"), 0);
    Above(density, loc.Key("density"), 0);
    if (part.contains("mass") && part.contains("density")) {
      Add(loc, "manifest/invalid-value",
          StrCat(loc.Name(), " has both 'mass' and 'density'; give at most one"));
    }
    Vector(Get(part, loc, "rgba", Kind::kArray), loc.Key("rgba"), 4,
           [](double x) { return x >= 0 && x <= 1; }, " within 0..1");
  }

  void Zone(const json& zone, const Loc& loc, std::set<std::string>* names) {
    if (!zone.is_object()) {
      Add(loc, "manifest/wrong-type", StrCat(loc.Name(), " must be an object, not ", TypeOf(zone)));
      return;
    }
    Keys(zone, loc, {"name", "pos", "size"});
    Name(zone, loc, names, "zone");
    if (auto it = zone.find("name"); it != zone.end() && it->is_string()) {
      const std::string name = it->get<std::string>();
      if (!name.starts_with("zone_goal") && !name.starts_with("zone_forbid")) {
        Add(loc.Key("name"), "manifest/invalid-value",
            StrCat("zone name '", TextPreview(name), "' must start with 'zone_goal' or 'zone_forbid'"));
      }
    }
    Vector(Get(zone, loc, "pos", Kind::kArray, /*required=*/true), loc.Key("pos"), 3, nullptr,
           "");
    Vector(Get(zone, loc, "size", Kind::kArray, /*required=*/true), loc.Key("size"), 3,
           [](double x) { return x > 0; }, " > 0 (half-extents)");
  }

  const std::filesystem::path& root_;
  std::string path_;
  std::string base_dir_;
  std::string_view text_;
  const SceneLimits& limits_;
  JsonPositions positions_;
  std::set<std::string> part_names_;
  std::vector<Diagnostic> found_;
};

}  // namespace

std::vector<Diagnostic> CheckManifestFile(const std::filesystem::path& root,
                                          std::string_view relative_path,
                                          std::string_view content, const SceneLimits& limits) {
  // Size, depth and string lengths first (a flat scan), then the parse; either failure is one
  // diagnostic at the byte where it was found.
  const bool over_limit = CheckJsonShape(content, kManifestJsonLimits).has_value();
  json doc;
  if (std::optional<JsonProblem> problem = ParseJsonWithin(content, kManifestJsonLimits, &doc)) {
    const LineColumn at = LineColumnAt(content, problem->offset);
    return {Diagnostic{std::string(relative_path), at.line, at.column,
                       over_limit ? "manifest/over-limit" : "manifest/parse-error",
                       Severity::kError, std::move(problem->message)}};
  }
  return ManifestChecker(root, relative_path, content, limits).Run(doc);
}

}  // namespace workerpair::light
