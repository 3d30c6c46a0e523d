// The file references of an MJCF scene, and the one rule every path written in a scene obeys.
//
//   MjcfScene scene = LoadMjcfScene("scenes/scene.xml", text, reader);
//   for (const MjcfFileReference& ref : MjcfFileReferences(scene)) {
//     if (auto why = ScenePathProblem(ref.value)) ... refuse: "<mesh file> names 'x', which " + *why
//     ... ref.resolved ...    // "scenes/assets/ramp.stl": where MuJoCo will open it
//   }
//
// What counts as a reference (any element, includes followed): every attribute whose name
// starts with "file" (mesh/hfield/skin file, texture file and fileright...fileback, include
// file), and <compiler meshdir/texturedir/assetdir>. Where MuJoCo 2.2.2 opens them: the main
// file's directory, then the compiler's directory (meshdir for mesh, hfield and skin files,
// texturedir for textures; assetdir sets both; the last <compiler> attribute read wins), then
// the value. worker-heavy refuses the payload on the first reference that breaks the rule
// (Landlock stays the real guard); worker-light's linter reports each with its line and column.
#ifndef WORKERPAIR_LIBS_SCENE_MJCF_REFERENCES_H_
#define WORKERPAIR_LIBS_SCENE_MJCF_REFERENCES_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libs/scene/mjcf_scene.h"

namespace workerpair::scene {

// Why a path written in a scene (an MJCF reference, a manifest's scene or mesh) is refused, as
// a phrase that follows "which" ("is absolute; ..."), or nullopt when it is acceptable: relative,
// no `..` component, no backslash, no NUL, at most 1024 bytes. Such paths cannot leave the
// payload root lexically, whatever directories they are joined to; symlinks are the caller's
// (ConfinePath). An empty value is acceptable here (MuJoCo reads it as "none").
std::optional<std::string> ScenePathProblem(std::string_view value);

enum class MjcfReferenceKind {
  kMeshAsset,     // <mesh|hfield|skin file>: under meshdir
  kTexture,       // <texture file*>: under texturedir
  kInclude,       // <include file>
  kDirectory,     // <compiler meshdir|texturedir|assetdir>
  kOther,         // another file* attribute: relative to the model directory
};

struct MjcfFileReference {
  MjcfReferenceKind kind = MjcfReferenceKind::kOther;
  // The file it is written in, and where.
  std::string path;
  int line = 0;
  int column = 0;
  std::string element;     // "mesh"
  std::string attribute;   // "file"
  std::string value;       // as the XML parser decoded it
  // Root-relative path MuJoCo will open ('/'-joined, not normalised); for a directory, the
  // directory. Meaningful only when the value and the compiler directory obey the rule.
  std::string resolved;
  // The compiler directory joined in front of the value ("" for none).
  std::string directory;
  // Inside a <default> section.
  bool in_default = false;
};

// Every reference of `scene`, in MuJoCo's merged order.
std::vector<MjcfFileReference> MjcfFileReferences(const MjcfScene& scene);

}  // namespace workerpair::scene

#endif  // WORKERPAIR_LIBS_SCENE_MJCF_REFERENCES_H_
