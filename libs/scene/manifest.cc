#include "libs/scene/manifest.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "libs/common/json_kind.h"
#include "libs/common/json_limits.h"
#include "libs/common/line_column.h"
#include "libs/common/str_cat.h"
#include "libs/common/text_preview.h"
#include "libs/scene/json_positions.h"
#include "libs/scene/manifest_schema.h"
#include "libs/scene/scene_names.h"

namespace workerpair::scene {
namespace {

using json = nlohmann::json;
using json_kind::IsKind;
using json_kind::Kind;
using json_kind::KindName;
using json_kind::TypeOf;

// Schema pointers are short ("/assembly/parts/499/euler_deg"); members of anything deeper or
// longer-named are never looked up, so they are not indexed (json_positions.h).
constexpr std::size_t kMaxIndexedPointerBytes = 128;

// Where a value sits: its JSON pointer, a readable name for messages ("assembly.parts[0].mesh")
// and the schema object pattern its members follow ("/assembly/parts/*").
struct Loc {
  std::string pointer;
  std::string display;
  std::string pattern;

  // Displays show keys through TextPreview: a caller's key may be kilobytes long.
  Loc Key(std::string_view key) const {
    const std::string shown = TextPreview(key, 64);
    return {StrCat(pointer, "/", JsonPointerToken(key)),
            display.empty() ? shown : StrCat(display, ".", shown), StrCat(pattern, "/", key)};
  }
  Loc Index(std::size_t index) const {
    return {StrCat(pointer, "/", index), StrCat(display, "[", index, "]"), StrCat(pattern, "/*")};
  }
  // "'simulation.seed'", or "the manifest" for the document.
  std::string Name() const { return display.empty() ? "the manifest" : StrCat("'", display, "'"); }
};

// An integer as int64, an unsigned one past INT64_MAX saturated (it is over any cap anyway).
std::int64_t SaturatedInt(const json& value) {
  if (value.is_number_unsigned() &&
      value.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
    return INT64_MAX;
  }
  return value.get<std::int64_t>();
}

class Checker {
 public:
  Checker(std::string_view text, const SceneLimits& limits)
      : text_(text), lines_(text), limits_(limits),
        positions_(IndexJsonPositions(text, kManifestJsonLimits.max_depth,
                                      kMaxIndexedPointerBytes)) {}

  ManifestCheck Run(const json& doc) {
    for (std::size_t i = 0; i < positions_.duplicates.size(); ++i) {
      const std::string& pointer = positions_.duplicates[i];
      const LineColumn at = lines_.At(positions_.duplicate_offsets[i]);
      AddAt(pointer, at, "manifest/duplicate-key",
            StrCat("key '", TextPreview(pointer.substr(pointer.rfind('/') + 1), 64),
                   "' appears twice in one object (at ", TextPreview(pointer, 96), ")"));
    }
    const Loc top;
    if (!doc.is_object()) {
      Add(top, "manifest/wrong-type",
          StrCat("the manifest must be a JSON object, not ", TypeOf(doc)));
      return Finish(doc);
    }
    // Scene or assembly first: with both or neither, nothing below means much.
    if (doc.contains("scene") == doc.contains("assembly")) {
      Add(top, "manifest/scene-or-assembly",
          doc.contains("scene") ? "the manifest has both 'scene' and 'assembly'; give exactly one"
                                : "the manifest has neither 'scene' nor 'assembly'; give one");
    }
    Object(doc, top);
    CrossRules(doc);
    return Finish(doc);
  }

 private:
  void AddAt(const std::string& pointer, LineColumn at, std::string code, std::string message,
             bool error = true,
             absl::StatusCode status_code = absl::StatusCode::kInvalidArgument) {
    if (truncated_) return;
    if (out_.findings.size() + 1 >= kMaxManifestFindings) {
      truncated_ = true;
      code = "manifest/over-limit";
      message = StrCat("more than ", kMaxManifestFindings, " findings; the rest are not listed");
      error = true;
      status_code = absl::StatusCode::kInvalidArgument;
    }
    if (error) ++errors_;
    out_.findings.push_back(ManifestFinding{std::move(code), error, status_code, pointer,
                                            at.line, at.column, std::move(message)});
  }

