// ApplyJitter and RunSeed (declared in simulate.h): the per-run jitter of a verify batch.
#include <cstdint>

#include "services/heavy/core/scene/mujoco_guard.h"
#include "services/heavy/core/sim/simulate.h"

namespace workerpair::heavy::sim {
namespace {

std::uint64_t SplitMix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

void ApplyJitter(const mjModel* model, mjData* data, std::uint64_t seed, double jitter_m) {
  if (!(jitter_m > 0)) return;
  std::uint64_t state = seed;
  // Uniform in [-1, 1) from the top 53 bits: identical on every platform.
  auto uniform = [&] {
    state += 0x9E3779B97F4A7C15ull;
    const std::uint64_t bits = SplitMix64(state) >> 11;
    return static_cast<double>(bits) * 0x1.0p-52 - 1.0;
  };
  for (int j = 0; j < model->njnt; ++j) {
    if (model->jnt_type[j] != mjJNT_FREE) continue;
    mjtNum* pos = data->qpos + model->jnt_qposadr[j];
    for (int k = 0; k < 3; ++k) pos[k] += jitter_m * uniform();
  }
  scene::InstallMujocoHandlers();
  try {
    mj_forward(model, data);
  } catch (const scene::MujocoError&) {
    // Simulate reports a broken state as PHYSICS_INSTABILITY on its first step.
  }
}

std::uint64_t RunSeed(std::uint64_t base_seed, int run_index) {
  return base_seed + static_cast<std::uint64_t>(run_index);
}

}  // namespace workerpair::heavy::sim
