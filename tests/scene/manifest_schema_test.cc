// Every key of the schema table, wrong in type, in range, in name rule; an unknown key in every
// object: each gives its finding at the right pointer, and ParseManifest names that pointer.
#include "libs/scene/manifest_schema.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "libs/scene/manifest.h"
#include "libs/scene/scene_names.h"

namespace workerpair::scene {
namespace {

using json = nlohmann::json;
using json_kind::Kind;

// Valid manifests that hold every object of the schema between them.
json SceneBase() {
  return json::parse(R"({"version": 1, "scene": "scene.xml",
    "simulation": {"duration_s": 2, "timestep_s": 0.002, "seed": 4, "target_body": "ball",
                   "bounds": {"min_z": -1, "max_abs_xy": 10}},
    "render": {"enabled": true, "width": 320, "height": 240, "fps": 24, "camera": "main"},
    "stress": {"yield_newtons": 100}, "verify": {"jitter_m": 0.01}})");
}

json AssemblyBase() {
  return json::parse(R"({"version": 1,
    "assembly": {"ground": true,
      "parts": [{"name": "ball", "mesh": "meshes/ball.stl", "pos": [0, 0, 1], "euler_deg": [0, 0, 0],
                 "fixed": false, "density": 500, "rgba": [1, 0, 0, 1]},
                {"name": "ramp", "mesh": "meshes/ramp.obj", "fixed": true, "mass": 2}],
      "zones": [{"name": "zone_goal_bin", "pos": [1, 0, 0], "size": [0.1, 0.1, 0.1]}]},
    "simulation": {"target_body": "ball"}})");
}

// The base manifest that holds the object `pattern` (and `key` in it), and `pattern` with "*"
// as element 0.
json BaseFor(std::string_view pattern, std::string_view key = "") {
  return pattern.starts_with("/assembly") || (pattern.empty() && key == "assembly")
             ? AssemblyBase()
             : SceneBase();
}
std::string Concrete(std::string_view pattern) {
  std::string out;
  for (char c : pattern) out.push_back(c == '*' ? '0' : c);
  return out;
}

// A value of another JSON type than `kind`.
json WrongTypeFor(Kind kind) {
  switch (kind) {
    case Kind::kString: return 5;
    case Kind::kObject: return json::array({1});
    case Kind::kArray: return json::object({{"a", 1}});
    case Kind::kInt: return 1.5;
    case Kind::kNumber:
    case Kind::kBool: return "text";
  }
  return nullptr;
}

struct BadValue {
  json value;
  std::string code;
  bool error = true;
};