  // The position of `pointer`'s key, else of its nearest indexed ancestor.
  LineColumn PositionOf(std::string pointer) const {
    auto it = positions_.offsets.find(pointer);
    while (it == positions_.offsets.end() && !pointer.empty()) {
      pointer.resize(pointer.rfind('/'));
      it = positions_.offsets.find(pointer);
    }
    return it != positions_.offsets.end() ? lines_.At(it->second) : LineColumn{};
  }

  void Add(const Loc& loc, std::string code, std::string message, bool error = true,
           absl::StatusCode status_code = absl::StatusCode::kInvalidArgument) {
    AddAt(loc.pointer, PositionOf(loc.pointer), std::move(code), std::move(message), error,
          status_code);
  }

  // One object against its table entry: unknown keys, then each key's presence, type and rule,
  // then the objects below it.
  void Object(const json& object, const Loc& loc) {
    const SchemaObject* schema = FindSchemaObject(loc.pattern);
    if (schema == nullptr) return;  // cannot happen: callers descend along the table only
    for (auto member = object.begin(); member != object.end(); ++member) {
      const std::string& key = member.key();
      if (std::any_of(schema->keys.begin(), schema->keys.end(),
                      [&](const SchemaKey& k) { return k.name == key; })) {
        continue;
      }
      std::string known;
      for (const SchemaKey& k : schema->keys) known += StrCat(known.empty() ? "" : ", ", k.name);
      const Loc child = loc.Key(key);
      Add(child, "manifest/unknown-key",
          loc.display.empty()
              ? StrCat("unknown key '", TextPreview(key, 64), "' (known in the manifest: ", known,
                       ")")
              : StrCat("unknown key '", TextPreview(key, 64), "' in ", loc.Name(), " ('",
                       child.display, "'; known: ", known, ")"));
    }
    for (const SchemaKey& key : schema->keys) {
      auto it = object.find(key.name);
      const Loc child = loc.Key(key.name);
      if (it == object.end()) {
        if (key.required) {
          Add(loc, "manifest/missing-key", StrCat("missing required key '", child.display, "'"));
        }
        continue;
      }
      if (!IsKind(*it, key.kind)) {
        Add(child, "manifest/wrong-type",
            StrCat(child.Name(), " must be ", KindName(key.kind), ", not ", TypeOf(*it)));
        continue;
      }
      Value(*it, child, key.rule);
      if (it->is_object()) Object(*it, child);
      if (key.rule == ValueRule::kPartList || key.rule == ValueRule::kObjectList) {
        for (std::size_t i = 0; i < it->size(); ++i) {
          const json& element = (*it)[i];
          const Loc at = child.Index(i);
          if (!element.is_object()) {
            Add(at, "manifest/wrong-type",
                StrCat(at.Name(), " must be an object, not ", TypeOf(element)));
            continue;
          }
          Object(element, at);
        }
      }
    }
  }

  void OutOfRange(const Loc& loc, const json& value, std::string_view rule) {
    Add(loc, "manifest/out-of-range", StrCat(loc.Name(), " is ", JsonPreview(value), "; ", rule));
  }

  void OverCap(const Loc& loc, const json& value, std::string_view cap_name, double cap,
               double clamped) {
    Add(loc, "manifest/over-cap",
        StrCat(loc.Name(), " is ", JsonPreview(value), ", over the cap ", cap_name, "=", cap,
               "; clamped to ", clamped),
        /*error=*/false);
  }

  // An integer that must be > 0; over `cap` it is clamped (to an even value when `even`).
  void CappedCount(const json& value, const Loc& loc, int cap, std::string_view cap_name,
                   bool even) {
    const std::int64_t v = SaturatedInt(value);
    const bool odd = value.is_number_unsigned() ? value.get<std::uint64_t>() % 2 != 0
                                                : !IsEvenVideoSize(v);
    if (even && odd) {
      Add(loc, "manifest/invalid-value",
          StrCat(loc.Name(), " is ", JsonPreview(value), "; ", kEvenVideoSizeRule));
    }
    if (v <= 0) {
      OutOfRange(loc, value, "it must be > 0");
    } else if (v > cap) {
      OverCap(loc, value, cap_name, cap, even ? EvenFloor(cap) : cap);
    }
  }

