#include "services/heavy/core/sim/simulate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "libs/common/str_cat.h"
#include "services/heavy/core/scene/mujoco_guard.h"

namespace workerpair::heavy {
namespace {

// A zone site and what it means.
struct Zone {
  int site = 0;
  std::string name;
  bool goal = false;
};

std::vector<Zone> FindZones(const mjModel* m) {
  std::vector<Zone> zones;
  for (int i = 0; i < m->nsite; ++i) {
    const char* name = mj_id2name(m, mjOBJ_SITE, i);
    if (name == nullptr) continue;
    const std::string_view site(name);
    if (site.starts_with(kGoalZonePrefix)) zones.push_back({i, std::string(site), true});
    if (site.starts_with(kForbidZonePrefix)) zones.push_back({i, std::string(site), false});
  }
  return zones;
}

// True when world point `p` lies inside site `s` (its shape, size and current frame).
bool InSite(const mjModel* m, const mjData* d, int s, const mjtNum* p) {
  const mjtNum* c = d->site_xpos + 3 * s;
  const mjtNum* r = d->site_xmat + 9 * s;  // row-major, local -> world
  const mjtNum* size = m->site_size + 3 * s;
  mjtNum l[3];
  for (int j = 0; j < 3; ++j) {
    l[j] = r[j] * (p[0] - c[0]) + r[3 + j] * (p[1] - c[1]) + r[6 + j] * (p[2] - c[2]);
  }
  switch (m->site_type[s]) {
    case mjGEOM_SPHERE:
      return l[0] * l[0] + l[1] * l[1] + l[2] * l[2] <= size[0] * size[0];
    case mjGEOM_CYLINDER:
      return l[0] * l[0] + l[1] * l[1] <= size[0] * size[0] && std::abs(l[2]) <= size[1];
    case mjGEOM_ELLIPSOID: {
      mjtNum sum = 0;
      for (int j = 0; j < 3; ++j) sum += (l[j] / size[j]) * (l[j] / size[j]);
      return sum <= 1;
    }
    case mjGEOM_CAPSULE: {
      const mjtNum z = std::clamp<mjtNum>(l[2], -size[1], size[1]);
      return l[0] * l[0] + l[1] * l[1] + (l[2] - z) * (l[2] - z) <= size[0] * size[0];
    }
    default:  // box
      return std::abs(l[0]) <= size[0] && std::abs(l[1]) <= size[1] && std::abs(l[2]) <= size[2];
  }
}

std::string BodyName(const mjModel* m, int b) {
  if (b == 0) return "world";
  const char* name = mj_id2name(m, mjOBJ_BODY, b);
  return name != nullptr && name[0] != '\0' ? std::string(name) : StrCat("body", b);
}

// A geom's name, else its body's.
std::string GeomLabel(const mjModel* m, int g) {
  const char* name = mj_id2name(m, mjOBJ_GEOM, g);
  return name != nullptr && name[0] != '\0' ? std::string(name)
                                            : BodyName(m, m->geom_bodyid[g]);
}

std::string_view WarningName(int w) {
  switch (w) {
    case mjWARN_INERTIA: return "near-singular inertia";
    case mjWARN_CONTACTFULL: return "contact buffer full (nconmax)";
    case mjWARN_CNSTRFULL: return "constraint buffer full (njmax)";
    case mjWARN_VGEOMFULL: return "visual geom buffer full";
    case mjWARN_BADQPOS: return "bad number in qpos";
    case mjWARN_BADQVEL: return "bad number in qvel";
    case mjWARN_BADQACC: return "bad number in qacc";
    case mjWARN_BADCTRL: return "bad number in ctrl";
  }
  return "unknown warning";
}

// Warnings that mean the run can no longer be trusted.
bool IsInstability(int w) { return w != mjWARN_VGEOMFULL && w != mjWARN_INERTIA; }

// Seconds with two decimals, for event texts.
std::string Seconds(double t) {
  const double rounded = std::round(t * 100) / 100;
  return StrCat(rounded, " s");
}

std::uint64_t SplitMix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

ContactGrid MakeGrid(const mjModel* m, const mjData* d, const std::vector<Zone>& zones,
                     int resolution) {
  double lo[2] = {1e300, 1e300}, hi[2] = {-1e300, -1e300};
  auto include = [&](const mjtNum* center, double radius) {
    for (int j = 0; j < 2; ++j) {
      lo[j] = std::min(lo[j], center[j] - radius);
      hi[j] = std::max(hi[j], center[j] + radius);
    }
  };
  for (int g = 0; g < m->ngeom; ++g) {
    if (m->geom_type[g] == mjGEOM_PLANE || m->geom_type[g] == mjGEOM_HFIELD) continue;
    include(d->geom_xpos + 3 * g, m->geom_rbound[g]);
  }
  for (const Zone& zone : zones) {
    const mjtNum* size = m->site_size + 3 * zone.site;
    include(d->site_xpos + 3 * zone.site, std::max({size[0], size[1], size[2]}));
  }
  if (lo[0] > hi[0]) {  // nothing but planes: a 2 m square around the origin
    lo[0] = lo[1] = -1;
    hi[0] = hi[1] = 1;
  }
  ContactGrid grid;
  // Room for things that move a little beyond where they started.
  for (int j = 0; j < 2; ++j) {
    const double pad = std::max(0.1, 0.15 * (hi[j] - lo[j]));
    lo[j] -= pad;
    hi[j] += pad;
  }
  const double cell = std::max(hi[0] - lo[0], hi[1] - lo[1]) / std::max(1, resolution);
  grid.width = std::max(1, static_cast<int>(std::ceil((hi[0] - lo[0]) / cell - 1e-9)));
  grid.height = std::max(1, static_cast<int>(std::ceil((hi[1] - lo[1]) / cell - 1e-9)));
  grid.x_min = lo[0];
  grid.y_min = lo[1];
  grid.x_max = lo[0] + grid.width * cell;
  grid.y_max = lo[1] + grid.height * cell;
  grid.values.assign(static_cast<std::size_t>(grid.width) * grid.height, 0.0f);
  return grid;
}

// The state of one run.
class Run {
 public:
  Run(const mjModel* m, mjData* d, const SimOptions& options, SimObserver* observer)
      : m_(m), d_(d), options_(options), observer_(observer) {}

