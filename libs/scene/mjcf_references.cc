#include "libs/scene/mjcf_references.h"

#include "libs/common/str_cat.h"

namespace workerpair::scene {
namespace {

// Longest path accepted in a scene, as ConfinePath's default.
constexpr std::size_t kMaxScenePathBytes = 1024;

// <compiler> directories as MuJoCo reads them: every <compiler> before any asset, attribute by
// attribute in a fixed order (assetdir sets both, then meshdir and texturedir override).
struct CompilerDirs {
  std::string meshdir;
  std::string texturedir;

  void Read(const XmlElement& compiler) {
    if (auto v = compiler.Attribute("assetdir")) meshdir = texturedir = std::string(*v);
    if (auto v = compiler.Attribute("meshdir")) meshdir = std::string(*v);
    if (auto v = compiler.Attribute("texturedir")) texturedir = std::string(*v);
  }
};

bool IsCompilerDirectory(std::string_view attribute) {
  return attribute == "meshdir" || attribute == "texturedir" || attribute == "assetdir";
}

}  // namespace

std::optional<std::string> ScenePathProblem(std::string_view value) {
  if (value.size() > kMaxScenePathBytes) {
    return StrCat("is longer than ", kMaxScenePathBytes, " bytes");
  }
  if (value.find('\0') != std::string_view::npos) return "contains a NUL byte";
  if (value.find('\\') != std::string_view::npos) {
    return "contains '\\'; use a plain relative path with '/'";
  }
  if (!value.empty() && value.front() == '/') {
    return "is absolute; paths are relative to the payload root";
  }
  for (std::size_t begin = 0; begin <= value.size();) {
    std::size_t end = value.find('/', begin);
    if (end == std::string_view::npos) end = value.size();
    if (value.substr(begin, end - begin) == "..") {
      return "climbs with '..'; paths stay inside the payload";
    }
    begin = end + 1;
  }
  return std::nullopt;
}

std::vector<MjcfFileReference> MjcfFileReferences(const MjcfScene& scene) {
  CompilerDirs dirs;
  VisitMjcf(scene, [&](const MjcfVisit& v) {
    if (v.element->name == "compiler") dirs.Read(*v.element);
  });
  std::vector<MjcfFileReference> found;
  VisitMjcf(scene, [&](const MjcfVisit& v) {
    const XmlElement& e = *v.element;
    for (const auto& [attribute, value] : e.attributes) {
      MjcfFileReference ref;
      if (e.name == "compiler" && IsCompilerDirectory(attribute)) {
        ref.kind = MjcfReferenceKind::kDirectory;
        ref.resolved = JoinScenePath(scene.model_dir, value);
      } else if (attribute.starts_with("file")) {
        std::string_view dir;
        if (e.name == "include") {
          ref.kind = MjcfReferenceKind::kInclude;
        } else if (e.name == "mesh" || e.name == "hfield" || e.name == "skin") {
          ref.kind = MjcfReferenceKind::kMeshAsset;
          dir = dirs.meshdir;
        } else if (e.name == "texture") {
          ref.kind = MjcfReferenceKind::kTexture;
          dir = dirs.texturedir;
        }
        ref.directory = std::string(dir);
        ref.resolved = JoinScenePath(JoinScenePath(scene.model_dir, dir), value);
      } else {
        continue;
      }
      ref.path = v.document->path;
      ref.line = e.line;
      ref.column = e.column;
      ref.element = e.name;
      ref.attribute = attribute;
      ref.value = value;
      ref.in_default = v.in_default;
      found.push_back(std::move(ref));
    }
  });
  return found;
}

}  // namespace workerpair::scene
