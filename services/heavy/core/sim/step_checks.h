// The arithmetic of the step loop's state and motor checks, kept where a test can reach it.
//
//   if (!StateWithin(d->qpos, m->nq, d->qvel, d->qacc, m->nv, max_speed)) { /* find which */ }
//   std::int64_t n = StepsToReach(overload_duration_s - 1e-9, m->opt.timestep);
//   // a streak of n steps at the limit is the first whose n * timestep reaches the duration
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_SIM_STEP_CHECKS_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_SIM_STEP_CHECKS_H_

#include <mujoco/mujoco.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace workerpair::heavy::sim {

constexpr double kHugePosition = 1e12;  // qpos and qacc: only non-finite values matter

// True when every |qpos[i]| <= kHugePosition, |qvel[i]| <= max_speed and qacc[i] is finite; false
// on NaN. Branch-free, two entries an instruction where SSE2 is there (qvel and qacc, of one
// length, in one pass): the step loop calls it after every mj_step.
inline bool StateWithin(const mjtNum* qpos, int nq, const mjtNum* qvel, const mjtNum* qacc, int nv,
                        double max_speed) {
  constexpr double kFinite = std::numeric_limits<double>::max();
  int i = 0, j = 0;
  bool within = true;
#if defined(__SSE2__)
  const __m128d magnitude = _mm_castsi128_pd(_mm_set1_epi64x(0x7fffffffffffffffLL));
  const __m128d position_cap = _mm_set1_pd(kHugePosition);
  const __m128d speed_cap = _mm_set1_pd(max_speed);
  const __m128d finite_cap = _mm_set1_pd(kFinite);
  __m128d all = _mm_castsi128_pd(_mm_set1_epi64x(-1));
  for (; i + 2 <= nq; i += 2) {  // |v| <= cap per lane; NaN compares false
    const __m128d entry = _mm_and_pd(_mm_loadu_pd(qpos + i), magnitude);
    all = _mm_and_pd(all, _mm_cmple_pd(entry, position_cap));
  }
  for (; j + 2 <= nv; j += 2) {
    all = _mm_and_pd(all, _mm_cmple_pd(_mm_and_pd(_mm_loadu_pd(qvel + j), magnitude), speed_cap));
    all = _mm_and_pd(all, _mm_cmple_pd(_mm_and_pd(_mm_loadu_pd(qacc + j), magnitude), finite_cap));
  }
  within = _mm_movemask_pd(all) == 3;
#endif
  for (; i < nq; ++i) within &= std::abs(qpos[i]) <= kHugePosition;
  for (; j < nv; ++j) within &= (std::abs(qvel[j]) <= max_speed) & (std::abs(qacc[j]) <= kFinite);
  return within;
}

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

// The shortest streak of steps whose simulated time (streak * dt, a double) reaches `threshold`:
// streak * dt never decreases as streak grows (rounding is monotonic), so comparing the streak
// with it is comparing the product. kNever when no run reaches it (NaN, or over 1e15 steps).
inline std::int64_t StepsToReach(double threshold, double dt) {
  if (!(threshold > 0)) return 0 >= threshold ? 0 : kNever;  // a streak of 0 already counts
  if (!(dt > 0) || !(threshold / dt < 1e15)) return kNever;
  std::int64_t n = std::max<std::int64_t>(0, static_cast<std::int64_t>(threshold / dt) - 2);
  while (n > 0 && static_cast<double>(n) * dt >= threshold) --n;
  while (!(static_cast<double>(n) * dt >= threshold)) ++n;
  return n;
}

}  // namespace workerpair::heavy::sim

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_SIM_STEP_CHECKS_H_