  absl::StatusOr<SimResult> Execute(const std::atomic<bool>* cancel);

 private:
  void AddEvent(std::string kind, std::string text) {
    SimEvent event{d_->time, std::move(kind), std::move(text)};
    if (observer_) observer_->OnEvent(event);
    if (static_cast<int>(result_.events.size()) < options_.max_events) {
      result_.events.push_back(std::move(event));
    } else {
      ++result_.metrics.events_dropped;
    }
  }
  void Finish(SimOutcome outcome, std::string detail) {
    result_.outcome = outcome;
    result_.detail = std::move(detail);
    finished_ = true;
  }
  double Energy() const { return energy_; }
  // Gravitational potential (zero at z = 0) plus kinetic energy, 0.5 qvel' M qvel. Computed
  // here because MuJoCo fills d->energy only when the model enables mjENBL_ENERGY (its
  // mj_energyPos/Vel left zeros in every metric before).
  void UpdateEnergy() {
    double potential = 0;
    for (int b = 1; b < m_->nbody; ++b) {
      potential -= m_->body_mass[b] * mju_dot3(m_->opt.gravity, d_->xipos + 3 * b);
    }
    mass_times_velocity_.resize(m_->nv);
    double kinetic = 0;
    if (m_->nv > 0) {
      mj_mulM(m_, d_, mass_times_velocity_.data(), d_->qvel);
      kinetic = 0.5 * mju_dot(d_->qvel, mass_times_velocity_.data(), m_->nv);
    }
    energy_ = potential + kinetic;
  }
  void CheckInstability();
  void CheckMotors();
  void CheckTarget();
  void AccumulateContacts();
  void CollectLoads();

