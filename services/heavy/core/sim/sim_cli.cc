// heavy_sim_cli: runs one scene directory (manifest.json at its root) through the scene and
// simulation cores and prints the result as JSON. For the examples, demos and debugging;
// the service does the same through gRPC.
//
//   heavy_sim_cli examples/scenes/ramp_goal            # {"outcome": "SUCCESS", ...}
//   heavy_sim_cli examples/scenes/ramp_goal --seed 7   # with verify jitter from seed 7
//
// The directory is used as the scratch directory: an assembly's generated MJCF is written there.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "libs/common/file_io.h"
#include "libs/scene/scene_limits.h"
#include "services/heavy/core/scene/manifest.h"
#include "services/heavy/core/scene/scene_loader.h"
#include "services/heavy/core/sim/simulate.h"

namespace {

using namespace workerpair;
using namespace workerpair::heavy;
using namespace workerpair::heavy::sim;

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "error: %s: %s\n", absl::StatusCodeToString(status.code()).c_str(),
               std::string(status.message()).c_str());
  return 1;
}

int Main(int argc, char** argv) {
  if (argc != 2 && !(argc == 4 && std::strcmp(argv[2], "--seed") == 0)) {
    std::fprintf(stderr, "usage: %s <scene_dir> [--seed N]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = std::filesystem::canonical(argv[1]);
  const SceneLimits limits;
  absl::StatusOr<std::string> text = ReadFileCapped(dir / heavy::scene::kManifestFileName,
                                                    heavy::scene::kManifestFileName, 1 << 20);
  if (!text.ok()) return Fail(text.status());
  absl::StatusOr<heavy::scene::Manifest> manifest = heavy::scene::ParseManifest(*text, limits);
  if (!manifest.ok()) return Fail(manifest.status());
  absl::StatusOr<heavy::scene::LoadedScene> scene = heavy::scene::LoadScene(dir, *manifest, limits);
  if (!scene.ok()) return Fail(scene.status());
  absl::StatusOr<heavy::scene::MjDataPtr> data = heavy::scene::MakeData(scene->model.get());
  if (!data.ok()) return Fail(data.status());
  if (argc == 4) {
    ApplyJitter(scene->model.get(), data->get(), std::stoull(argv[3]), manifest->verify.jitter_m);
  }
  SimOptions options = SimOptionsFromManifest(*manifest);
  options.track_max_energy = true;  // this tool prints energy_max_j
  absl::StatusOr<SimResult> result =
      Simulate(scene->model.get(), data->get(), options, nullptr, nullptr);
  if (!result.ok()) return Fail(result.status());

  nlohmann::json out;
  out["outcome"] = std::string(OutcomeName(result->outcome));
  out["detail"] = result->detail;
  out["target_body"] = result->target_body;
  const SimMetrics& m = result->metrics;
  out["metrics"] = {{"sim_time_s", m.sim_time_s},         {"steps", m.steps},
                    {"wall_time_s", m.wall_time_s},       {"timestep_s", m.timestep_s},
                    {"energy_initial_j", m.energy_initial_j},
                    {"energy_final_j", m.energy_final_j}, {"energy_max_j", m.energy_max_j},
                    {"max_linear_speed", m.max_linear_speed},
                    {"max_single_contact_force_n", m.max_single_contact_force_n}};
  out["stress_label"] = SimResult::kStressLabel;
  for (const BodyContactStress& s : result->stress) {
    out["stress"].push_back({{"body", s.body},
                             {"peak_force_n", s.peak_force_n},
                             {"mean_force_n", s.mean_force_n},
                             {"peak_pos", s.peak_pos},
                             {"safety_factor", s.safety_factor}});
  }
  for (const SimEvent& e : result->events) out["events"].push_back(e.text);
  out["warnings"] = result->warnings;
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