// Values breaking `rule`, with the finding each gives. kAny has none.
std::vector<BadValue> BadValuesFor(ValueRule rule) {
  switch (rule) {
    case ValueRule::kAny: return {};
    case ValueRule::kVersion: return {{2, "manifest/unsupported-version"}, {0, "manifest/unsupported-version"}};
    case ValueRule::kNonEmpty: return {{"", "manifest/invalid-value"}};
    case ValueRule::kPositive: return {{0, "manifest/out-of-range"}, {-2.5, "manifest/out-of-range"}};
    case ValueRule::kNonNegative: return {{-0.1, "manifest/out-of-range"}};
    case ValueRule::kNonNegativeInt: return {{-1, "manifest/out-of-range"}};
    case ValueRule::kTimestep:
      return {{0.5, "manifest/out-of-range"}, {0.00001, "manifest/out-of-range"},
              {0, "manifest/out-of-range"}};
    case ValueRule::kCappedDuration:
      return {{0, "manifest/out-of-range"}, {-1, "manifest/out-of-range"},
              {1000, "manifest/over-cap", false}};
    case ValueRule::kCappedWidth:
    case ValueRule::kCappedHeight:
      return {{641, "manifest/invalid-value"}, {0, "manifest/out-of-range"},
              {-2, "manifest/out-of-range"}, {4000, "manifest/over-cap", false},
              {json::number_unsigned_t{18446744073709551614ull}, "manifest/over-cap", false}};
    case ValueRule::kCappedFps:
      return {{0, "manifest/out-of-range"}, {1000, "manifest/over-cap", false}};
    case ValueRule::kPartList: return {{json::array(), "manifest/invalid-value"}};
    case ValueRule::kObjectList: return {{json::array({5}), "manifest/wrong-type"}};
    case ValueRule::kPartName:
    case ValueRule::kZoneName:
      return {{"a b", "manifest/invalid-value"},
              {"", "manifest/invalid-value"},
              {std::string("zone_goal_").append(kMaxNameLength - 9, 'x'), "manifest/invalid-value"},
              {"zone_goal\xc3\xa9", "manifest/invalid-value"}};
    case ValueRule::kMeshPath:
      return {{"meshes/a.ply", "manifest/invalid-value"}, {"", "manifest/invalid-value"}};
    case ValueRule::kScenePath: return {{"", "manifest/invalid-value"}};
    case ValueRule::kVector3:
      return {{json::array({1, 2}), "manifest/invalid-value"},
              {json::array({1, 2, "3"}), "manifest/invalid-value"},
              {json::array({1, 2, 3, 4}), "manifest/invalid-value"}};
    case ValueRule::kHalfExtents3:
      return {{json::array({1, 0, 1}), "manifest/invalid-value"},
              {json::array({1, 1}), "manifest/invalid-value"}};
    case ValueRule::kRgba:
      return {{json::array({1, 1, 1, 2}), "manifest/invalid-value"},
              {json::array({1, 1, 1}), "manifest/invalid-value"}};
  }
  return {};
}

bool HasFinding(const ManifestCheck& check, std::string_view code, std::string_view pointer) {
  for (const ManifestFinding& f : check.findings) {
    if (f.code == code && f.pointer == pointer) return true;
  }
  return false;
}

std::string Dump(const ManifestCheck& check) {
  std::string out;
  for (const ManifestFinding& f : check.findings) {
    out += f.code + " " + f.pointer + " " + std::to_string(f.line) + ":" +
           std::to_string(f.column) + " " + f.message + "\n";
  }
  return out;
}

TEST_CASE("The base manifests are clean", "[scene][manifest]") {
  for (const json& base : {SceneBase(), AssemblyBase()}) {
    const ManifestCheck check = CheckManifest(base.dump(2), SceneLimits{});
    INFO(Dump(check));
    CHECK(check.findings.empty());
    CHECK(check.manifest.has_value());
  }
}

TEST_CASE("Every key of the schema in the wrong type is a wrong-type error at its pointer",
          "[scene][manifest]") {
  int cases = 0;
  for (const SchemaObject& object : ManifestSchema()) {
    for (const SchemaKey& key : object.keys) {
      json doc = BaseFor(object.pointer, key.name);
      const std::string pointer = Concrete(object.pointer) + "/" + std::string(key.name);
      doc[json::json_pointer(pointer)] = WrongTypeFor(key.kind);
      const ManifestCheck check = CheckManifest(doc.dump(2), SceneLimits{});
      INFO(pointer << "\n" << Dump(check));
      CHECK(HasFinding(check, "manifest/wrong-type", pointer));
      CHECK_FALSE(check.manifest.has_value());
      const absl::StatusOr<Manifest> parsed = ParseManifest(doc.dump(2), SceneLimits{});
      REQUIRE_FALSE(parsed.ok());
      CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
      CHECK_THAT(std::string(parsed.status().message()), Catch::Contains(pointer));
      ++cases;
    }
  }
  CHECK(cases >= 35);
}