  double energy_ = 0;
  std::vector<mjtNum> mass_times_velocity_;
  const mjModel* m_;
  mjData* d_;
  const SimOptions& options_;
  SimObserver* observer_;
  SimResult result_;
  bool finished_ = false;
  int target_ = -1;
  double last_time_ = 0;
  std::vector<Zone> zones_;
  std::vector<bool> in_zone_;
  int warning_counts_[mjNWARNING] = {};
  std::vector<std::int64_t> saturated_steps_;  // per actuator, current streak
  // Per-step sums for bodies and geoms; sized once, cleared through the touched lists, so the
  // step loop allocates nothing (but for the first contact of a new geom pair).
  struct StepLoad {
    double force = 0;         // this step's sum
    double pos[3] = {0, 0, 0};  // force-weighted contact point sum, this step
    double force_sum = 0;     // over contact steps
    std::int64_t contact_steps = 0;
    double peak = 0, peak_single = 0, peak_time = 0;
    double peak_pos[3] = {0, 0, 0};
    float peak_single_pos[3] = {0, 0, 0};  // where the hardest single contact was
  };
  void AddLoad(std::vector<StepLoad>& loads, std::vector<int>& touched, int id, double force,
               const mjtNum* pos) {
    StepLoad& load = loads[id];
    if (load.force == 0) touched.push_back(id);
    load.force += force;
    for (int j = 0; j < 3; ++j) load.pos[j] += force * pos[j];
    if (force > load.peak_single) {
      load.peak_single = force;
      for (int j = 0; j < 3; ++j) load.peak_single_pos[j] = static_cast<float>(pos[j]);
    }
  }
  void CloseStep(std::vector<StepLoad>& loads, std::vector<int>& touched) {
    for (int id : touched) {
      StepLoad& load = loads[id];
      ++load.contact_steps;
      load.force_sum += load.force;
      if (load.force > load.peak) {
        load.peak = load.force;
        load.peak_time = d_->time;
        for (int j = 0; j < 3; ++j) load.peak_pos[j] = load.pos[j] / load.force;
      }
      load.force = 0;
      for (double& p : load.pos) p = 0;
    }
    touched.clear();
  }
  // True the first time geom pair (a, b) is seen: a bit per ordered pair for scenes of up to
  // kPairBitsMaxGeoms geoms (one test and set a contact), a hash set beyond.
  static constexpr int kPairBitsMaxGeoms = 2048;
  bool FirstContact(int a, int b) {
    const std::uint64_t key = static_cast<std::uint64_t>(a) * m_->ngeom + b;
    if (!pair_bits_.empty()) {
      std::uint64_t& word = pair_bits_[key >> 6];
      const std::uint64_t bit = std::uint64_t{1} << (key & 63);
      if (word & bit) return false;
      word |= bit;
      return true;
    }
    return pair_set_.insert(key).second;
  }
  std::vector<StepLoad> body_loads_;
  std::vector<StepLoad> geom_loads_;
  std::vector<int> touched_bodies_;
  std::vector<int> touched_geoms_;
  std::vector<std::uint64_t> pair_bits_;       // geom pairs seen in contact
  std::unordered_set<std::uint64_t> pair_set_;  // the same, for very large scenes
  double next_mark_time_ = 0;
  double max_speed_squared_ = 0;
  int max_speed_body_ = -1;
  std::vector<ContactMark> sampled_marks_;
};

void Run::CheckInstability() {
  // MuJoCo resets the state (time included) when it meets a bad number; its warning counter
  // usually says so too, but a reset counter can land back on the value it had.
  if (d_->time < last_time_) {
    Finish(SimOutcome::kPhysicsInstability,
           StrCat("MuJoCo reset the simulation state at ", Seconds(last_time_),
                  " (a bad number in qpos, qvel or qacc)"));
  }
  last_time_ = d_->time;
  for (int w = 0; w < mjNWARNING; ++w) {
    const int count = d_->warning[w].number;
    if (count == warning_counts_[w]) continue;
    warning_counts_[w] = count;
    const std::string text = StrCat("MuJoCo warning: ", WarningName(w), " (info ",
                                    d_->warning[w].lastinfo, ")");
    AddEvent("warning", text);
    if (IsInstability(w) && !finished_) Finish(SimOutcome::kPhysicsInstability, text);
  }
  if (finished_) return;
  auto bad = [&](const mjtNum* values, int n, std::string_view what, double cap) {
    // One branch-free pass (NaN fails the comparison); the slow search only on a failure.
    bool all_within = true;
    for (int i = 0; i < n; ++i) all_within &= std::abs(values[i]) <= cap;
    if (all_within) return false;
    for (int i = 0; i < n; ++i) {
      if (!std::isfinite(values[i]) || std::abs(values[i]) > cap) {
        Finish(SimOutcome::kPhysicsInstability,
               StrCat(what, "[", i, "] is ", values[i], std::isfinite(values[i]) ? " (over " : "",
                      std::isfinite(values[i]) ? StrCat(cap, ")") : ""));
        return true;
      }
    }
    return false;
  };
  constexpr double kHuge = 1e12;  // positions and accelerations: only non-finite values matter
  if (bad(d_->qpos, m_->nq, "qpos", kHuge) || bad(d_->qvel, m_->nv, "qvel", options_.max_speed) ||
      bad(d_->qacc, m_->nv, "qacc", std::numeric_limits<double>::max())) {
    return;
  }
  // Body linear speeds at their centres of mass (bodies welded to the world never move), from
  // MuJoCo's com-based velocities as mj_objectVelocity computes them, compared squared: no call,
  // no square root, no string per step.
  const double cap_squared = options_.max_speed * options_.max_speed;
  for (int b = 1; b < m_->nbody; ++b) {
    if (m_->body_weldid[b] == 0) continue;
    const mjtNum* v = d_->cvel + 6 * b;  // [angular; linear at the subtree com of the root]
    const mjtNum* root_com = d_->subtree_com + 3 * m_->body_rootid[b];
    const mjtNum* com = d_->xipos + 3 * b;
    const mjtNum r[3] = {com[0] - root_com[0], com[1] - root_com[1], com[2] - root_com[2]};
    const mjtNum lin[3] = {v[3] + v[1] * r[2] - v[2] * r[1], v[4] + v[2] * r[0] - v[0] * r[2],
                           v[5] + v[0] * r[1] - v[1] * r[0]};
    const double speed_squared = lin[0] * lin[0] + lin[1] * lin[1] + lin[2] * lin[2];
    if (speed_squared > max_speed_squared_) {
      max_speed_squared_ = speed_squared;
      max_speed_body_ = b;
    }
    if (!(speed_squared <= cap_squared)) {  // NaN too
      const double speed = std::sqrt(speed_squared);
      Finish(SimOutcome::kPhysicsInstability,
             StrCat("body '", BodyName(m_, b), "' moves at ", speed, " m/s (over ",
                    options_.max_speed, ")"));
      return;
    }
  }
}

void Run::CheckMotors() {
  for (int a = 0; a < m_->nu; ++a) {
    if (!m_->actuator_forcelimited[a]) continue;
    const double lo = m_->actuator_forcerange[2 * a], hi = m_->actuator_forcerange[2 * a + 1];
    const double force = d_->actuator_force[a];
    const double fraction = options_.overload_fraction;
    const bool at_limit = (hi > 0 && force >= fraction * hi) || (lo < 0 && force <= fraction * lo);
    saturated_steps_[a] = at_limit ? saturated_steps_[a] + 1 : 0;
    if (saturated_steps_[a] * m_->opt.timestep >= options_.overload_duration_s - 1e-9) {
      const char* name = mj_id2name(m_, mjOBJ_ACTUATOR, a);
      Finish(SimOutcome::kMotorOverload,
             StrCat("actuator '", name ? name : StrCat("actuator", a), "' at ", force,
                    " N, >= ", fraction * 100, "% of its force range [", lo, ", ", hi, "], for ",
                    options_.overload_duration_s, " s"));
      return;
    }
  }
}

void Run::CheckTarget() {
  if (target_ < 0) return;
  const mjtNum* com = d_->xipos + 3 * target_;
  const std::string& target = result_.target_body;
  if (com[2] < options_.bounds.min_z) {
    Finish(SimOutcome::kOutOfBounds, StrCat("'", target, "' fell below z = ",
                                            options_.bounds.min_z, " at ", Seconds(d_->time)));
    return;
  }
  if (std::abs(com[0]) > options_.bounds.max_abs_xy || std::abs(com[1]) > options_.bounds.max_abs_xy) {
    Finish(SimOutcome::kOutOfBounds, StrCat("'", target, "' left |x|,|y| <= ",
                                            options_.bounds.max_abs_xy, " at ",
                                            Seconds(d_->time)));
    return;
  }
  // Zone entries and exits; a forbidden zone wins over a goal entered on the same step.
  const Zone* goal = nullptr;
  const Zone* forbid = nullptr;
  for (std::size_t i = 0; i < zones_.size(); ++i) {
    const bool inside = InSite(m_, d_, zones_[i].site, com);
    if (inside != in_zone_[i]) {
      in_zone_[i] = inside;
      AddEvent(inside ? "zone_enter" : "zone_exit",
               StrCat(target, inside ? " entered " : " left ", zones_[i].name, " at ",
                      Seconds(d_->time)));
    }
    if (inside && zones_[i].goal && !goal) goal = &zones_[i];
    if (inside && !zones_[i].goal && !forbid) forbid = &zones_[i];
  }
  if (forbid) {
    result_.zone = forbid->name;
    Finish(SimOutcome::kForbidZoneHit, StrCat("'", target, "' entered ", forbid->name, " at ",
                                              Seconds(d_->time)));
  } else if (goal) {
    result_.zone = goal->name;
    Finish(SimOutcome::kSuccess, StrCat("'", target, "' entered ", goal->name, " at ",
                                        Seconds(d_->time)));
  }
}

void Run::AccumulateContacts() {
  if (d_->ncon == 0) return;
  ContactGrid& grid = result_.contact_grid;
  const double inv_cell_x = grid.width / (grid.x_max - grid.x_min);
  const double inv_cell_y = grid.height / (grid.y_max - grid.y_min);
  const double dt = m_->opt.timestep;
  const int mark_room = options_.max_marks / 2;  // the other half for the pairs' peaks
  const bool sample_marks = d_->time >= next_mark_time_ &&
                            static_cast<int>(sampled_marks_.size()) < mark_room;
  if (sample_marks) next_mark_time_ = d_->time + options_.mark_interval_s;
  double& max_single = result_.metrics.max_single_contact_force_n;
  for (int i = 0; i < d_->ncon; ++i) {
    const mjContact& contact = d_->contact[i];
    mjtNum wrench[6];
    mj_contactForce(m_, d_, i, wrench);
    const double force =
        std::sqrt(wrench[0] * wrench[0] + wrench[1] * wrench[1] + wrench[2] * wrench[2]);
    if (!std::isfinite(force)) continue;
    max_single = std::max(max_single, force);

    // First contact of each geom pair, the higher body id (the later-declared, usually the
    // moving one) named first: "first contact ball/ramp".
    const int b1 = m_->geom_bodyid[contact.geom1], b2 = m_->geom_bodyid[contact.geom2];
    const int g_first = b1 >= b2 ? contact.geom1 : contact.geom2;
    const int g_second = b1 >= b2 ? contact.geom2 : contact.geom1;
    if (FirstContact(g_first, g_second)) {
      AddEvent("contact", StrCat("first contact ", GeomLabel(m_, g_first), "/",
                                 GeomLabel(m_, g_second), " at ", Seconds(d_->time)));
    }
    if (force <= 0) continue;
    if (sample_marks && static_cast<int>(sampled_marks_.size()) < mark_room) {
      sampled_marks_.push_back({{static_cast<float>(contact.pos[0]),
                                 static_cast<float>(contact.pos[1]),
                                 static_cast<float>(contact.pos[2])},
                                static_cast<float>(force)});
    }
    AddLoad(body_loads_, touched_bodies_, b1, force, contact.pos);
    if (b2 != b1) AddLoad(body_loads_, touched_bodies_, b2, force, contact.pos);
    AddLoad(geom_loads_, touched_geoms_, contact.geom1, force, contact.pos);
    AddLoad(geom_loads_, touched_geoms_, contact.geom2, force, contact.pos);
    // Top-down accumulation of impulse.
    const double fx = (contact.pos[0] - grid.x_min) * inv_cell_x;
    const double fy = (contact.pos[1] - grid.y_min) * inv_cell_y;
    if (fx >= 0 && fx < grid.width && fy >= 0 && fy < grid.height) {
      grid.values[static_cast<std::size_t>(fy) * grid.width + static_cast<std::size_t>(fx)] +=
          static_cast<float>(force * dt);
    }
  }
  CloseStep(body_loads_, touched_bodies_);
  CloseStep(geom_loads_, touched_geoms_);
}

void Run::CollectLoads() {
  for (int b = 0; b < m_->nbody; ++b) {
    const StepLoad& load = body_loads_[b];
    if (load.contact_steps == 0) continue;
    BodyContactStress s;
    s.body_id = b;
    s.body = BodyName(m_, b);
    s.peak_force_n = load.peak;
    s.mean_force_n = load.force_sum / static_cast<double>(load.contact_steps);
    s.contact_steps = load.contact_steps;
    s.peak_time_s = load.peak_time;
    for (int j = 0; j < 3; ++j) s.peak_pos[j] = load.peak_pos[j];
    s.peak_single_contact_n = load.peak_single;
    if (load.peak > 0) s.safety_factor = options_.yield_newtons / load.peak;
    result_.stress.push_back(std::move(s));
  }
  for (int g = 0; g < m_->ngeom; ++g) {
    const StepLoad& load = geom_loads_[g];
    if (load.contact_steps == 0) continue;
    GeomContactLoad l;
    l.geom_id = g;
    l.body_id = m_->geom_bodyid[g];
    // A world geom is a static part of its own: its name, else "geom<N>" (never "world").
    const char* name = mj_id2name(m_, mjOBJ_GEOM, g);
    l.label = name != nullptr && name[0] != '\0' ? std::string(name)
              : l.body_id == 0                   ? StrCat("geom", g)
                                                 : BodyName(m_, l.body_id);
    l.peak_force_n = load.peak;
    l.mean_force_n = load.force_sum / static_cast<double>(load.contact_steps);
    l.peak_single_contact_n = load.peak_single;
    l.peak_time_s = load.peak_time;
    for (int j = 0; j < 3; ++j) l.peak_pos[j] = load.peak_pos[j];
    if (load.peak > 0) l.safety_factor = options_.yield_newtons / load.peak;
    result_.geom_loads.push_back(std::move(l));
  }
  // The sampled contact points, then each geom's hardest contact (up to the cap).
  result_.contact_marks = std::move(sampled_marks_);
  for (const StepLoad& load : geom_loads_) {
    if (static_cast<int>(result_.contact_marks.size()) >= options_.max_marks) break;
    if (load.peak_single <= 0) continue;
    result_.contact_marks.push_back(
        {{load.peak_single_pos[0], load.peak_single_pos[1], load.peak_single_pos[2]},
         static_cast<float>(load.peak_single)});
  }
}

absl::StatusOr<SimResult> Run::Execute(const std::atomic<bool>* cancel) {
  if (!(options_.duration_s > 0) || !std::isfinite(options_.duration_s)) {
    return absl::InvalidArgumentError(StrCat("duration_s is ", options_.duration_s,
                                             "; it must be > 0"));
  }
  // The target: named, else the first body with a free joint.
  if (!options_.target_body.empty()) {
    target_ = mj_name2id(m_, mjOBJ_BODY, options_.target_body.c_str());
    if (target_ < 0) {
      return absl::InvalidArgumentError(StrCat("'simulation.target_body' names '",
                                               options_.target_body,
                                               "', which is no body of the scene"));
    }
  } else {
    for (int b = 1; b < m_->nbody && target_ < 0; ++b) {
      if (m_->body_jntnum[b] > 0 && m_->jnt_type[m_->body_jntadr[b]] == mjJNT_FREE) target_ = b;
    }
  }
  result_.target_body = target_ >= 0 ? BodyName(m_, target_) : "";
  result_.seed = options_.seed;
  result_.metrics.timestep_s = m_->opt.timestep;

  zones_ = FindZones(m_);
  in_zone_.assign(zones_.size(), false);
  saturated_steps_.assign(m_->nu, 0);
  body_loads_.assign(m_->nbody, {});
  geom_loads_.assign(m_->ngeom, {});
  touched_bodies_.reserve(m_->nbody);
  touched_geoms_.reserve(m_->ngeom);
  if (m_->ngeom <= kPairBitsMaxGeoms) {
    pair_bits_.assign((static_cast<std::size_t>(m_->ngeom) * m_->ngeom + 63) / 64, 0);
  }
  sampled_marks_.reserve(options_.max_marks / 2);
  next_mark_time_ = d_->time;
  for (int w = 0; w < mjNWARNING; ++w) warning_counts_[w] = d_->warning[w].number;
  result_.contact_grid = MakeGrid(m_, d_, zones_, options_.grid_resolution);

  InstallMujocoHandlers();
  TakeMujocoWarnings();
  const auto wall_start = std::chrono::steady_clock::now();
  const double start_time = d_->time;
  last_time_ = start_time;
  const double dt = m_->opt.timestep;
  const std::int64_t total_steps =
      std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(options_.duration_s / dt - 1e-9)));
  double next_progress = start_time + options_.progress_interval_s;

