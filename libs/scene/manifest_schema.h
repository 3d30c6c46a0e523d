// The manifest schema (docs/MANIFEST.md, version 1) as one table: every object of a manifest,
// its keys, each key's JSON type, whether it is required and the rule its value obeys. The
// checker (manifest.cc) walks this table and nothing else decides what a key may hold; tests
// and the lint/heavy contract test can iterate it to make a bad manifest for every key.
//
//   for (const SchemaObject& object : ManifestSchema()) {
//     for (const SchemaKey& key : object.keys) { ... object.pointer, key.name, key.kind ... }
//   }
//
// Object pointers use "*" for "every element of the array": "/assembly/parts/*".
// Rules that join two keys (scene xor assembly, mass xor density, target_body names a part)
// are listed in kManifestCrossRules and checked after the table.
#ifndef WORKERPAIR_LIBS_SCENE_MANIFEST_SCHEMA_H_
#define WORKERPAIR_LIBS_SCENE_MANIFEST_SCHEMA_H_

#include <span>
#include <string_view>

#include "libs/common/json_kind.h"
#include "libs/common/json_limits.h"

namespace workerpair::scene {

// What a manifest may be as JSON, before the schema: real ones are a few KiB, 4 levels deep.
inline constexpr JsonLimits kManifestJsonLimits{
    .max_bytes = 1u << 20, .max_depth = 32, .max_string_bytes = 4096};

// The rule a value obeys once its type is right.
enum class ValueRule {
  kAny,              // any value of the type
  kVersion,          // equals kManifestVersion
  kNonEmpty,         // a non-empty string
  kPositive,         // a number > 0
  kNonNegative,      // a number >= 0
  kNonNegativeInt,   // an integer >= 0 (seed: up to 2^64-1)
  kTimestep,         // within SceneLimits min_timestep_s .. max_timestep_s
  kCappedDuration,   // > 0; over SceneLimits::max_duration_s is clamped (warning)
  kCappedWidth,      // > 0 and even; over max_width is clamped (warning)
  kCappedHeight,     // > 0 and even; over max_height is clamped (warning)
  kCappedFps,        // > 0; over max_fps is clamped (warning)
  kPartList,         // a non-empty array of at most SceneLimits::max_bodies parts
  kObjectList,       // an array of objects (the elements' own table entry says what)
  kPartName,         // IsValidName, unique among the parts
  kZoneName,         // IsValidName and IsZoneName, unique among the zones
  kMeshPath,         // non-empty, IsMeshFileName (.stl/.obj), a file reference
  kScenePath,        // non-empty, a file reference (the MJCF scene)
  kVector3,          // an array of 3 finite numbers
  kHalfExtents3,     // an array of 3 numbers > 0
  kRgba,             // an array of 4 numbers within 0..1
};

struct SchemaKey {
  std::string_view name;
  json_kind::Kind kind;
  bool required = false;
  ValueRule rule = ValueRule::kAny;
};

struct SchemaObject {
  std::string_view pointer;  // "" the document, "/simulation", "/assembly/parts/*", ...
  std::span<const SchemaKey> keys;
};

// Every object of the schema, parents before children.
std::span<const SchemaObject> ManifestSchema();

// The table entry for the object at `pattern` ("/assembly/parts/*"); nullptr when none.
const SchemaObject* FindSchemaObject(std::string_view pattern);

// Rules over more than one key, in words (documentation and tests; manifest.cc checks them).
inline constexpr std::string_view kManifestCrossRules[] = {
    "exactly one of 'scene' and 'assembly'",
    "a part has at most one of 'mass' and 'density' (neither: density 1000)",
    "with an assembly, 'simulation.target_body' names one of its parts",
};

}  // namespace workerpair::scene

#endif  // WORKERPAIR_LIBS_SCENE_MANIFEST_SCHEMA_H_
