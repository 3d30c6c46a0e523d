// The normal and two tangential components of a contact's force, as mj_contactForce gives them,
// without its per-contact call chain (mj_contactForce -> mju_zero, mj_isPyramidal,
// mju_decodePyramid): the step loop reads every contact of every step.
//
//   const bool pyramidal = model->opt.cone == mjCONE_PYRAMIDAL;
//   mjtNum force[3];
//   ContactForce3(pyramidal, data, data->contact[i], force);  // == mj_contactForce's [0..2]
//
// The same operations in the same order as MuJoCo 2.2.2's mj_contactForce and
// mju_decodePyramid, so the same bits (contact_force_test compares them on every contact of
// pyramidal and elliptic scenes of every condim).
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_SIM_CONTACT_FORCE_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_SIM_CONTACT_FORCE_H_

#include <mujoco/mujoco.h>

namespace workerpair::heavy::sim {

// `pyramidal`: model->opt.cone == mjCONE_PYRAMIDAL (mj_isPyramidal). A contact left out of the
// constraints (efc_address < 0) has no force.
inline void ContactForce3(bool pyramidal, const mjData* d, const mjContact& contact,
                          mjtNum force[3]) {
  force[0] = force[1] = force[2] = 0;
  if (contact.efc_address < 0) return;
  const mjtNum* efc = d->efc_force + contact.efc_address;
  const int dim = contact.dim;
  if (!pyramidal) {  // elliptic: the force is stored in the contact frame
    for (int i = 0; i < dim && i < 3; ++i) force[i] = efc[i];
    return;
  }
  if (dim == 1) {  // frictionless
    force[0] = efc[0];
    return;
  }
  // Normal: the sum of all pyramid edges; tangent i: (edge 2i - edge 2i+1) * mu_i.
  if (dim == 3) {  // the usual contact, unrolled: the same sums in the same order
    force[0] = (((0 + efc[0]) + efc[1]) + efc[2]) + efc[3];
    force[1] = (efc[0] - efc[1]) * contact.friction[0];
    force[2] = (efc[2] - efc[3]) * contact.friction[1];
    return;
  }
  mjtNum normal = 0;
  for (int i = 0; i < 2 * (dim - 1); ++i) normal += efc[i];
  force[0] = normal;
  for (int i = 0; i < dim - 1 && i < 2; ++i) {
    force[i + 1] = (efc[2 * i] - efc[2 * i + 1]) * contact.friction[i];
  }
}

}  // namespace workerpair::heavy::sim

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_SIM_CONTACT_FORCE_H_
