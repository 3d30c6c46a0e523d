// Rigid poses of assembly parts: a position and a rotation (unit quaternion).
//
//   WP_ASSIGN_OR_RETURN(Quaternion q, NormalizeQuaternion({1, 0, 0, 0}));
//   Pose pose{.position = {0.1, 0, 0}, .rotation = QuaternionFromEulerDegrees({0, 0, 90})};
//   std::vector<Vec3> world = PosedVertices(mesh, pose);
//
// Conventions follow MuJoCo's defaults: quaternions are (w, x, y, z); Euler angles are in
// degrees about the intrinsic axes x, then y, then z (eulerseq "xyz"), so R = Rx * Ry * Rz.
// A point p of the part lands at R * p + position.
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_POSE_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_POSE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "services/light/core/topology/mesh.h"

namespace workerpair::light {

struct Quaternion {
  double w = 1, x = 0, y = 0, z = 0;
};

struct Pose {
  Vec3 position;
  Quaternion rotation;
};

// The rotation for intrinsic x-y-z Euler angles in degrees.
Quaternion QuaternionFromEulerDegrees(Vec3 degrees);

// `q` scaled to unit length. INVALID_ARGUMENT when it is zero or not finite.
absl::StatusOr<Quaternion> NormalizeQuaternion(Quaternion q);

// R * p for the unit quaternion `q`.
Vec3 Rotate(const Quaternion& q, Vec3 p);

// Every vertex of `mesh` moved by `pose`.
std::vector<Vec3> PosedVertices(const TriangleMesh& mesh, const Pose& pose);

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_POSE_H_
