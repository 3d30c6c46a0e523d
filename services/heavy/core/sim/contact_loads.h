// Per-step contact loads of bodies or geoms, and the geom pairs already seen in contact: the
// bookkeeping the step loop does for every contact, inline and allocation-free after Reset.
//
//   LoadTable geoms;
//   geoms.Reset(model->ngeom);
//   // each step: for each contact with force f at point p
//   geoms.Add(contact.geom1, f, contact.pos);
//   geoms.Add(contact.geom2, f, contact.pos);
//   geoms.CloseStep(data->time);   // folds the step's sums into the run's figures
//   geoms[g].peak                  // the largest per-step sum so far
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_SIM_CONTACT_LOADS_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_SIM_CONTACT_LOADS_H_

#include <mujoco/mujoco.h>

#include <cstdint>
#include <unordered_set>
#include <vector>

namespace workerpair::heavy::sim {

// One body's or geom's load: this step's sums and the run's figures so far.
struct StepLoad {
  double force = 0;                      // this step's sum
  double pos[3] = {0, 0, 0};             // force-weighted contact point sum, this step
  double force_sum = 0;                  // over contact steps
  std::int64_t contact_steps = 0;
  double peak = 0, peak_single = 0, peak_time = 0;
  double peak_pos[3] = {0, 0, 0};
  float peak_single_pos[3] = {0, 0, 0};  // where the hardest single contact was
};

// Loads by id, summed per step; only the ids touched in a step are closed and cleared.
class LoadTable {
 public:
  void Reset(int count) {
    loads_.assign(count, {});
    touched_.clear();
    touched_.reserve(count);
  }
  // `force` > 0 and finite (the caller skips others).
  void Add(int id, double force, const mjtNum* pos) {
    StepLoad& load = loads_[id];
    if (load.force == 0) touched_.push_back(id);
    load.force += force;
    for (int j = 0; j < 3; ++j) load.pos[j] += force * pos[j];
    if (force > load.peak_single) {
      load.peak_single = force;
      for (int j = 0; j < 3; ++j) load.peak_single_pos[j] = static_cast<float>(pos[j]);
    }
  }
  void CloseStep(double time) {
    for (int id : touched_) {
      StepLoad& load = loads_[id];
      ++load.contact_steps;
      load.force_sum += load.force;
      if (load.force > load.peak) {
        load.peak = load.force;
        load.peak_time = time;
        for (int j = 0; j < 3; ++j) load.peak_pos[j] = load.pos[j] / load.force;
      }
      load.force = 0;
      for (double& p : load.pos) p = 0;
    }
    touched_.clear();
  }
  const StepLoad& operator[](int id) const { return loads_[id]; }
  const std::vector<StepLoad>& all() const { return loads_; }

 private:
  std::vector<StepLoad> loads_;
  std::vector<int> touched_;
};

// Ordered geom pairs seen in contact: a bit per pair for scenes of up to kBitsMaxGeoms geoms
// (one test and set a contact), a hash set beyond.
class PairsSeen {
 public:
  static constexpr int kBitsMaxGeoms = 2048;
  void Reset(int ngeom) {
    ngeom_ = ngeom;
    bits_.clear();
    set_.clear();
    if (ngeom <= kBitsMaxGeoms) {
      bits_.assign((static_cast<std::size_t>(ngeom) * ngeom + 63) / 64, 0);
    }
  }
  // True the first time (a, b) is seen.
  bool FirstTime(int a, int b) {
    const std::uint64_t key = static_cast<std::uint64_t>(a) * ngeom_ + b;
    if (!bits_.empty()) {
      std::uint64_t& word = bits_[key >> 6];
      const std::uint64_t bit = std::uint64_t{1} << (key & 63);
      if (word & bit) return false;
      word |= bit;
      return true;
    }
    return set_.insert(key).second;
  }

 private:
  int ngeom_ = 0;
  std::vector<std::uint64_t> bits_;
  std::unordered_set<std::uint64_t> set_;
};

}  // namespace workerpair::heavy::sim

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_SIM_CONTACT_LOADS_H_