  try {
    UpdateEnergy();
    result_.metrics.energy_initial_j = Energy();
    result_.metrics.energy_max_j = Energy();
    if (observer_) observer_->OnStep(m_, d_, d_->time);
    // A target that starts in a zone counts at once.
    CheckTarget();
    std::int64_t step = 0;
    for (; step < total_steps && !finished_; ++step) {
      if (cancel && cancel->load(std::memory_order_relaxed)) {
        Finish(SimOutcome::kCancelled, StrCat("cancelled at ", Seconds(d_->time)));
        break;
      }
      mj_step(m_, d_);
      result_.metrics.steps = step + 1;
      // Only what a check needs each step: the energy is reported at the end.
      if (options_.track_max_energy) {
        UpdateEnergy();
        const double energy = Energy();
        if (std::isfinite(energy)) {
          result_.metrics.energy_max_j = std::max(result_.metrics.energy_max_j, energy);
        }
      }
      CheckInstability();
      if (!finished_) AccumulateContacts();
      if (!finished_) CheckMotors();
      if (!finished_) CheckTarget();
      if (observer_) {
        observer_->OnStep(m_, d_, d_->time);
        if (d_->time >= next_progress - 1e-12) {
          observer_->OnProgress({d_->time - start_time, options_.duration_s, step + 1});
          next_progress += options_.progress_interval_s;
        }
      }
    }
    if (!finished_) {
      Finish(SimOutcome::kTimeout,
             result_.target_body.empty()
                 ? StrCat("no target body; ran the full ", Seconds(options_.duration_s))
                 : StrCat("'", result_.target_body, "' reached no goal zone in ",
                          Seconds(options_.duration_s)));
    }
  } catch (const MujocoError& e) {
    Finish(SimOutcome::kPhysicsInstability, StrCat("MuJoCo error while stepping: ", e.what()));
  }

