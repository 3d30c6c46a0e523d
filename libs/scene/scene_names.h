// The names and small rules of a scene payload that the linter (worker-light), the controller
// and worker-heavy must agree on, written once:
//
//   if (path.filename() == scene::kManifestFileName) ...
//   if (site.starts_with(scene::kGoalZonePrefix)) ...
//   if (!scene::IsValidName(part_name)) ... scene::kNameRule ...
//   if (!scene::IsEvenVideoSize(width)) ... scene::kEvenVideoSizeRule ...
//
// Header-only, no dependencies beyond the standard library.
#ifndef WORKERPAIR_LIBS_SCENE_SCENE_NAMES_H_
#define WORKERPAIR_LIBS_SCENE_SCENE_NAMES_H_

#include <algorithm>
#include <cstddef>
#include <string_view>

#include "libs/common/ascii.h"

namespace workerpair::scene {

// The manifest's file name at the payload root.
inline constexpr std::string_view kManifestFileName = "manifest.json";

// The manifest schema version this build reads and writes (docs/MANIFEST.md).
inline constexpr int kManifestVersion = 1;

// Prefixes of the MJCF site names (and assembly zone names) that mark goal and forbidden zones.
inline constexpr std::string_view kGoalZonePrefix = "zone_goal";
inline constexpr std::string_view kForbidZonePrefix = "zone_forbid";

// True when `name` marks a goal or a forbidden zone.
inline bool IsZoneName(std::string_view name) {
  return name.starts_with(kGoalZonePrefix) || name.starts_with(kForbidZonePrefix);
}

// Part and zone names: 1 to kMaxNameLength characters from [A-Za-z0-9_-].
inline constexpr std::size_t kMaxNameLength = 100;
inline constexpr std::string_view kNameRule = "1 to 100 characters from [A-Za-z0-9_-]";

inline bool IsValidName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxNameLength &&
         std::all_of(name.begin(), name.end(),
                     [](char c) { return ascii::IsAlnum(c) || c == '_' || c == '-'; });
}

// Mesh files a scene may use: STL (binary or ASCII) and Wavefront OBJ, by extension, any case.
inline bool IsMeshFileName(std::string_view path) {
  return ascii::EndsWithIgnoreCase(path, ".stl") || ascii::EndsWithIgnoreCase(path, ".obj");
}

// Video frames are H.264 4:2:0, whose chroma planes are half the size: width and height even.
inline constexpr std::string_view kEvenVideoSizeRule = "video sizes must be even";

inline constexpr bool IsEvenVideoSize(long long size) { return size % 2 == 0; }

// The largest even size not above `size` (a clamp to an odd cap must not break the rule).
inline constexpr int EvenFloor(int size) { return size - size % 2; }

}  // namespace workerpair::scene

#endif  // WORKERPAIR_LIBS_SCENE_SCENE_NAMES_H_
