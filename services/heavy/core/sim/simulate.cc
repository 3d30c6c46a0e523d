#include "services/heavy/core/sim/simulate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "libs/common/str_cat.h"
#include "services/heavy/core/scene/mujoco_guard.h"
#include "services/heavy/core/sim/contact_force.h"
#include "services/heavy/core/sim/contact_grid.h"
#include "services/heavy/core/sim/contact_loads.h"
#include "services/heavy/core/sim/step_checks.h"
#include "services/heavy/core/sim/zones.h"

namespace workerpair::heavy::sim {
namespace {

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

// The state of one run.
class Run {
 public:
  Run(const mjModel* m, mjData* d, const SimOptions& options, SimObserver* observer)
      : m_(m), d_(d), options_(options), observer_(observer) {}

  absl::StatusOr<SimResult> Execute(const std::atomic<bool>* cancel);

 private:
  // Bodies that can move (not welded to the world), with their root body.
  struct MovingBody {
    int body = 0;
    int root = 0;
  };
  // A force-limited actuator, the forces that count as "at the limit" (the products the check
  // made every step before, made once) and its current streak of steps there.
  struct LimitedActuator {
    int id = 0;
    double lo = 0, hi = 0;
    double lo_at = 0, hi_at = 0;  // overload_fraction * lo, overload_fraction * hi
    std::int64_t streak = 0;
  };

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
  // Per-run setup of what the per-step checks read: found once, only what each check needs.
  void Prepare();
  // The per-step checks, inlined into the step loop; what they report is built out of line
  // (the Report* functions), so the loop carries only the comparisons.
  [[gnu::always_inline]] void CheckInstability();
  [[gnu::always_inline]] void CheckMotors();
  [[gnu::always_inline]] void CheckTarget();
  [[gnu::always_inline]] void AccumulateContacts();
  [[gnu::noinline, gnu::cold]] void ReportTimeReset();
  [[gnu::noinline, gnu::cold]] void ReportWarnings();
  [[gnu::noinline, gnu::cold]] void ReportBadValues();
  [[gnu::noinline, gnu::cold]] void ReportSpeed(int body, double speed_squared);
  [[gnu::noinline, gnu::cold]] void ReportOverload(const LimitedActuator& actuator, double force);
  [[gnu::noinline]] void UpdateZones(const mjtNum* com);
  [[gnu::noinline]] void ReportFirstContact(int g_first, int g_second);
  void CollectLoads();
  // A body with exactly one geom bears exactly that geom's contacts, in the same order: its
  // load is its geom's, the same sums bit for bit, and is not summed twice.
  const StepLoad& BodyLoad(int b) const {
    return body_single_geom_[b] >= 0 ? geom_loads_[body_single_geom_[b]] : body_loads_[b];
  }

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
  bool in_any_zone_ = false;    // some in_zone_ entry is true
  int warning_counts_[mjNWARNING] = {};
  mjWarningStat warnings_seen_[mjNWARNING] = {};  // d->warning as last compared, whole
  std::vector<MovingBody> moving_bodies_;         // in body order
  std::vector<LimitedActuator> limited_actuators_;  // in actuator order
  std::int64_t overload_streak_ = kNever;  // StepsToReach(overload_duration_s - 1e-9, dt)
  bool pyramidal_ = true;                   // model->opt.cone: how efc_force holds a force
  double inv_cell_x_ = 0, inv_cell_y_ = 0;  // contact grid cells per metre
  std::vector<int> body_single_geom_;      // see BodyLoad; -1 for other bodies
  LoadTable body_loads_;                   // sized once: no allocation in the step loop
  LoadTable geom_loads_;
  PairsSeen pairs_seen_;
  double next_mark_time_ = 0;
  double max_speed_squared_ = 0;
  int max_speed_body_ = -1;
  std::vector<ContactMark> sampled_marks_;
};

void Run::Prepare() {
  zones_ = FindZones(m_);
  in_zone_.assign(zones_.size(), false);
  for (int b = 1; b < m_->nbody; ++b) {
    if (m_->body_weldid[b] != 0) moving_bodies_.push_back({b, m_->body_rootid[b]});
  }
  const double fraction = options_.overload_fraction;
  for (int a = 0; a < m_->nu; ++a) {
    if (!m_->actuator_forcelimited[a]) continue;
    const double lo = m_->actuator_forcerange[2 * a], hi = m_->actuator_forcerange[2 * a + 1];
    limited_actuators_.push_back({a, lo, hi, fraction * lo, fraction * hi, 0});
  }
  overload_streak_ = StepsToReach(options_.overload_duration_s - 1e-9, m_->opt.timestep);
  pyramidal_ = m_->opt.cone == mjCONE_PYRAMIDAL;
  body_single_geom_.assign(m_->nbody, -1);
  for (int b = 0; b < m_->nbody; ++b) {
    if (m_->body_geomnum[b] == 1) body_single_geom_[b] = m_->body_geomadr[b];
  }
  // An explicit <pair> of two geoms of one body counts twice for the geoms and once for the
  // body: such a body keeps sums of its own.
  for (int p = 0; p < m_->npair; ++p) {
    const int b1 = m_->geom_bodyid[m_->pair_geom1[p]], b2 = m_->geom_bodyid[m_->pair_geom2[p]];
    if (b1 == b2) body_single_geom_[b1] = -1;
  }
  body_loads_.Reset(m_->nbody);
  geom_loads_.Reset(m_->ngeom);
  pairs_seen_.Reset(m_->ngeom);
  sampled_marks_.reserve(options_.max_marks / 2);
  next_mark_time_ = d_->time;
  for (int w = 0; w < mjNWARNING; ++w) warning_counts_[w] = d_->warning[w].number;
  std::memcpy(warnings_seen_, d_->warning, sizeof(warnings_seen_));
  result_.contact_grid = MakeGrid(m_, d_, zones_, options_.grid_resolution);
  const ContactGrid& grid = result_.contact_grid;
  inv_cell_x_ = grid.width / (grid.x_max - grid.x_min);
  inv_cell_y_ = grid.height / (grid.y_max - grid.y_min);
}

void Run::ReportTimeReset() {
  Finish(SimOutcome::kPhysicsInstability,
         StrCat("MuJoCo reset the simulation state at ", Seconds(last_time_),
                " (a bad number in qpos, qvel or qacc)"));
}

void Run::ReportWarnings() {
  for (int w = 0; w < mjNWARNING; ++w) {
    const int count = d_->warning[w].number;
    if (count == warning_counts_[w]) continue;
    warning_counts_[w] = count;
    const std::string text = StrCat("MuJoCo warning: ", WarningName(w), " (info ",
                                    d_->warning[w].lastinfo, ")");
    AddEvent("warning", text);
    if (IsInstability(w) && !finished_) Finish(SimOutcome::kPhysicsInstability, text);
  }
  std::memcpy(warnings_seen_, d_->warning, sizeof(warnings_seen_));
}

void Run::ReportBadValues() {
  // The first bad entry of qpos, then qvel, then qacc.
  auto report = [&](const mjtNum* values, int n, std::string_view what, double cap) {
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
  report(d_->qpos, m_->nq, "qpos", kHugePosition) ||
      report(d_->qvel, m_->nv, "qvel", options_.max_speed) ||
      report(d_->qacc, m_->nv, "qacc", std::numeric_limits<double>::max());
}

void Run::ReportSpeed(int body, double speed_squared) {
  const double speed = std::sqrt(speed_squared);
  Finish(SimOutcome::kPhysicsInstability,
         StrCat("body '", BodyName(m_, body), "' moves at ", speed, " m/s (over ",
                options_.max_speed, ")"));
}

inline void Run::CheckInstability() {
  // MuJoCo resets the state (time included) when it meets a bad number; its warning counter
  // usually says so too, but a reset counter can land back on the value it had.
  if (d_->time < last_time_) ReportTimeReset();
  last_time_ = d_->time;
  // Counters move only with a warning: one comparison of the whole table each step.
  if (std::memcmp(warnings_seen_, d_->warning, sizeof(warnings_seen_)) != 0) ReportWarnings();
  if (finished_) return;
  if (!StateWithin(d_->qpos, m_->nq, d_->qvel, d_->qacc, m_->nv, options_.max_speed)) {
    ReportBadValues();
    return;
  }
  // Body linear speeds at their centres of mass, from MuJoCo's com-based velocities as
  // mj_objectVelocity computes them, compared squared: no call, no square root, no string.
  const double cap_squared = options_.max_speed * options_.max_speed;
  const mjtNum* cvel = d_->cvel;
  const mjtNum* subtree_com = d_->subtree_com;
  const mjtNum* xipos = d_->xipos;
  double max_squared = max_speed_squared_;
  int max_body = max_speed_body_;
  for (const MovingBody& moving : moving_bodies_) {
    const mjtNum* v = cvel + 6 * moving.body;  // [angular; linear at the subtree com of the root]
    const mjtNum* root_com = subtree_com + 3 * moving.root;
    const mjtNum* com = xipos + 3 * moving.body;
    const mjtNum r[3] = {com[0] - root_com[0], com[1] - root_com[1], com[2] - root_com[2]};
    const mjtNum lin[3] = {v[3] + v[1] * r[2] - v[2] * r[1], v[4] + v[2] * r[0] - v[0] * r[2],
                           v[5] + v[0] * r[1] - v[1] * r[0]};
    const double speed_squared = lin[0] * lin[0] + lin[1] * lin[1] + lin[2] * lin[2];
    if (speed_squared > max_squared) {
      max_squared = speed_squared;
      max_body = moving.body;
    }
    if (!(speed_squared <= cap_squared)) {  // NaN too
      max_speed_squared_ = max_squared;
      max_speed_body_ = max_body;
      ReportSpeed(moving.body, speed_squared);
      return;
    }
  }
  max_speed_squared_ = max_squared;
  max_speed_body_ = max_body;
}

void Run::ReportOverload(const LimitedActuator& actuator, double force) {
  const char* name = mj_id2name(m_, mjOBJ_ACTUATOR, actuator.id);
  Finish(SimOutcome::kMotorOverload,
         StrCat("actuator '", name ? name : StrCat("actuator", actuator.id), "' at ", force,
                " N, >= ", options_.overload_fraction * 100, "% of its force range [",
                actuator.lo, ", ", actuator.hi, "], for ", options_.overload_duration_s, " s"));
}

inline void Run::CheckMotors() {
  for (LimitedActuator& actuator : limited_actuators_) {
    const double force = d_->actuator_force[actuator.id];
    const bool at_limit = (actuator.hi > 0 && force >= actuator.hi_at) ||
                          (actuator.lo < 0 && force <= actuator.lo_at);
    actuator.streak = at_limit ? actuator.streak + 1 : 0;
    if (actuator.streak >= overload_streak_) {
      ReportOverload(actuator, force);
      return;
    }
  }
}

void Run::UpdateZones(const mjtNum* com) {
  // Zone entries and exits; a forbidden zone wins over a goal entered on the same step.
  const std::string& target = result_.target_body;
  const Zone* goal = nullptr;
  const Zone* forbid = nullptr;
  bool in_any = false;
  for (std::size_t i = 0; i < zones_.size(); ++i) {
    const Zone& zone = zones_[i];
    const bool inside = !OutsideBound(d_, zone, com) && InSite(m_, d_, zone.site, com);
    if (inside != in_zone_[i]) {
      in_zone_[i] = inside;
      AddEvent(inside ? "zone_enter" : "zone_exit",
               StrCat(target, inside ? " entered " : " left ", zone.name, " at ",
                      Seconds(d_->time)));
    }
    in_any |= inside;
    if (inside && zone.goal && !goal) goal = &zone;
    if (inside && !zone.goal && !forbid) forbid = &zone;
  }
  in_any_zone_ = in_any;
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

inline void Run::CheckTarget() {
  if (target_ < 0) return;
  const mjtNum* com = d_->xipos + 3 * target_;
  if (com[2] < options_.bounds.min_z) {
    Finish(SimOutcome::kOutOfBounds, StrCat("'", result_.target_body, "' fell below z = ",
                                            options_.bounds.min_z, " at ", Seconds(d_->time)));
    return;
  }
  if (std::abs(com[0]) > options_.bounds.max_abs_xy ||
      std::abs(com[1]) > options_.bounds.max_abs_xy) {
    Finish(SimOutcome::kOutOfBounds, StrCat("'", result_.target_body, "' left |x|,|y| <= ",
                                            options_.bounds.max_abs_xy, " at ",
                                            Seconds(d_->time)));
    return;
  }
  // While the target is in no zone and outside every zone's bounding sphere nothing can change:
  // the exact tests (and events) run only near a zone or inside one.
  if (!in_any_zone_) {
    bool near = false;
    for (const Zone& zone : zones_) near |= !OutsideBound(d_, zone, com);
    if (!near) return;
  }
  UpdateZones(com);
}

void Run::ReportFirstContact(int g_first, int g_second) {
  AddEvent("contact", StrCat("first contact ", GeomLabel(m_, g_first), "/",
                             GeomLabel(m_, g_second), " at ", Seconds(d_->time)));
}

inline void Run::AccumulateContacts() {
  const int ncon = d_->ncon;
  if (ncon == 0) return;
  ContactGrid& grid = result_.contact_grid;
  const double dt = m_->opt.timestep;
  const int mark_room = options_.max_marks / 2;  // the other half for the pairs' peaks
  const bool sample_marks = d_->time >= next_mark_time_ &&
                            static_cast<int>(sampled_marks_.size()) < mark_room;
  if (sample_marks) next_mark_time_ = d_->time + options_.mark_interval_s;
  double max_single = result_.metrics.max_single_contact_force_n;
  const int* geom_bodyid = m_->geom_bodyid;
  const int* single_geom = body_single_geom_.data();
  for (int i = 0; i < ncon; ++i) {
    const mjContact& contact = d_->contact[i];
    mjtNum wrench[3];
    ContactForce3(pyramidal_, d_, contact, wrench);
    const double force =
        std::sqrt(wrench[0] * wrench[0] + wrench[1] * wrench[1] + wrench[2] * wrench[2]);
    if (!std::isfinite(force)) continue;
    max_single = std::max(max_single, force);

    // First contact of each geom pair, the higher body id (the later-declared, usually the
    // moving one) named first: "first contact ball/ramp".
    const int b1 = geom_bodyid[contact.geom1], b2 = geom_bodyid[contact.geom2];
    const int g_first = b1 >= b2 ? contact.geom1 : contact.geom2;
    const int g_second = b1 >= b2 ? contact.geom2 : contact.geom1;
    if (pairs_seen_.FirstTime(g_first, g_second)) ReportFirstContact(g_first, g_second);
    if (force <= 0) continue;
    if (sample_marks && static_cast<int>(sampled_marks_.size()) < mark_room) {
      sampled_marks_.push_back({{static_cast<float>(contact.pos[0]),
                                 static_cast<float>(contact.pos[1]),
                                 static_cast<float>(contact.pos[2])},
                                static_cast<float>(force)});
    }
    if (single_geom[b1] < 0) body_loads_.Add(b1, force, contact.pos);
    if (b2 != b1 && single_geom[b2] < 0) body_loads_.Add(b2, force, contact.pos);
    geom_loads_.Add(contact.geom1, force, contact.pos);
    geom_loads_.Add(contact.geom2, force, contact.pos);
    // Top-down accumulation of impulse.
    const double fx = (contact.pos[0] - grid.x_min) * inv_cell_x_;
    const double fy = (contact.pos[1] - grid.y_min) * inv_cell_y_;
    if (fx >= 0 && fx < grid.width && fy >= 0 && fy < grid.height) {
      grid.values[static_cast<std::size_t>(fy) * grid.width + static_cast<std::size_t>(fx)] +=
          static_cast<float>(force * dt);
    }
  }
  result_.metrics.max_single_contact_force_n = max_single;
  body_loads_.CloseStep(d_->time);
  geom_loads_.CloseStep(d_->time);
}

void Run::CollectLoads() {
  for (int b = 0; b < m_->nbody; ++b) {
    const StepLoad& load = BodyLoad(b);
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
  for (const StepLoad& load : geom_loads_.all()) {
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

  Prepare();

  scene::InstallMujocoHandlers();
  scene::TakeMujocoWarnings();
  const auto wall_start = std::chrono::steady_clock::now();
  const double start_time = d_->time;
  last_time_ = start_time;
  const double dt = m_->opt.timestep;
  const std::int64_t total_steps = std::max<std::int64_t>(
      1, static_cast<std::int64_t>(std::ceil(options_.duration_s / dt - 1e-9)));
  double next_progress = start_time + options_.progress_interval_s;

  try {
    UpdateEnergy();
    result_.metrics.energy_initial_j = Energy();
    result_.metrics.energy_max_j = Energy();
    if (observer_) observer_->OnStep(m_, d_, d_->time);
    // A target that starts in a zone counts at once.
    CheckTarget();
    // Options are fixed for the run: read once, not after every mj_step.
    const bool track_max_energy = options_.track_max_energy;
    SimObserver* const observer = observer_;
    std::int64_t step = 0;
    for (; step < total_steps && !finished_; ++step) {
      if (cancel && cancel->load(std::memory_order_relaxed)) {
        Finish(SimOutcome::kCancelled, StrCat("cancelled at ", Seconds(d_->time)));
        break;
      }
      mj_step(m_, d_);
      result_.metrics.steps = step + 1;
      // Only what a check needs each step: the energy is reported at the end.
      if (track_max_energy) {
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
      if (observer) {
        observer->OnStep(m_, d_, d_->time);
        if (d_->time >= next_progress - 1e-12) {
          observer->OnProgress({d_->time - start_time, options_.duration_s, step + 1});
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
  } catch (const scene::MujocoError& e) {
    Finish(SimOutcome::kPhysicsInstability, StrCat("MuJoCo error while stepping: ", e.what()));
  }

  result_.warnings = scene::TakeMujocoWarnings();
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

SimOptions SimOptionsFromManifest(const scene::Manifest& manifest) {
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

}  // namespace workerpair::heavy::sim