  result_.warnings = TakeMujocoWarnings();
  result_.metrics.sim_time_s = d_->time - start_time;
  UpdateEnergy();
  result_.metrics.energy_final_j = Energy();
  if (std::isfinite(Energy())) {
    result_.metrics.energy_max_j = std::max(result_.metrics.energy_max_j, Energy());
  }
  result_.metrics.wall_time_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  CollectLoads();
  if (max_speed_body_ >= 0) {
    result_.metrics.max_linear_speed = std::sqrt(max_speed_squared_);
    result_.metrics.max_speed_body = BodyName(m_, max_speed_body_);
  }
  // The outcome event is always listed, past the cap too.
  SimEvent outcome{d_->time, "outcome", StrCat(OutcomeName(result_.outcome), ": ", result_.detail)};
  if (observer_) observer_->OnEvent(outcome);
  result_.events.push_back(std::move(outcome));
  if (observer_) {
    observer_->OnProgress({result_.metrics.sim_time_s, options_.duration_s, result_.metrics.steps});
  }
  return std::move(result_);
}

}  // namespace

std::string_view OutcomeName(SimOutcome outcome) {
  switch (outcome) {
    case SimOutcome::kSuccess: return "SUCCESS";
    case SimOutcome::kTimeout: return "TIMEOUT";
    case SimOutcome::kOutOfBounds: return "OUT_OF_BOUNDS";
    case SimOutcome::kForbidZoneHit: return "FORBID_ZONE_HIT";
    case SimOutcome::kPhysicsInstability: return "PHYSICS_INSTABILITY";
    case SimOutcome::kMotorOverload: return "MOTOR_OVERLOAD";
    case SimOutcome::kCancelled: return "CANCELLED";
  }
  return "UNKNOWN";
}

SimOptions SimOptionsFromManifest(const Manifest& manifest) {
  SimOptions options;
  options.duration_s = manifest.simulation.duration_s;
  options.seed = manifest.simulation.seed;
  options.target_body = manifest.simulation.target_body;
  options.bounds = manifest.simulation.bounds;
  options.yield_newtons = manifest.stress.yield_newtons;
  return options;
}

absl::StatusOr<SimResult> Simulate(const mjModel* model, mjData* data, const SimOptions& options,
                                   SimObserver* observer, const std::atomic<bool>* cancel) {
  Run run(model, data, options, observer);
  return run.Execute(cancel);
}

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
  InstallMujocoHandlers();
  try {
    mj_forward(model, data);
  } catch (const MujocoError&) {
    // Simulate reports a broken state as PHYSICS_INSTABILITY on its first step.
  }
}

std::uint64_t RunSeed(std::uint64_t base_seed, int run_index) {
  return base_seed + static_cast<std::uint64_t>(run_index);
}

}  // namespace workerpair::heavy
