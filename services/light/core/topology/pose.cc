#include "services/light/core/topology/pose.h"

#include <numbers>

#include "absl/status/status.h"
#include "libs/common/str_cat.h"

namespace workerpair::light {
namespace {

Quaternion Multiply(const Quaternion& a, const Quaternion& b) {
  return {
      a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z, a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
      a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x, a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w};
}

Quaternion AxisRotation(int axis, double degrees) {
  const double half = degrees * std::numbers::pi / 360.0;
  Quaternion q{std::cos(half), 0, 0, 0};
  (axis == 0 ? q.x : axis == 1 ? q.y : q.z) = std::sin(half);
  return q;
}

}  // namespace

Quaternion QuaternionFromEulerDegrees(Vec3 degrees) {
  // Intrinsic rotations compose left to right: first about x, then the new y, then the new z.
  return Multiply(Multiply(AxisRotation(0, degrees.x), AxisRotation(1, degrees.y)),
                  AxisRotation(2, degrees.z));
}

absl::StatusOr<Quaternion> NormalizeQuaternion(Quaternion q) {
  const double norm = std::sqrt(q.w * q.w + q.x * q.x + q.y * q.y + q.z * q.z);
  if (!std::isfinite(norm) || norm < 1e-12) {
    return absl::InvalidArgumentError(
        StrCat("quaternion (", q.w, ", ", q.x, ", ", q.y, ", ", q.z, ") is zero or not finite"));
  }
  return Quaternion{q.w / norm, q.x / norm, q.y / norm, q.z / norm};
}

Vec3 Rotate(const Quaternion& q, Vec3 p) {
  // p' = p + 2w (u x p) + 2 u x (u x p), with u the vector part.
  const Vec3 u{q.x, q.y, q.z};
  const Vec3 t = Cross(u, p) * 2.0;
  return p + t * q.w + Cross(u, t);
}

std::vector<Vec3> PosedVertices(const TriangleMesh& mesh, const Pose& pose) {
  std::vector<Vec3> out;
  out.reserve(mesh.vertices.size());
  for (const Vec3& p : mesh.vertices) out.push_back(Rotate(pose.rotation, p) + pose.position);
  return out;
}

}  // namespace workerpair::light