TEST_CASE("Every value rule of the schema, broken, gives its finding at the key's pointer",
          "[scene][manifest]") {
  int cases = 0;
  for (const SchemaObject& object : ManifestSchema()) {
    for (const SchemaKey& key : object.keys) {
      for (const BadValue& bad : BadValuesFor(key.rule)) {
        json doc = BaseFor(object.pointer, key.name);
        const std::string pointer = Concrete(object.pointer) + "/" + std::string(key.name);
        doc[json::json_pointer(pointer)] = bad.value;
        const ManifestCheck check = CheckManifest(doc.dump(2), SceneLimits{});
        INFO(pointer << " = " << bad.value.dump() << "\n" << Dump(check));
        const std::string expected_pointer =
            bad.code == "manifest/wrong-type" ? pointer + "/0" : pointer;
        CHECK(HasFinding(check, bad.code, expected_pointer));
        CHECK(check.manifest.has_value() == !bad.error);
        if (!bad.error) {
          CHECK_FALSE(check.manifest->adjustments.empty());
        } else {
          const absl::StatusOr<Manifest> parsed = ParseManifest(doc.dump(2), SceneLimits{});
          REQUIRE_FALSE(parsed.ok());
          CHECK_THAT(std::string(parsed.status().message()), Catch::Contains(expected_pointer));
        }
        ++cases;
      }
    }
  }
  CHECK(cases >= 40);
}

TEST_CASE("A name of exactly 100 characters is accepted and 101 is refused", "[scene][manifest]") {
  for (std::string_view pointer : {"/assembly/parts/0/name", "/assembly/zones/0/name"}) {
    const std::string prefix = pointer.find("zones") != std::string_view::npos ? "zone_goal" : "p";
    for (std::size_t length : {kMaxNameLength, kMaxNameLength + 1}) {
      json doc = AssemblyBase();
      std::string name = prefix;
      name.append(length - prefix.size(), 'x');
      doc[json::json_pointer(std::string(pointer))] = name;
      if (pointer.find("parts") != std::string_view::npos) doc["simulation"]["target_body"] = name;
      const ManifestCheck check = CheckManifest(doc.dump(), SceneLimits{});
      INFO(pointer << " length " << length << "\n" << Dump(check));
      CHECK(check.manifest.has_value() == (length <= kMaxNameLength));
      if (length > kMaxNameLength) {
        CHECK(HasFinding(check, "manifest/invalid-value", std::string(pointer)));
      }
    }
  }
}

TEST_CASE("An unknown key in every object of the schema is an unknown-key error at its pointer",
          "[scene][manifest]") {
  for (const SchemaObject& object : ManifestSchema()) {
    json doc = BaseFor(object.pointer);
    const std::string pointer = Concrete(object.pointer) + "/colour";
    doc[json::json_pointer(pointer)] = 1;
    const ManifestCheck check = CheckManifest(doc.dump(2), SceneLimits{});
    INFO(pointer << "\n" << Dump(check));
    CHECK(HasFinding(check, "manifest/unknown-key", pointer));
    REQUIRE(check.findings.size() == 1);
    CHECK_THAT(check.findings[0].message, Catch::Contains("'colour'"));
  }
}

TEST_CASE("Every required key, absent, is a missing-key error at its object's pointer",
          "[scene][manifest]") {
  int cases = 0;
  for (const SchemaObject& object : ManifestSchema()) {
    for (const SchemaKey& key : object.keys) {
      if (!key.required) continue;
      json doc = BaseFor(object.pointer, key.name);
      const std::string parent = Concrete(object.pointer);
      doc[json::json_pointer(parent.empty() ? "" : parent)].erase(std::string(key.name));
      const ManifestCheck check = CheckManifest(doc.dump(2), SceneLimits{});
      INFO(parent << " without " << key.name << "\n" << Dump(check));
      CHECK(HasFinding(check, "manifest/missing-key", parent));
      ++cases;
    }
  }
  CHECK(cases == 7);  // version, parts, part name and mesh, zone name, pos and size
}

}  // namespace
}  // namespace workerpair::scene
