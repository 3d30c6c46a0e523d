// A compiled scene handed from one runner to another (services/heavy/runner/shared_scene.h):
// what comes back from ExportScene -> bytes -> ImportScene is the very model the compile
// produced (byte for byte in MuJoCo's binary format, and step for step), with the payload's
// manifest and warnings; a scene over the size bound is declined; bytes that are not a scene
// (garbage, a truncated model, a bad manifest, too many bytes) are refused with an error, never
// a crash, so the runner compiles instead.
#include "services/heavy/runner/shared_scene.h"

#include <catch2/catch.hpp>
#include <mujoco/mujoco.h>

#include <fstream>
#include <string>

#include "libs/common/file_io.h"
#include "services/heavy/core/scene/manifest.h"
#include "services/heavy/core/scene/scene_loader.h"
#include "tests/heavy/scene/scratch_dir.h"

namespace workerpair::heavy {
namespace {

using workerpair::testing::ScratchDir;

constexpr std::uint64_t kMax = 64 << 20;
const std::string kDigest(64, 'a');

std::string ModelBytes(const mjModel* model) {
  std::string bytes(static_cast<std::size_t>(mj_sizeModel(model)), '\0');
  mj_saveModel(model, nullptr, bytes.data(), static_cast<int>(bytes.size()));
  return bytes;
}

// The example scene compiled as a runner compiles it, with its manifest text kept.
job::CompiledScene Compiled(const ScratchDir& scratch) {
  absl::StatusOr<std::string> text =
      ReadFileCapped(scratch.path() / "manifest.json", "manifest.json", 1 << 20);
  REQUIRE(text.ok());
  absl::StatusOr<scene::Manifest> manifest = scene::ParseManifest(*text, SceneLimits{});
  REQUIRE(manifest.ok());
  absl::StatusOr<scene::LoadedScene> loaded =
      scene::LoadScene(scratch.path(), *manifest, SceneLimits{});
  REQUIRE(loaded.ok());
  job::CompiledScene scene;
  scene.sha256 = kDigest;
  scene.model = std::move(loaded->model);
  scene.manifest = *manifest;
  scene.warnings = {"a compiler warning"};
  scene.manifest_json = *text;
  return scene;
}

void Write(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST_CASE("A shared scene loads as the very model its compile produced") {
  auto scratch = ScratchDir::WithExample("ramp_goal");
  const job::CompiledScene compiled = Compiled(*scratch);
  const internal::SharedScene shared = ExportScene(compiled, kMax);
  REQUIRE(shared.declined().empty());
  REQUIRE_FALSE(shared.model_mjb().empty());
  const std::filesystem::path pack = scratch->path() / kSharedSceneFileName;
  Write(pack, shared.SerializeAsString());

  absl::StatusOr<job::CompiledScene> loaded = ImportScene(pack, kDigest, job::JobLimits{}, kMax);
  INFO(loaded.status().ToString());
  REQUIRE(loaded.ok());
  CHECK(loaded->sha256 == kDigest);
  CHECK(ModelBytes(loaded->model.get()) == ModelBytes(compiled.model.get()));
  CHECK(loaded->warnings == compiled.warnings);
  CHECK(loaded->manifest_json == compiled.manifest_json);
  CHECK(loaded->manifest.simulation.duration_s == compiled.manifest.simulation.duration_s);
  CHECK(loaded->manifest.simulation.target_body == compiled.manifest.simulation.target_body);

  // Step for step the same.
  mjData* a = mj_makeData(compiled.model.get());
  mjData* b = mj_makeData(loaded->model.get());
  for (int i = 0; i < 200; ++i) {
    mj_step(compiled.model.get(), a);
    mj_step(loaded->model.get(), b);
  }
  const int nq = compiled.model->nq;
  CHECK(std::equal(a->qpos, a->qpos + nq, b->qpos));
  mj_deleteData(a);
  mj_deleteData(b);
}

TEST_CASE("A scene over the bound is declined, not cut") {
  auto scratch = ScratchDir::WithExample("ramp_goal");
  const job::CompiledScene compiled = Compiled(*scratch);
  const internal::SharedScene shared = ExportScene(compiled, 1024);
  CHECK_FALSE(shared.declined().empty());
  CHECK(shared.model_mjb().empty());
  job::CompiledScene no_text = Compiled(*scratch);
  no_text.manifest_json.clear();
  CHECK_FALSE(ExportScene(no_text, kMax).declined().empty());
}

TEST_CASE("Bytes that are not a shared scene are refused, never loaded") {
  auto scratch = ScratchDir::WithExample("ramp_goal");
  const job::CompiledScene compiled = Compiled(*scratch);
  const internal::SharedScene good = ExportScene(compiled, kMax);
  REQUIRE(good.declined().empty());
  const std::filesystem::path pack = scratch->path() / kSharedSceneFileName;
  auto refused = [&](const std::string& bytes, std::uint64_t max = kMax) {
    Write(pack, bytes);
    absl::StatusOr<job::CompiledScene> loaded = ImportScene(pack, kDigest, job::JobLimits{}, max);
    INFO(loaded.status().ToString());
    return !loaded.ok() && absl::IsInvalidArgument(loaded.status());
  };
  CHECK(refused(std::string(4096, '\xff')));  // not a message
  internal::SharedScene truncated = good;
  truncated.set_model_mjb(good.model_mjb().substr(0, good.model_mjb().size() / 2));
  CHECK(refused(truncated.SerializeAsString()));
  internal::SharedScene garbled = good;
  std::string model = good.model_mjb();
  for (std::size_t i = 0; i < 64 && i < model.size(); ++i) model[i] = static_cast<char>(0xff);
  garbled.set_model_mjb(model);
  CHECK(refused(garbled.SerializeAsString()));
  internal::SharedScene bad_manifest = good;
  bad_manifest.set_manifest_json("{\"version\": ");
  CHECK(refused(bad_manifest.SerializeAsString()));
  internal::SharedScene empty = good;
  empty.clear_model_mjb();
  CHECK(refused(empty.SerializeAsString()));
  CHECK(refused(good.SerializeAsString(), /*max=*/1024));  // more bytes than allowed
}

}  // namespace
}  // namespace workerpair::heavy