  // An array of `n` finite numbers, each passing `ok` (described by `rule`).
  void Numbers(const json& value, const Loc& loc, std::size_t n, bool (*ok)(double),
               std::string_view rule) {
    bool good = value.size() == n;
    for (std::size_t i = 0; good && i < n; ++i) {
      good = value[i].is_number() && std::isfinite(value[i].get<double>()) &&
             (ok == nullptr || ok(value[i].get<double>()));
    }
    if (!good) {
      Add(loc, "manifest/invalid-value",
          StrCat(loc.Name(), " must be an array of ", n, " numbers", rule, ", got ",
                 JsonPreview(value)));
    }
  }

  void Reference(const Loc& loc, std::string_view what, const std::string& path) {
    const LineColumn at = PositionOf(loc.pointer);
    out_.references.push_back(
        ManifestReference{std::string(what), path, loc.pointer, loc.display, at.line, at.column});
  }

  // A part or zone name: the name rule, uniqueness within `seen`, and the zone prefix.
  void Name(const json& value, const Loc& loc, std::set<std::string>* seen, bool zone) {
    const std::string name = value.get<std::string>();
    const std::string_view what = zone ? "zone" : "part";
    if (!IsValidName(name)) {
      Add(loc, "manifest/invalid-value",
          StrCat(loc.Name(), " is '", TextPreview(name), "'; a ", what, " name is ", kNameRule));
    } else if (zone && !IsZoneName(name)) {
      Add(loc, "manifest/invalid-value",
          StrCat(loc.Name(), " is '", TextPreview(name), "'; a zone name must start with '",
                 kGoalZonePrefix, "' or '", kForbidZonePrefix, "'"));
    } else if (!seen->insert(name).second) {
      Add(loc, "manifest/duplicate-name",
          StrCat(loc.Name(), ": ", what, " name '", name, "' is used twice"));
    }
  }

  void Value(const json& value, const Loc& loc, ValueRule rule) {
    switch (rule) {
      case ValueRule::kAny:
      case ValueRule::kObjectList:
        return;
      case ValueRule::kVersion:
        if (SaturatedInt(value) != kManifestVersion) {
          Add(loc, "manifest/unsupported-version",
              StrCat("'version' is ", JsonPreview(value), "; this service reads version ",
                     kManifestVersion));
        }
        return;
      case ValueRule::kNonEmpty:
        if (value.get_ref<const std::string&>().empty()) {
          Add(loc, "manifest/invalid-value", StrCat(loc.Name(), " is empty"));
        }
        return;
      case ValueRule::kScenePath:
        if (value.get_ref<const std::string&>().empty()) {
          Add(loc, "manifest/invalid-value", StrCat(loc.Name(), " is empty"));
        } else {
          Reference(loc, "scene", value.get<std::string>());
        }
        return;
      case ValueRule::kMeshPath: {
        const std::string& path = value.get_ref<const std::string&>();
        if (!IsMeshFileName(path)) {
          Add(loc, "manifest/invalid-value",
              StrCat(loc.Name(), " is '", TextPreview(path), "'; meshes are .stl or .obj files"));
        }
        if (!path.empty()) Reference(loc, "mesh", path);
        return;
      }
      case ValueRule::kPositive: {
        const double v = value.get<double>();
        if (!std::isfinite(v) || v <= 0) OutOfRange(loc, value, "it must be > 0");
        return;
      }
      case ValueRule::kNonNegative: {
        const double v = value.get<double>();
        if (!std::isfinite(v) || v < 0) OutOfRange(loc, value, "it must be >= 0");
        return;
      }
      case ValueRule::kNonNegativeInt:
        if (!value.is_number_unsigned() && value.get<std::int64_t>() < 0) {
          OutOfRange(loc, value, "it must be >= 0");
        }
        return;
      case ValueRule::kTimestep: {
        const double t = value.get<double>();
        if (!(t >= limits_.min_timestep_s && t <= limits_.max_timestep_s)) {
          OutOfRange(loc, value,
                     StrCat("it must be within min_timestep_s=", limits_.min_timestep_s,
                            " .. max_timestep_s=", limits_.max_timestep_s));
        }
        return;
      }
      case ValueRule::kCappedDuration: {
        const double v = value.get<double>();
        if (!std::isfinite(v) || v <= 0) {
          OutOfRange(loc, value, "it must be > 0");
        } else if (v > limits_.max_duration_s) {
          OverCap(loc, value, "max_duration_s", limits_.max_duration_s, limits_.max_duration_s);
        }
        return;
      }
      case ValueRule::kCappedWidth:
        return CappedCount(value, loc, limits_.max_width, "max_width", /*even=*/true);
      case ValueRule::kCappedHeight:
        return CappedCount(value, loc, limits_.max_height, "max_height", /*even=*/true);
      case ValueRule::kCappedFps:
        return CappedCount(value, loc, limits_.max_fps, "max_fps", /*even=*/false);
      case ValueRule::kPartList:
        if (value.empty()) {
          Add(loc, "manifest/invalid-value", StrCat(loc.Name(), " is empty; give at least one part"));
        } else if (value.size() > static_cast<std::size_t>(limits_.max_bodies)) {
          Add(loc, "manifest/over-limit",
              StrCat(loc.Name(), " has ", value.size(), " parts, over the limit max_bodies=",
                     limits_.max_bodies),
              /*error=*/true, absl::StatusCode::kResourceExhausted);
        }
        return;
      case ValueRule::kPartName:
        return Name(value, loc, &part_names_, /*zone=*/false);
      case ValueRule::kZoneName:
        return Name(value, loc, &zone_names_, /*zone=*/true);
      case ValueRule::kVector3:
        return Numbers(value, loc, 3, nullptr, "");
      case ValueRule::kHalfExtents3:
        return Numbers(value, loc, 3, [](double x) { return x > 0; }, " > 0 (half-extents)");
      case ValueRule::kRgba:
        return Numbers(value, loc, 4, [](double x) { return x >= 0 && x <= 1; }, " within 0..1");
    }
  }

