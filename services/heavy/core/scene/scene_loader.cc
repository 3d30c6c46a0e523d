#include "services/heavy/core/scene/scene_loader.h"

#include <algorithm>
#include <array>
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
#include "libs/common/text_preview.h"
#include "libs/scene/mesh_reader.h"
#include "libs/scene/mjcf_references.h"
#include "libs/scene/mjcf_scene.h"
#include "libs/scene/mjcf_zones.h"
#include "libs/scene/scene_names.h"
#include "services/heavy/core/scene/mjcf_writer.h"
#include "services/heavy/core/scene/mujoco_guard.h"

namespace workerpair::heavy::scene {
namespace {

namespace fs = std::filesystem;

// Largest MJCF file (the scene or one it includes) LoadScene reads to check its references.
constexpr std::uint64_t kMaxMjcfBytes = 32 << 20;

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

// A referenced path must obey the scene contract's path rule (relative, no `..`, no backslash:
// then no combination of them leaves the scratch directory lexically), and ConfinePath refuses
// symlinks pointing out.
absl::Status CheckReference(const fs::path& scratch_dir, std::string_view where,
                            std::string_view value, std::string_view resolved) {
  if (value.empty()) return absl::OkStatus();
  if (std::optional<std::string> why = scene::ScenePathProblem(value)) {
    return absl::InvalidArgumentError(
        StrCat(where, " names '", TextPreview(value), "', which ", *why));
  }
  if (!ConfinePath(scratch_dir, resolved, {.allow_root = true}).ok()) {
    return absl::InvalidArgumentError(
        StrCat(where, " names '", TextPreview(value), "', which leaves the payload"));
  }
  return absl::OkStatus();
}

// A <size> value over its cap: mj_loadXML itself allocates a trial mjData while compiling, so
// the caps must hold before MuJoCo sees the file. A value that is not a number is left to
// MuJoCo's parser.
absl::Status CheckSizeElement(std::string_view where, const scene::XmlElement& size,
                              const SceneLimits& limits) {
  const long long max_nstack = kMaxStackBytes / static_cast<long long>(sizeof(mjtNum));
  const std::pair<const char*, std::pair<const char*, long long>> caps[] = {
      {"njmax", {"max_njmax", limits.max_njmax}},
      {"nconmax", {"max_nconmax", limits.max_nconmax}},
      {"nstack", {"max_stack_bytes/8", max_nstack}}};
  for (const auto& [key, cap] : caps) {
    const std::optional<std::string_view> text = size.Attribute(key);
    if (!text) continue;
    long long value = 0;
    try {
      value = std::stoll(std::string(*text));
    } catch (const std::exception&) {
      continue;
    }
    if (value > cap.second) {
      return absl::ResourceExhaustedError(StrCat(where, ": the scene asks for ", key, " ", value,
                                                 ", over the limit ", cap.first, "=", cap.second));
    }
  }
  return absl::OkStatus();
}

// "'scene.xml': <mesh file>", where a reference is written.
std::string Where(const scene::MjcfFileReference& ref) {
  return StrCat("'", ref.path, "': <", ref.element, " ", ref.attribute, ">");
}

// Reads a file of the scene for the MJCF scan: inside the scratch directory, regular, capped.
scene::MjcfFileReader ScratchReader(const fs::path& scratch_dir) {
  return [&scratch_dir](const std::string& relative) -> absl::StatusOr<std::string> {
    WP_ASSIGN_OR_RETURN(fs::path file, ConfinePath(scratch_dir, relative));
    std::error_code ec;
    if (!fs::is_regular_file(fs::symlink_status(file, ec))) {
      return absl::InvalidArgumentError(StrCat("'", relative, "' is not a regular file in the payload"));
    }
    return ReadFileCapped(file, relative, kMaxMjcfBytes);
  };
}

// A mesh file the scene names, read as the scene contract reads meshes (libs/scene/mesh_reader.h,
// as worker-light's linter does) and held to MuJoCo 2.2.2's own rules: MuJoCo reads OBJ faces
// without checking their indices, and binary STL only.
absl::Status CheckMeshAsset(const fs::path& scratch_dir, std::string_view where,
                            const scene::MjcfFileReference& ref) {
  if (!scene::IsMeshFileName(ref.resolved)) return absl::OkStatus();
  absl::StatusOr<fs::path> file = ConfinePath(scratch_dir, ref.resolved);
  std::error_code ec;
  if (!file.ok() || !fs::is_regular_file(fs::symlink_status(*file, ec))) {
    return absl::InvalidArgumentError(StrCat(where, " names '", TextPreview(ref.value),
                                             "', which is not a file in the payload (looked for '",
                                             TextPreview(ref.resolved), "')"));
  }
  const scene::MeshReadLimits limits;
  WP_ASSIGN_OR_RETURN(std::string bytes, ReadFileCapped(*file, ref.resolved, limits.max_file_bytes));
  WP_ASSIGN_OR_RETURN(std::optional<scene::MeshProblem> problem,
                      scene::FirstMeshProblem(ref.resolved, bytes, limits));
  if (problem) {
    const std::string message =
        StrCat(where, ": ", scene::MeshProblemText(ref.resolved, *problem));
    return scene::IsMeshLimit(problem->code) ? absl::ResourceExhaustedError(message)
                                             : absl::InvalidArgumentError(message);
  }
  if (std::optional<std::string> why =
          scene::MujocoMeshProblem(ref.resolved, bytes, bytes.size())) {
    return absl::InvalidArgumentError(
        StrCat(where, ": '", TextPreview(ref.resolved), "' ", *why));
  }
  return absl::OkStatus();
}

// Checks the scene `relative` (an MJCF file) with every file it includes, as the scene
// contract reads MJCF (libs/scene/mjcf_scene.h): each file well-formed, every path reference
// obeying the path rule, and the sizes and body count it asks for within the caps.
// INVALID_ARGUMENT for the first broken rule, RESOURCE_EXHAUSTED for a cap.
absl::Status CheckMjcfReferences(const fs::path& scratch_dir, const std::string& relative,
                                 const SceneLimits& limits) {
  const scene::MjcfFileReader reader = ScratchReader(scratch_dir);
  WP_ASSIGN_OR_RETURN(std::string text, reader(relative));
  const scene::MjcfScene scene = scene::LoadMjcfScene(relative, text, reader);
  if (!scene.problems.empty()) {
    const scene::MjcfProblem& p = scene.problems.front();
    return absl::InvalidArgumentError(
        StrCat("'", p.path, "' line ", p.line, ", column ", p.column, ": ", p.message));
  }
  const std::vector<scene::MjcfFileReference> references = scene::MjcfFileReferences(scene);
  for (const scene::MjcfFileReference& ref : references) {
    WP_RETURN_IF_ERROR(CheckReference(scratch_dir, Where(ref), ref.value, ref.resolved));
  }
  // Only once every path is known to stay inside: the meshes themselves.
  for (const scene::MjcfFileReference& ref : references) {
    if (ref.element == "mesh" && ref.attribute == "file" && !ref.in_default &&
        !ref.value.empty()) {
      WP_RETURN_IF_ERROR(CheckMeshAsset(scratch_dir, Where(ref), ref));
    }
  }
  absl::Status status;
  int bodies = 0;
  scene::VisitMjcf(scene, [&](const scene::MjcfVisit& v) {
    if (!status.ok() || v.in_default) return;
    if (v.element->name == "body") ++bodies;
    if (v.element->name == "site") {
      const std::vector<scene::ZoneProblem> zone = scene::ZoneSiteProblems(*v.element);
      if (!zone.empty()) {
        status = absl::InvalidArgumentError(StrCat("'", v.document->path, "' line ",
                                                   v.element->line, ": ", zone[0].message));
      }
    }
    if (v.element->name == "size") {
      status = CheckSizeElement(StrCat("'", v.document->path, "': <size>"), *v.element, limits);
    }
  });
  WP_RETURN_IF_ERROR(status);
  if (bodies > limits.max_bodies) {
    return absl::ResourceExhaustedError(StrCat("'", relative, "': the scene has ", bodies,
                                               " bodies, over the limit max_bodies=",
                                               limits.max_bodies));
  }
  return absl::OkStatus();
}

// The manifest's reference `value` (at key `key`) as an existing regular file in the scratch
// directory.
absl::StatusOr<fs::path> PayloadFile(const fs::path& scratch_dir, std::string_view key,
                                     const std::string& value) {
  WP_RETURN_IF_ERROR(CheckReference(scratch_dir, StrCat("'", key, "'"), value, value));
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
    const absl::Status checked = CheckMjcfReferences(scratch_dir, scene.scene_file, limits);
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

}  // namespace workerpair::heavy::scene
