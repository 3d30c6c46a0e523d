#include "services/heavy/core/scene/manifest.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <initializer_list>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "libs/common/json_kind.h"
#include "libs/common/json_limits.h"
#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"

namespace workerpair::heavy {
namespace {

using json_kind::IsKind;
using json_kind::Kind;
using json_kind::KindName;
using json_kind::TypeOf;

using json = nlohmann::json;

absl::Status Invalid(std::string message) {
  return absl::InvalidArgumentError(std::move(message));
}

std::string Join(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : StrCat(parent, ".", key);
}

// Unknown keys are errors: a typo must not silently fall back to a default.
absl::Status CheckKeys(const json& object, const std::string& where,
                       std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string known;
    for (std::string_view name : allowed) known += StrCat(known.empty() ? "" : ", ", name);
    return Invalid(StrCat("unknown key '", Join(where, key), "' (known in ",
                          where.empty() ? "the manifest" : StrCat("'", where, "'"), ": ", known,
                          ")"));
  }
  return absl::OkStatus();
}

// The member `key` of `object` when present (nullptr when absent); INVALID_ARGUMENT when it has
// the wrong type or is required and absent.
absl::StatusOr<const json*> Get(const json& object, const std::string& where,
                                std::string_view key, Kind kind, bool required = false) {
  auto it = object.find(key);
  if (it == object.end()) {
    if (required) {
      return Invalid(StrCat("missing required key '", Join(where, key), "'"));
    }
    return nullptr;
  }
  if (!IsKind(*it, kind)) {
    return Invalid(StrCat("'", Join(where, key), "' must be ", KindName(kind), ", not ",
                          TypeOf(*it)));
  }
  return &*it;
}

// A finite number that must be > `bound`.
absl::Status Above(const json& value, const std::string& name, double bound) {
  const double v = value.get<double>();
  if (!std::isfinite(v) || v <= bound) {
    return Invalid(StrCat("'", name, "' is ", JsonPreview(value), "; it must be > ", bound));
  }
  return absl::OkStatus();
}

// An array of N finite numbers, each passing `ok` (described by `rule`).
template <std::size_t N>
absl::StatusOr<std::array<double, N>> Vector(const json& value, const std::string& name,
                                             bool (*ok)(double), std::string_view rule) {
  std::array<double, N> out{};
  bool good = value.size() == N;
  for (std::size_t i = 0; good && i < N; ++i) {
    good = value[i].is_number() && std::isfinite(value[i].get<double>()) &&
           (ok == nullptr || ok(value[i].get<double>()));
    if (good) out[i] = value[i].get<double>();
  }
  if (!good) {
    return Invalid(StrCat("'", name, "' must be an array of ", N, " numbers", rule, ", got ",
                          JsonPreview(value)));
  }
  return out;
}

// A name of 1+ characters from [A-Za-z0-9_-], unique within `seen`.
absl::StatusOr<std::string> Name(const json& object, const std::string& where,
                                 std::set<std::string>* seen, std::string_view what) {
  WP_ASSIGN_OR_RETURN(const json* v, Get(object, where, "name", Kind::kString, true));
  std::string name = v->get<std::string>();
  const bool valid = !name.empty() && name.size() <= 100 &&
                     std::all_of(name.begin(), name.end(), [](char c) {
                       return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
                     });
  if (!valid) {
    return Invalid(StrCat("'", where, ".name' is '", name, "'; a ", what,
                          " name is 1 to 100 characters from [A-Za-z0-9_-]"));
  }
  if (!seen->insert(name).second) {
    return Invalid(StrCat("'", where, ".name': ", what, " name '", name, "' is used twice"));
  }
  return name;
}

bool EndsWithIgnoreCase(std::string_view text, std::string_view suffix) {
  if (text.size() < suffix.size()) return false;
  return std::equal(suffix.begin(), suffix.end(), text.end() - suffix.size(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
}

// A capped positive integer: <= 0 is an error, over the cap is clamped with a note.
absl::StatusOr<int> CappedCount(const json& value, const std::string& name, int cap,
                                std::string_view cap_name, std::vector<std::string>* notes) {
  const std::int64_t v = value.get<std::int64_t>();
  if (v <= 0) return Invalid(StrCat("'", name, "' is ", JsonPreview(value), "; it must be > 0"));
  if (v > cap) {
    notes->push_back(StrCat(name, " ", v, " clamped to the cap ", cap_name, "=", cap));
    return cap;
  }
  return static_cast<int>(v);
}

absl::Status ParseSimulation(const json& sim, const SceneLimits& limits, Manifest* out) {
  const std::string where = "simulation";
  WP_RETURN_IF_ERROR(CheckKeys(sim, where, {"duration_s", "timestep_s", "seed", "target_body",
                                            "bounds"}));
  SimulationSettings& s = out->simulation;
  WP_ASSIGN_OR_RETURN(const json* duration, Get(sim, where, "duration_s", Kind::kNumber));
  if (duration) {
    WP_RETURN_IF_ERROR(Above(*duration, "simulation.duration_s", 0));
    s.duration_s = duration->get<double>();
  }
  if (s.duration_s > limits.max_duration_s) {
    out->adjustments.push_back(StrCat("simulation.duration_s ", s.duration_s,
                                      " clamped to the cap max_duration_s=",
                                      limits.max_duration_s));
    s.duration_s = limits.max_duration_s;
  }
  WP_ASSIGN_OR_RETURN(const json* timestep, Get(sim, where, "timestep_s", Kind::kNumber));
  if (timestep) {
    const double t = timestep->get<double>();
    if (!(t >= limits.min_timestep_s && t <= limits.max_timestep_s)) {
      return Invalid(StrCat("'simulation.timestep_s' is ", JsonPreview(*timestep),
                            "; it must be within min_timestep_s=", limits.min_timestep_s,
                            " .. max_timestep_s=", limits.max_timestep_s));
    }
    s.timestep_s = t;
  }
  WP_ASSIGN_OR_RETURN(const json* seed, Get(sim, where, "seed", Kind::kInt));
  if (seed) {
    if (!seed->is_number_unsigned() && seed->get<std::int64_t>() < 0) {
      return Invalid(StrCat("'simulation.seed' is ", JsonPreview(*seed), "; it must be >= 0"));
    }
    s.seed = seed->get<std::uint64_t>();
  }
  WP_ASSIGN_OR_RETURN(const json* target, Get(sim, where, "target_body", Kind::kString));
  if (target) {
    s.target_body = target->get<std::string>();
    if (s.target_body.empty()) return Invalid("'simulation.target_body' is empty");
  }
  WP_ASSIGN_OR_RETURN(const json* bounds, Get(sim, where, "bounds", Kind::kObject));
  if (bounds) {
    const std::string b = "simulation.bounds";
    WP_RETURN_IF_ERROR(CheckKeys(*bounds, b, {"min_z", "max_abs_xy"}));
    WP_ASSIGN_OR_RETURN(const json* min_z, Get(*bounds, b, "min_z", Kind::kNumber));
    if (min_z) {
      if (!std::isfinite(min_z->get<double>())) {
        return Invalid("'simulation.bounds.min_z' must be finite");
      }
      s.bounds.min_z = min_z->get<double>();
    }
    WP_ASSIGN_OR_RETURN(const json* xy, Get(*bounds, b, "max_abs_xy", Kind::kNumber));
    if (xy) {
      WP_RETURN_IF_ERROR(Above(*xy, "simulation.bounds.max_abs_xy", 0));
      s.bounds.max_abs_xy = xy->get<double>();
    }
  }
  return absl::OkStatus();
}

absl::Status ParseRender(const json& render, const SceneLimits& limits, Manifest* out) {
  const std::string where = "render";
  WP_RETURN_IF_ERROR(CheckKeys(render, where, {"enabled", "width", "height", "fps", "camera"}));
  RenderSettings& r = out->render;
  WP_ASSIGN_OR_RETURN(const json* enabled, Get(render, where, "enabled", Kind::kBool));
  if (enabled) r.enabled = enabled->get<bool>();
  WP_ASSIGN_OR_RETURN(const json* camera, Get(render, where, "camera", Kind::kString));
  if (camera) {
    r.camera = camera->get<std::string>();
    if (r.camera.empty()) return Invalid("'render.camera' is empty");
  }
  struct Size {
    std::string_view key;
    int cap;
    std::string_view cap_name;
    int* field;
  };
  for (const Size& size : {Size{"width", limits.max_width, "max_width", &r.width},
                           Size{"height", limits.max_height, "max_height", &r.height}}) {
    WP_ASSIGN_OR_RETURN(const json* v, Get(render, where, size.key, Kind::kInt));
    if (!v) continue;
    const std::string name = Join(where, size.key);
    if (v->get<std::int64_t>() % 2 != 0) {
      return Invalid(StrCat("'", name, "' is ", JsonPreview(*v), "; video sizes must be even"));
    }
    WP_ASSIGN_OR_RETURN(*size.field,
                        CappedCount(*v, name, size.cap, size.cap_name, &out->adjustments));
    // A clamp to an odd cap would break the even rule.
    *size.field -= *size.field % 2;
  }
  WP_ASSIGN_OR_RETURN(const json* fps, Get(render, where, "fps", Kind::kInt));
  if (fps) {
    WP_ASSIGN_OR_RETURN(r.fps, CappedCount(*fps, "render.fps", limits.max_fps, "max_fps",
                                           &out->adjustments));
  }
  return absl::OkStatus();
}

absl::StatusOr<AssemblyPart> ParsePart(const json& part, const std::string& where,
                                       std::set<std::string>* names) {
  if (!part.is_object()) {
    return Invalid(StrCat("'", where, "' must be an object, not ", TypeOf(part)));
  }
  WP_RETURN_IF_ERROR(CheckKeys(part, where, {"name", "mesh", "pos", "euler_deg", "fixed", "mass",
                                             "density", "rgba"}));
  AssemblyPart out;
  WP_ASSIGN_OR_RETURN(out.name, Name(part, where, names, "part"));
  WP_ASSIGN_OR_RETURN(const json* mesh, Get(part, where, "mesh", Kind::kString, true));
  out.mesh = mesh->get<std::string>();
  if (!EndsWithIgnoreCase(out.mesh, ".stl") && !EndsWithIgnoreCase(out.mesh, ".obj")) {
    return Invalid(StrCat("'", where, ".mesh' is '", out.mesh, "'; meshes are .stl or .obj files"));
  }
  WP_ASSIGN_OR_RETURN(const json* pos, Get(part, where, "pos", Kind::kArray));
  if (pos) {
    WP_ASSIGN_OR_RETURN(out.pos, Vector<3>(*pos, Join(where, "pos"), nullptr, ""));
  }
  WP_ASSIGN_OR_RETURN(const json* euler, Get(part, where, "euler_deg", Kind::kArray));
  if (euler) {
    WP_ASSIGN_OR_RETURN(out.euler_deg, Vector<3>(*euler, Join(where, "euler_deg"), nullptr, ""));
  }
  WP_ASSIGN_OR_RETURN(const json* fixed, Get(part, where, "fixed", Kind::kBool));
  if (fixed) out.fixed = fixed->get<bool>();
  WP_ASSIGN_OR_RETURN(const json* mass, Get(part, where, "mass", Kind::kNumber));
  WP_ASSIGN_OR_RETURN(const json* density, Get(part, where, "density", Kind::kNumber));
  if (mass && density) {
    return Invalid(StrCat("'", where, "' has both 'mass' and 'density'; give at most one"));
  }
  if (mass) {
    WP_RETURN_IF_ERROR(Above(*mass, Join(where, "mass"), 0));
    out.mass = mass->get<double>();
  }
  if (density) {
    WP_RETURN_IF_ERROR(Above(*density, Join(where, "density"), 0));
    out.density = density->get<double>();
  }
  if (!mass && !density) out.density = 1000.0;
  WP_ASSIGN_OR_RETURN(const json* rgba, Get(part, where, "rgba", Kind::kArray));
  if (rgba) {
    WP_ASSIGN_OR_RETURN(out.rgba, Vector<4>(*rgba, Join(where, "rgba"),
                                            [](double x) { return x >= 0 && x <= 1; },
                                            " within 0..1"));
  }
  return out;
}

absl::StatusOr<AssemblyZone> ParseZone(const json& zone, const std::string& where,
                                       std::set<std::string>* names) {
  if (!zone.is_object()) {
    return Invalid(StrCat("'", where, "' must be an object, not ", TypeOf(zone)));
  }
  WP_RETURN_IF_ERROR(CheckKeys(zone, where, {"name", "pos", "size"}));
  AssemblyZone out;
  WP_ASSIGN_OR_RETURN(out.name, Name(zone, where, names, "zone"));
  if (!out.name.starts_with(kGoalZonePrefix) && !out.name.starts_with(kForbidZonePrefix)) {
    return Invalid(StrCat("'", where, ".name' is '", out.name,
                          "'; a zone name must start with 'zone_goal' or 'zone_forbid'"));
  }
  WP_ASSIGN_OR_RETURN(const json* pos, Get(zone, where, "pos", Kind::kArray, true));
  WP_ASSIGN_OR_RETURN(out.pos, Vector<3>(*pos, Join(where, "pos"), nullptr, ""));
  WP_ASSIGN_OR_RETURN(const json* size, Get(zone, where, "size", Kind::kArray, true));
  WP_ASSIGN_OR_RETURN(out.size, Vector<3>(*size, Join(where, "size"),
                                          [](double x) { return x > 0; },
                                          " > 0 (half-extents)"));
  return out;
}

absl::Status ParseAssembly(const json& assembly, const SceneLimits& limits, Manifest* out) {
  const std::string where = "assembly";
  WP_RETURN_IF_ERROR(CheckKeys(assembly, where, {"ground", "parts", "zones"}));
  Assembly& a = out->assembly.emplace();
  WP_ASSIGN_OR_RETURN(const json* ground, Get(assembly, where, "ground", Kind::kBool));
  if (ground) a.ground = ground->get<bool>();
  WP_ASSIGN_OR_RETURN(const json* parts, Get(assembly, where, "parts", Kind::kArray, true));
  if (parts->empty()) return Invalid("'assembly.parts' is empty; give at least one part");
  if (parts->size() > static_cast<std::size_t>(limits.max_bodies)) {
    return absl::ResourceExhaustedError(StrCat("'assembly.parts' has ", parts->size(),
                                               " parts, over the limit max_bodies=",
                                               limits.max_bodies));
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < parts->size(); ++i) {
    WP_ASSIGN_OR_RETURN(AssemblyPart part,
                        ParsePart((*parts)[i], StrCat("assembly.parts[", i, "]"), &names));
    a.parts.push_back(std::move(part));
  }
  WP_ASSIGN_OR_RETURN(const json* zones, Get(assembly, where, "zones", Kind::kArray));
  if (zones) {
    std::set<std::string> zone_names;
    for (std::size_t i = 0; i < zones->size(); ++i) {
      WP_ASSIGN_OR_RETURN(AssemblyZone zone,
                          ParseZone((*zones)[i], StrCat("assembly.zones[", i, "]"), &zone_names));
      a.zones.push_back(std::move(zone));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Manifest> ParseManifest(std::string_view json_text, const SceneLimits& limits) {
  // Duplicate keys: nlohmann keeps the last silently, so track each object's keys while parsing.
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  // Deeper nesting than any manifest needs is refused, and never built in memory.
  constexpr int kMaxDepth = 32;
  bool too_deep = false;
  json::parser_callback_t track = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > kMaxDepth) {
      too_deep = true;
      return false;
    }
    if (event == json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == json::parse_event_t::object_end && !open_objects.empty()) {
      open_objects.pop_back();
    } else if (event == json::parse_event_t::key && !open_objects.empty() &&
               !open_objects.back().insert(parsed.get<std::string>()).second &&
               duplicate.empty()) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  json doc;
  try {
    doc = json::parse(json_text.begin(), json_text.end(), track);
  } catch (const json::parse_error& error) {
    return Invalid(StrCat("manifest.json is not valid JSON: ", error.what()));
  } catch (const json::exception& error) {
    // e.g. out_of_range 406 for a number such as 1e999 that no double holds.
    return Invalid(StrCat("manifest.json has a value out of range: ", error.what()));
  }
  if (too_deep) {
    return Invalid(StrCat("manifest.json nests deeper than ", kMaxDepth, " levels"));
  }
  if (!duplicate.empty()) {
    return Invalid(StrCat("key '", duplicate, "' appears twice in one object of manifest.json"));
  }
  if (!doc.is_object()) {
    return Invalid(StrCat("manifest.json must hold a JSON object, not ", TypeOf(doc)));
  }

  Manifest out;
  const std::string top;
  WP_RETURN_IF_ERROR(CheckKeys(doc, top, {"version", "scene", "assembly", "simulation", "render",
                                          "stress", "verify"}));
  WP_ASSIGN_OR_RETURN(const json* version, Get(doc, top, "version", Kind::kInt, true));
  if (!version->is_number_integer() || version->get<std::int64_t>() != kManifestVersion) {
    return Invalid(StrCat("'version' is ", JsonPreview(*version), "; this service reads version ",
                          kManifestVersion));
  }
  out.version = kManifestVersion;

  WP_ASSIGN_OR_RETURN(const json* scene, Get(doc, top, "scene", Kind::kString));
  WP_ASSIGN_OR_RETURN(const json* assembly, Get(doc, top, "assembly", Kind::kObject));
  if ((scene != nullptr) == (assembly != nullptr)) {
    return Invalid(scene ? "the manifest has both 'scene' and 'assembly'; give exactly one"
                         : "the manifest has neither 'scene' nor 'assembly'; give one");
  }
  if (scene) {
    out.scene = scene->get<std::string>();
    if (out.scene.empty()) return Invalid("'scene' is empty");
  }
  if (assembly) WP_RETURN_IF_ERROR(ParseAssembly(*assembly, limits, &out));

  WP_ASSIGN_OR_RETURN(const json* simulation, Get(doc, top, "simulation", Kind::kObject));
  if (simulation) {
    WP_RETURN_IF_ERROR(ParseSimulation(*simulation, limits, &out));
  } else {
    WP_RETURN_IF_ERROR(ParseSimulation(json::object(), limits, &out));
  }
  WP_ASSIGN_OR_RETURN(const json* render, Get(doc, top, "render", Kind::kObject));
  if (render) WP_RETURN_IF_ERROR(ParseRender(*render, limits, &out));
  WP_ASSIGN_OR_RETURN(const json* stress, Get(doc, top, "stress", Kind::kObject));
  if (stress) {
    WP_RETURN_IF_ERROR(CheckKeys(*stress, "stress", {"yield_newtons"}));
    WP_ASSIGN_OR_RETURN(const json* y, Get(*stress, "stress", "yield_newtons", Kind::kNumber));
    if (y) {
      WP_RETURN_IF_ERROR(Above(*y, "stress.yield_newtons", 0));
      out.stress.yield_newtons = y->get<double>();
    }
  }
  WP_ASSIGN_OR_RETURN(const json* verify, Get(doc, top, "verify", Kind::kObject));
  if (verify) {
    WP_RETURN_IF_ERROR(CheckKeys(*verify, "verify", {"jitter_m"}));
    WP_ASSIGN_OR_RETURN(const json* j, Get(*verify, "verify", "jitter_m", Kind::kNumber));
    if (j) {
      const double v = j->get<double>();
      if (!std::isfinite(v) || v < 0) {
        return Invalid(StrCat("'verify.jitter_m' is ", JsonPreview(*j), "; it must be >= 0"));
      }
      out.verify.jitter_m = v;
    }
  }

  // An assembly's target must be one of its parts.
  if (out.assembly && !out.simulation.target_body.empty()) {
    const auto& parts = out.assembly->parts;
    if (std::none_of(parts.begin(), parts.end(), [&](const AssemblyPart& p) {
          return p.name == out.simulation.target_body;
        })) {
      return Invalid(StrCat("'simulation.target_body' names '", out.simulation.target_body,
                            "', which is no part of the assembly"));
    }
  }
  return out;
}

}  // namespace workerpair::heavy