  // kManifestCrossRules, but the first (checked before the table).
  void CrossRules(const json& doc) {
    const Loc top;
    const json* parts = Member(doc, {"assembly", "parts"});
    if (parts != nullptr && parts->is_array()) {
      const Loc list = top.Key("assembly").Key("parts");
      for (std::size_t i = 0; i < parts->size(); ++i) {
        const json& part = (*parts)[i];
        if (part.is_object() && part.contains("mass") && part.contains("density")) {
          Add(list.Index(i), "manifest/invalid-value",
              StrCat(list.Index(i).Name(), " has both 'mass' and 'density'; give at most one"));
        }
      }
    }
    const json* target = Member(doc, {"simulation", "target_body"});
    if (doc.contains("assembly") && !part_names_.empty() && target != nullptr &&
        target->is_string() && !target->get_ref<const std::string&>().empty() &&
        !part_names_.contains(target->get<std::string>())) {
      Add(top.Key("simulation").Key("target_body"), "manifest/unknown-reference",
          StrCat("'simulation.target_body' names '", TextPreview(target->get<std::string>()),
                 "', which is no part of the assembly"));
    }
  }

  // The value at a path of object keys, nullptr when any step is missing or not an object.
  static const json* Member(const json& doc, std::initializer_list<std::string_view> path) {
    const json* at = &doc;
    for (std::string_view key : path) {
      if (!at->is_object()) return nullptr;
      auto it = at->find(key);
      if (it == at->end()) return nullptr;
      at = &*it;
    }
    return at;
  }

  ManifestCheck Finish(const json& doc) {
    if (errors_ == 0) out_.manifest = Fill(doc);
    return std::move(out_);
  }

