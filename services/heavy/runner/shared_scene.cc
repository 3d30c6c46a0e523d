#include "services/heavy/runner/shared_scene.h"

#include <mujoco/mujoco.h>

#include <cstring>
#include <memory>
#include <utility>

#include "libs/common/file_io.h"
#include "libs/common/str_cat.h"
#include "services/heavy/core/scene/manifest.h"
#include "services/heavy/core/scene/mujoco_guard.h"

namespace workerpair::heavy {
namespace {

constexpr char kModelFileName[] = "scene.mjb";

absl::Status Refused(std::string_view what) {
  return absl::InvalidArgumentError(StrCat("the shared scene ", what));
}

// An mjVFS is ~2 MB of file-name slots: on the heap, emptied however the load ends.
struct VfsDeleter {
  void operator()(mjVFS* vfs) const {
    mj_deleteVFS(vfs);
    delete vfs;
  }
};

}  // namespace

internal::SharedScene ExportScene(const job::CompiledScene& scene, std::uint64_t max_bytes) {
  internal::SharedScene shared;
  if (!scene.model) {
    shared.set_declined("no model");
    return shared;
  }
  if (scene.manifest_json.empty()) {
    shared.set_declined("no manifest text kept with the model");
    return shared;
  }
  scene::InstallMujocoHandlers();
  const int model_bytes = mj_sizeModel(scene.model.get());
  std::uint64_t total = static_cast<std::uint64_t>(model_bytes > 0 ? model_bytes : 0) +
                        scene.manifest_json.size() + scene.generated_mjcf.size();
  for (const std::string& warning : scene.warnings) total += warning.size();
  if (model_bytes <= 0 || total > max_bytes) {
    shared.set_declined(StrCat("the scene takes ", total, " bytes, more than the ", max_bytes,
                               " a shared scene may"));
    return shared;
  }
  std::string buffer(static_cast<std::size_t>(model_bytes), '\0');
  absl::Status saved = scene::GuardMujoco("mj_saveModel", [&] {
    mj_saveModel(scene.model.get(), nullptr, buffer.data(), model_bytes);
  });
  if (!saved.ok()) {
    shared.set_declined(std::string(saved.message()));
    return shared;
  }
  shared.set_model_mjb(std::move(buffer));
  shared.set_manifest_json(scene.manifest_json);
  for (const std::string& warning : scene.warnings) shared.add_warnings(warning);
  shared.set_generated_mjcf(scene.generated_mjcf);
  return shared;
}

absl::StatusOr<job::CompiledScene> ImportScene(const std::filesystem::path& pack,
                                               const std::string& sha256,
                                               const job::JobLimits& limits,
                                               std::uint64_t max_bytes) {
  absl::StatusOr<std::string> bytes = ReadFileCapped(pack, kSharedSceneFileName, max_bytes);
  if (!bytes.ok()) return Refused(StrCat("cannot be read: ", std::string(bytes.status().message())));
  internal::SharedScene shared;
  if (!shared.ParseFromString(*bytes)) return Refused("does not parse");
  bytes->clear();
  if (shared.model_mjb().empty() || shared.model_mjb().size() > (1u << 31) - 1) {
    return Refused("holds no model");
  }
  absl::StatusOr<scene::Manifest> manifest =
      scene::ParseManifest(shared.manifest_json(), limits.scene);
  if (!manifest.ok()) return Refused(StrCat("has a manifest that does not parse: ",
                                            std::string(manifest.status().message())));

  scene::InstallMujocoHandlers();
  std::unique_ptr<mjVFS, VfsDeleter> vfs(new mjVFS);
  mj_defaultVFS(vfs.get());
  const int size = static_cast<int>(shared.model_mjb().size());
  if (mj_makeEmptyFileVFS(vfs.get(), kModelFileName, size) != 0) {
    return absl::ResourceExhaustedError("cannot make room for the shared scene");
  }
  const int index = mj_findFileVFS(vfs.get(), kModelFileName);
  if (index < 0 || vfs->filedata[index] == nullptr) {
    return absl::ResourceExhaustedError("cannot make room for the shared scene");
  }
  std::memcpy(vfs->filedata[index], shared.model_mjb().data(), shared.model_mjb().size());
  shared.clear_model_mjb();
  mjModel* model = nullptr;
  absl::Status loaded = scene::GuardMujoco(
      "mj_loadModel", [&] { model = mj_loadModel(kModelFileName, vfs.get()); },
      absl::StatusCode::kInvalidArgument);
  scene::TakeMujocoWarnings();  // a refused model warns; the status below says it
  if (!loaded.ok()) return Refused(StrCat("does not load: ", std::string(loaded.message())));
  if (model == nullptr) return Refused("does not load");

  job::CompiledScene scene;
  scene.sha256 = sha256;
  scene.model.reset(model);
  scene.manifest = std::move(*manifest);
  scene.warnings.assign(shared.warnings().begin(), shared.warnings().end());
  scene.generated_mjcf = shared.generated_mjcf();
  scene.manifest_json = shared.manifest_json();
  return scene;
}

}  // namespace workerpair::heavy
