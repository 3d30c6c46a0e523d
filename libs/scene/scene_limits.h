// Limits on what a simulation scene may ask for. worker-heavy enforces them (flags override
// these defaults) and worker-light's linter warns against them, so both read this one place.
// Memory grows about quadratically with njmax (PLATFORM.md), hence the caps.
//
//   SceneLimits limits;                  // the defaults
//   limits.max_duration_s = 60;          // worker-heavy --max_duration_s
#ifndef WORKERPAIR_LIBS_SCENE_SCENE_LIMITS_H_
#define WORKERPAIR_LIBS_SCENE_SCENE_LIMITS_H_

namespace workerpair {

struct SceneLimits {
  int max_njmax = 5000;
  int max_nconmax = 2000;
  int max_bodies = 500;
  double max_duration_s = 120.0;
  double min_timestep_s = 0.0001;
  double max_timestep_s = 0.05;
  int max_width = 1920;
  int max_height = 1080;
  int max_fps = 60;
};

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_SCENE_SCENE_LIMITS_H_