  // The typed manifest of a document that passed every check, defaults filled in and capped
  // values clamped; the warnings' messages are its adjustments.
  Manifest Fill(const json& doc) const {
    Manifest m;
    m.version = kManifestVersion;
    m.scene = doc.value("scene", "");
    if (const json* sim = Member(doc, {"simulation"})) {
      SimulationSettings& s = m.simulation;
      s.duration_s = std::min(sim->value("duration_s", s.duration_s), limits_.max_duration_s);
      if (sim->contains("timestep_s")) s.timestep_s = (*sim)["timestep_s"].get<double>();
      s.seed = sim->value("seed", std::uint64_t{0});
      s.target_body = sim->value("target_body", "");
      if (const json* b = Member(*sim, {"bounds"})) {
        s.bounds.min_z = b->value("min_z", s.bounds.min_z);
        s.bounds.max_abs_xy = b->value("max_abs_xy", s.bounds.max_abs_xy);
      }
    }
    if (const json* r = Member(doc, {"render"})) {
      auto capped = [&](std::string_view key, int fallback, int cap) {
        auto it = r->find(key);
        return it == r->end() ? fallback
                              : static_cast<int>(std::min<std::int64_t>(SaturatedInt(*it), cap));
      };
      m.render.enabled = r->value("enabled", true);
      m.render.width = capped("width", m.render.width, EvenFloor(limits_.max_width));
      m.render.height = capped("height", m.render.height, EvenFloor(limits_.max_height));
      m.render.fps = capped("fps", m.render.fps, limits_.max_fps);
      m.render.camera = r->value("camera", "");
    }
    if (const json* y = Member(doc, {"stress", "yield_newtons"})) {
      m.stress.yield_newtons = y->get<double>();
    }
    if (const json* j = Member(doc, {"verify", "jitter_m"})) m.verify.jitter_m = j->get<double>();
    if (const json* a = Member(doc, {"assembly"})) {
      Assembly& assembly = m.assembly.emplace();
      assembly.ground = a->value("ground", false);
      auto vec3 = [](const json& object, std::string_view key) {
        std::array<double, 3> out = {0, 0, 0};
        if (auto it = object.find(key); it != object.end()) {
          for (std::size_t i = 0; i < 3; ++i) out[i] = (*it)[i].get<double>();
        }
        return out;
      };
      for (const json& p : (*a)["parts"]) {
        AssemblyPart part;
        part.name = p["name"].get<std::string>();
        part.mesh = p["mesh"].get<std::string>();
        part.pos = vec3(p, "pos");
        part.euler_deg = vec3(p, "euler_deg");
        part.fixed = p.value("fixed", false);
        if (p.contains("mass")) part.mass = p["mass"].get<double>();
        if (p.contains("density")) part.density = p["density"].get<double>();
        if (!part.mass && !part.density) part.density = 1000.0;
        if (auto it = p.find("rgba"); it != p.end()) {
          part.rgba = std::array<double, 4>{(*it)[0].get<double>(), (*it)[1].get<double>(),
                                            (*it)[2].get<double>(), (*it)[3].get<double>()};
        }
        assembly.parts.push_back(std::move(part));
      }
      if (auto zones = a->find("zones"); zones != a->end()) {
        for (const json& z : *zones) {
          assembly.zones.push_back(
              AssemblyZone{z["name"].get<std::string>(), vec3(z, "pos"), vec3(z, "size")});
        }
      }
    }
    for (const ManifestFinding& finding : out_.findings) {
      if (!finding.error) m.adjustments.push_back(finding.message);
    }
    return m;
  }

  std::string_view text_;
  TextLines lines_;
  const SceneLimits& limits_;
  JsonPositions positions_;
  std::set<std::string> part_names_;
  std::set<std::string> zone_names_;
  ManifestCheck out_;
  std::size_t errors_ = 0;
  bool truncated_ = false;
};

}  // namespace

const ManifestFinding* ManifestCheck::first_error() const {
  for (const ManifestFinding& finding : findings) {
    if (finding.error) return &finding;
  }
  return nullptr;
}

ManifestCheck CheckManifest(std::string_view bytes, const SceneLimits& limits) {
  // Size, depth and string lengths first (a flat scan), then the parse; either failure is the
  // one finding, at the byte where it was found.
  const bool over_limit = CheckJsonShape(bytes, kManifestJsonLimits).has_value();
  json doc;
  if (std::optional<JsonProblem> problem = ParseJsonWithin(bytes, kManifestJsonLimits, &doc)) {
    const LineColumn at = LineColumnAt(bytes, problem->offset);
    ManifestCheck check;
    check.findings.push_back(ManifestFinding{
        over_limit ? "manifest/over-limit" : "manifest/parse-error", true,
        absl::StatusCode::kInvalidArgument, "", at.line, at.column,
        StrCat(over_limit ? "" : "not valid JSON: ", problem->message)});
    return check;
  }
  return Checker(bytes, limits).Run(doc);
}

absl::Status FindingStatus(const ManifestFinding& finding) {
  return absl::Status(finding.status_code,
                      StrCat(kManifestFileName, " ", finding.pointer.empty() ? "" : finding.pointer,
                             finding.pointer.empty() ? "" : " ", "(line ", finding.line,
                             ", column ", finding.column, "): ", finding.message));
}

absl::StatusOr<Manifest> ParseManifest(std::string_view bytes, const SceneLimits& limits) {
  ManifestCheck check = CheckManifest(bytes, limits);
  if (const ManifestFinding* error = check.first_error()) return FindingStatus(*error);
  return std::move(*check.manifest);
}

}  // namespace workerpair::scene
