#include "services/heavy/core/scene/scene_loader.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <exception>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "libs/common/error_reason.h"
#include "libs/common/file_io.h"
#include "libs/common/path_confinement.h"
#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "services/heavy/core/scene/mjcf_writer.h"
#include "services/heavy/core/scene/mujoco_guard.h"

namespace workerpair::heavy {
namespace {

namespace fs = std::filesystem;

// Largest MJCF file (the scene or one it includes) LoadScene reads to check its references.
constexpr std::uint64_t kMaxMjcfBytes = 32 << 20;
// Deepest chain of <include> files followed.
constexpr int kMaxIncludeDepth = 8;

// mj_loadXML keeps parser state in globals in some MuJoCo versions: one compile at a time.
std::mutex& LoadMutex() {
  static std::mutex mutex;
  return mutex;
}

// Removes the scratch directory's absolute path from a MuJoCo message.
std::string Sanitize(std::string message, const fs::path& scratch_dir) {
  for (std::string prefix : {scratch_dir.string() + "/", scratch_dir.string()}) {
    for (std::size_t at = message.find(prefix); at != std::string::npos;
         at = message.find(prefix, at)) {
      message.erase(at, prefix.size());
    }
  }
  // Trailing newlines from MuJoCo's buffers.
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

// One attribute of one element in an XML text.
struct XmlAttribute {
  std::string element;
  std::string name;
  std::string value;
};

// A lenient scan of every element's attributes (comments, declarations and closing tags
// skipped). Enough to find file references; MuJoCo itself parses the file properly.
std::vector<XmlAttribute> ScanAttributes(std::string_view xml) {
  std::vector<XmlAttribute> found;
  auto is_name = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':' || c == '-' ||
           c == '.';
  };
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  std::size_t i = 0;
  while ((i = xml.find('<', i)) != std::string_view::npos) {
    if (xml.substr(i, 4) == "<!--") {
      const std::size_t end = xml.find("-->", i + 4);
      if (end == std::string_view::npos) break;
      i = end + 3;
      continue;
    }
    if (i + 1 < xml.size() && (xml[i + 1] == '?' || xml[i + 1] == '!' || xml[i + 1] == '/')) {
      i = xml.find('>', i);
      if (i == std::string_view::npos) break;
      continue;
    }
    ++i;
    std::size_t start = i;
    while (i < xml.size() && is_name(xml[i])) ++i;
    const std::string element(xml.substr(start, i - start));
    // Attributes until '>'.
    while (i < xml.size()) {
      while (i < xml.size() && is_space(xml[i])) ++i;
      if (i >= xml.size() || xml[i] == '>' || xml[i] == '/') break;
      start = i;
      while (i < xml.size() && is_name(xml[i])) ++i;
      std::string name(xml.substr(start, i - start));
      while (i < xml.size() && is_space(xml[i])) ++i;
      if (i >= xml.size() || xml[i] != '=' || name.empty()) break;
      ++i;
      while (i < xml.size() && is_space(xml[i])) ++i;
      if (i >= xml.size() || (xml[i] != '"' && xml[i] != '\'')) break;
      const char quote = xml[i++];
      const std::size_t end = xml.find(quote, i);
      if (end == std::string_view::npos) return found;
      found.push_back({element, std::move(name), std::string(xml.substr(i, end - i))});
      i = end + 1;
    }
  }
  return found;
}

// Occurrences of the element `<name` (followed by a space, '/' or '>') outside comments.
int CountElements(std::string_view xml, std::string_view name) {
  int count = 0;
  std::size_t i = 0;
  while ((i = xml.find('<', i)) != std::string_view::npos) {
    if (xml.substr(i, 4) == "<!--") {
      const std::size_t end = xml.find("-->", i + 4);
      if (end == std::string_view::npos) break;
      i = end + 3;
      continue;
    }
    ++i;
    if (xml.substr(i, name.size()) == name && i + name.size() < xml.size()) {
      const char next = xml[i + name.size()];
      if (next == ' ' || next == '/' || next == '>' || next == '\t' || next == '\n' ||
          next == '\r') {
        ++count;
      }
    }
  }
  return count;
}

bool IsPathAttribute(std::string_view name) {
  return name.starts_with("file") || name == "meshdir" || name == "texturedir" ||
         name == "assetdir";
}

// A referenced path must be relative, plain (no character references or backslashes) and
// never climb: then no combination of them leaves the scratch directory lexically, and
// ConfinePath refuses symlinks pointing out.
absl::Status CheckReference(const fs::path& scratch_dir, std::string_view where,
                            std::string_view value) {
  auto refuse = [&](std::string_view why) {
    return absl::InvalidArgumentError(StrCat(where, " names '", value, "', which ", why));
  };
  if (value.empty()) return absl::OkStatus();
  if (value.find('&') != std::string_view::npos || value.find('\\') != std::string_view::npos) {
    return refuse("contains '&' or '\\'; use a plain relative path");
  }
  if (value.front() == '/') return refuse("is absolute; paths are relative to the payload root");
  std::size_t begin = 0;
  while (begin <= value.size()) {
    std::size_t end = value.find('/', begin);
    if (end == std::string_view::npos) end = value.size();
    if (value.substr(begin, end - begin) == "..") return refuse("climbs with '..'");
    begin = end + 1;
  }
  if (!ConfinePath(scratch_dir, value, {.allow_root = true}).ok()) {
    return refuse("leaves the payload");
  }
  return absl::OkStatus();
}

// A <size> attribute over its cap, read from the text: mj_loadXML itself allocates a trial
// mjData while compiling, so the caps must hold before MuJoCo sees the file.
absl::Status CheckSizeAttribute(std::string_view where, const XmlAttribute& attribute,
                                const SceneLimits& limits) {
  long long value = 0;
  try {
    value = std::stoll(attribute.value);
  } catch (const std::exception&) {
    return absl::OkStatus();  // not a number: MuJoCo's parser reports it
  }
  auto over = [&](std::string_view limit, long long cap) {
    return absl::ResourceExhaustedError(StrCat(where, ": the scene asks for ", attribute.name,
                                               " ", value, ", over the limit ", limit, "=", cap));
  };
  if (attribute.name == "njmax" && value > limits.max_njmax) {
    return over("max_njmax", limits.max_njmax);
  }
  if (attribute.name == "nconmax" && value > limits.max_nconmax) {
    return over("max_nconmax", limits.max_nconmax);
  }
  if (attribute.name == "nstack" && value > kMaxStackBytes / static_cast<long long>(sizeof(mjtNum))) {
    return over("max_stack_bytes/8", kMaxStackBytes / static_cast<long long>(sizeof(mjtNum)));
  }
  return absl::OkStatus();
}

// Checks every path `relative` (an MJCF file) and the files it includes refer to, and the
// sizes and body count they ask for (`bodies` counts <body> elements across the files).
absl::Status CheckMjcfReferences(const fs::path& scratch_dir, const std::string& relative,
                                 int depth, const SceneLimits& limits, int* bodies) {
  if (depth > kMaxIncludeDepth) {
    return absl::InvalidArgumentError(StrCat("'", relative, "': <include> nested deeper than ",
                                             kMaxIncludeDepth));
  }
  WP_ASSIGN_OR_RETURN(fs::path file, ConfinePath(scratch_dir, relative));
  WP_ASSIGN_OR_RETURN(std::string text, ReadFileCapped(file, relative, kMaxMjcfBytes));
  *bodies += CountElements(text, "body");
  if (*bodies > limits.max_bodies) {
    return absl::ResourceExhaustedError(StrCat("'", relative, "': the scene has more than ",
                                               limits.max_bodies,
                                               " bodies, over the limit max_bodies=",
                                               limits.max_bodies));
  }
  for (const XmlAttribute& attribute : ScanAttributes(text)) {
    if (attribute.element == "size") {
      WP_RETURN_IF_ERROR(CheckSizeAttribute(StrCat("'", relative, "': <size>"), attribute, limits));
    }
    if (!IsPathAttribute(attribute.name)) continue;
    const std::string where =
        StrCat("'", relative, "': <", attribute.element, " ", attribute.name, ">");
    WP_RETURN_IF_ERROR(CheckReference(scratch_dir, where, attribute.value));
    if (attribute.element == "include" && attribute.name == "file") {
      WP_RETURN_IF_ERROR(
          CheckMjcfReferences(scratch_dir, attribute.value, depth + 1, limits, bodies));
    }
  }
  return absl::OkStatus();
}

// The manifest's reference `value` (at key `key`) as an existing regular file in the scratch
// directory.
absl::StatusOr<fs::path> PayloadFile(const fs::path& scratch_dir, std::string_view key,
                                     const std::string& value) {
  WP_RETURN_IF_ERROR(CheckReference(scratch_dir, StrCat("'", key, "'"), value));
  absl::StatusOr<fs::path> file = ConfinePath(scratch_dir, value);
  if (!file.ok()) {
    return absl::InvalidArgumentError(StrCat("'", key, "' names '", value,
                                             "', which is not a valid payload path"));
  }
  std::error_code ec;
  const fs::file_status status = fs::symlink_status(*file, ec);
  if (ec || !fs::exists(status)) {
    return absl::InvalidArgumentError(StrCat("'", key, "' names '", value,
                                             "', which is not in the payload"));
  }
  if (!fs::is_regular_file(status)) {
    return absl::InvalidArgumentError(StrCat("'", key, "' names '", value,
                                             "', which is not a regular file"));
  }
  return *file;
}

absl::Status CheckCaps(const mjModel* m, const SceneLimits& limits) {
  if (m->njmax > limits.max_njmax) {
    return absl::ResourceExhaustedError(StrCat("the scene asks for njmax ", m->njmax,
                                               ", over the limit max_njmax=", limits.max_njmax));
  }
  if (m->nconmax > limits.max_nconmax) {
    return absl::ResourceExhaustedError(StrCat("the scene asks for nconmax ", m->nconmax,
                                               ", over the limit max_nconmax=",
                                               limits.max_nconmax));
  }
  if (m->nbody - 1 > limits.max_bodies) {
    return absl::ResourceExhaustedError(StrCat("the scene has ", m->nbody - 1,
                                               " bodies, over the limit max_bodies=",
                                               limits.max_bodies));
  }
  const std::int64_t stack_bytes = std::int64_t{m->nstack} * std::int64_t{sizeof(mjtNum)};
  if (stack_bytes > kMaxStackBytes) {
    return absl::ResourceExhaustedError(StrCat("the scene asks for a stack of ", stack_bytes,
                                               " bytes (nstack ", m->nstack,
                                               "), over the limit of ", kMaxStackBytes));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LoadedScene> LoadScene(const fs::path& scratch_dir, const Manifest& manifest,
                                      const SceneLimits& limits) {
  InstallMujocoHandlers();
  LoadedScene scene;

  // The MJCF to compile: the manifest's file, or one written from the assembly.
  if (manifest.assembly) {
    for (std::size_t i = 0; i < manifest.assembly->parts.size(); ++i) {
      const AssemblyPart& part = manifest.assembly->parts[i];
      WP_RETURN_IF_ERROR(
          PayloadFile(scratch_dir, StrCat("assembly.parts[", i, "].mesh"), part.mesh).status());
    }
    scene.scene_file = kGeneratedSceneFileName;
    const absl::Status written = WriteFileAtomically(
        scratch_dir / kGeneratedSceneFileName,
        AssemblyToMjcf(*manifest.assembly, manifest, limits), {}, kGeneratedSceneFileName);
    if (!written.ok()) {
      return absl::InternalError(StrCat("could not write the assembly's MJCF: ",
                                        std::string(written.message())));
    }
  } else {
    WP_RETURN_IF_ERROR(PayloadFile(scratch_dir, "scene", manifest.scene).status());
    scene.scene_file = manifest.scene;
  }
  {
    int bodies = 0;
    const absl::Status checked =
        CheckMjcfReferences(scratch_dir, scene.scene_file, 0, limits, &bodies);
    if (checked.code() == absl::StatusCode::kResourceExhausted) return checked;
    // The scan's own refusals (PAYLOAD_INVALID attached): textual, they tell nothing about the
    // host, so a caller may see the path it wrote.
    if (!checked.ok()) {
      return WithReason(absl::InvalidArgumentError(checked.message()),
                        ErrorReason::kPayloadInvalid);
    }
  }

  // Compile. mj_loadXML reports parse and compile errors in `error`; anything that reaches
  // mju_error arrives as MujocoError.
  const fs::path file = scratch_dir / scene.scene_file;
  std::array<char, 1024> error{};
  mjModel* raw = nullptr;
  TakeMujocoWarnings();
  try {
    std::lock_guard<std::mutex> lock(LoadMutex());
    raw = mj_loadXML(file.c_str(), nullptr, error.data(), static_cast<int>(error.size()));
  } catch (const MujocoError& e) {
    return absl::InvalidArgumentError(
        StrCat("MuJoCo could not load '", scene.scene_file, "': ", Sanitize(e.what(), scratch_dir)));
  }
  scene.warnings = TakeMujocoWarnings();
  for (std::string& warning : scene.warnings) warning = Sanitize(warning, scratch_dir);
  if (raw == nullptr) {
    return absl::InvalidArgumentError(StrCat("MuJoCo could not load '", scene.scene_file, "': ",
                                             Sanitize(error.data(), scratch_dir)));
  }
  scene.model.reset(raw);
  if (error[0] != '\0') scene.warnings.push_back(Sanitize(error.data(), scratch_dir));

  // Caps before anything allocates mjData.
  WP_RETURN_IF_ERROR(CheckCaps(raw, limits));

  // The manifest's overrides.
  if (manifest.simulation.timestep_s) raw->opt.timestep = *manifest.simulation.timestep_s;
  raw->vis.global.offwidth = std::max(raw->vis.global.offwidth, manifest.render.width);
  raw->vis.global.offheight = std::max(raw->vis.global.offheight, manifest.render.height);
  return scene;
}

absl::StatusOr<MjDataPtr> MakeData(const mjModel* model) {
  InstallMujocoHandlers();
  MjDataPtr data;
  try {
    data.reset(mj_makeData(model));
  } catch (const MujocoError& e) {
    return absl::ResourceExhaustedError(StrCat("MuJoCo could not allocate mjData: ", e.what()));
  }
  if (!data) return absl::ResourceExhaustedError("MuJoCo could not allocate mjData");
  WP_RETURN_IF_ERROR(GuardMujoco("mj_forward on the initial state", [&] {
    mj_resetData(model, data.get());
    mj_forward(model, data.get());
  }));
  return data;
}

SceneStats BuildSceneStats(const mjModel* m) {
  SceneStats stats;
  stats.nbody = m->nbody;
  stats.ngeom = m->ngeom;
  stats.njnt = m->njnt;
  stats.nq = m->nq;
  stats.nv = m->nv;
  stats.nu = m->nu;
  stats.nmesh = m->nmesh;
  stats.nsite = m->nsite;
  stats.ncam = m->ncam;
  stats.nlight = m->nlight;
  stats.njmax = m->njmax;
  stats.nconmax = m->nconmax;
  stats.nstack = m->nstack;
  stats.timestep_s = m->opt.timestep;
  stats.model_bytes = m->nbuffer;
  stats.data_bytes = std::int64_t{m->nstack} * std::int64_t{sizeof(mjtNum)};
  for (int i = 0; i < m->nsite; ++i) {
    const char* name = mj_id2name(m, mjOBJ_SITE, i);
    if (name == nullptr) continue;
    const std::string_view site(name);
    if (site.starts_with(kGoalZonePrefix)) stats.goal_zones.emplace_back(site);
    if (site.starts_with(kForbidZonePrefix)) stats.forbid_zones.emplace_back(site);
  }
  for (int b = 1; b < m->nbody; ++b) {
    if (m->body_jntnum[b] > 0 && m->jnt_type[m->body_jntadr[b]] == mjJNT_FREE) {
      const char* name = mj_id2name(m, mjOBJ_BODY, b);
      stats.free_bodies.push_back(name != nullptr ? std::string(name) : StrCat("body", b));
    }
  }
  return stats;
}

}  // namespace workerpair::heavy
