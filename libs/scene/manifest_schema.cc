#include "libs/scene/manifest_schema.h"

#include <array>

namespace workerpair::scene {
namespace {

using json_kind::Kind;
using R = ValueRule;

constexpr SchemaKey kTop[] = {
    {"version", Kind::kInt, true, R::kVersion},
    {"scene", Kind::kString, false, R::kScenePath},
    {"assembly", Kind::kObject},
    {"simulation", Kind::kObject},
    {"render", Kind::kObject},
    {"stress", Kind::kObject},
    {"verify", Kind::kObject},
};

constexpr SchemaKey kSimulation[] = {
    {"duration_s", Kind::kNumber, false, R::kCappedDuration},
    {"timestep_s", Kind::kNumber, false, R::kTimestep},
    {"seed", Kind::kInt, false, R::kNonNegativeInt},
    {"target_body", Kind::kString, false, R::kNonEmpty},
    {"bounds", Kind::kObject},
};

constexpr SchemaKey kBounds[] = {
    {"min_z", Kind::kNumber},
    {"max_abs_xy", Kind::kNumber, false, R::kPositive},
};

constexpr SchemaKey kRender[] = {
    {"enabled", Kind::kBool},
    {"width", Kind::kInt, false, R::kCappedWidth},
    {"height", Kind::kInt, false, R::kCappedHeight},
    {"fps", Kind::kInt, false, R::kCappedFps},
    {"camera", Kind::kString, false, R::kNonEmpty},
};

constexpr SchemaKey kStress[] = {
    {"yield_newtons", Kind::kNumber, false, R::kPositive},
};

constexpr SchemaKey kVerify[] = {
    {"jitter_m", Kind::kNumber, false, R::kNonNegative},
};

constexpr SchemaKey kAssembly[] = {
    {"ground", Kind::kBool},
    {"parts", Kind::kArray, true, R::kPartList},
    {"zones", Kind::kArray, false, R::kObjectList},
};

constexpr SchemaKey kPart[] = {
    {"name", Kind::kString, true, R::kPartName},
    {"mesh", Kind::kString, true, R::kMeshPath},
    {"pos", Kind::kArray, false, R::kVector3},
    {"euler_deg", Kind::kArray, false, R::kVector3},
    {"fixed", Kind::kBool},
    {"mass", Kind::kNumber, false, R::kPositive},
    {"density", Kind::kNumber, false, R::kPositive},
    {"rgba", Kind::kArray, false, R::kRgba},
};

constexpr SchemaKey kZone[] = {
    {"name", Kind::kString, true, R::kZoneName},
    {"pos", Kind::kArray, true, R::kVector3},
    {"size", Kind::kArray, true, R::kHalfExtents3},
};

constexpr SchemaObject kSchema[] = {
    {"", kTop},
    {"/simulation", kSimulation},
    {"/simulation/bounds", kBounds},
    {"/render", kRender},
    {"/stress", kStress},
    {"/verify", kVerify},
    {"/assembly", kAssembly},
    {"/assembly/parts/*", kPart},
    {"/assembly/zones/*", kZone},
};

}  // namespace

std::span<const SchemaObject> ManifestSchema() { return kSchema; }

const SchemaObject* FindSchemaObject(std::string_view pattern) {
  for (const SchemaObject& object : kSchema) {
    if (object.pointer == pattern) return &object;
  }
  return nullptr;
}

}  // namespace workerpair::scene
