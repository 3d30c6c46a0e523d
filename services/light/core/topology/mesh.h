// Mesh value types shared by the topology capability: 3-vectors, axis-aligned boxes and the
// welded triangle mesh that mesh loading produces and every analysis reads.
//
//   TriangleMesh mesh = ...;                              // from ParseMesh (mesh_loader.h)
//   Vec3 a = mesh.vertices[mesh.triangles[0][0]];
//   Box box = BoundingBox(mesh.vertices);
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_MESH_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_MESH_H_

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace workerpair::light {

struct Vec3 {
  double x = 0, y = 0, z = 0;

  friend Vec3 operator+(Vec3 a, Vec3 b) { return {a.x + b.x, a.y + b.y, a.z + b.z}; }
  friend Vec3 operator-(Vec3 a, Vec3 b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
  friend Vec3 operator*(Vec3 a, double s) { return {a.x * s, a.y * s, a.z * s}; }
  friend Vec3 operator/(Vec3 a, double s) { return {a.x / s, a.y / s, a.z / s}; }
  friend bool operator==(Vec3 a, Vec3 b) = default;
  double operator[](int axis) const { return axis == 0 ? x : axis == 1 ? y : z; }
};

inline double Dot(Vec3 a, Vec3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
inline Vec3 Cross(Vec3 a, Vec3 b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}
inline double Norm(Vec3 a) { return std::sqrt(Dot(a, a)); }
inline bool IsFinite(Vec3 a) {
  return std::isfinite(a.x) && std::isfinite(a.y) && std::isfinite(a.z);
}

// An axis-aligned box; empty (min > max) until a point is added.
struct Box {
  Vec3 min{std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(),
           std::numeric_limits<double>::infinity()};
  Vec3 max{-std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
           -std::numeric_limits<double>::infinity()};

  bool empty() const { return min.x > max.x || min.y > max.y || min.z > max.z; }
  Vec3 size() const { return empty() ? Vec3{} : max - min; }
  double volume() const {
    const Vec3 s = size();
    return s.x * s.y * s.z;
  }
  void Add(Vec3 p) {
    min = {std::min(min.x, p.x), std::min(min.y, p.y), std::min(min.z, p.z)};
    max = {std::max(max.x, p.x), std::max(max.y, p.y), std::max(max.z, p.z)};
  }
  // True when `inner` lies inside this box (faces may touch).
  bool Contains(const Box& inner) const {
    return inner.min.x >= min.x && inner.min.y >= min.y && inner.min.z >= min.z &&
           inner.max.x <= max.x && inner.max.y <= max.y && inner.max.z <= max.z;
  }
};

// The overlap of two boxes; empty() when they do not overlap.
inline Box Intersect(const Box& a, const Box& b) {
  Box out;
  out.min = {std::max(a.min.x, b.min.x), std::max(a.min.y, b.min.y), std::max(a.min.z, b.min.z)};
  out.max = {std::min(a.max.x, b.max.x), std::min(a.max.y, b.max.y), std::min(a.max.z, b.max.z)};
  return out;
}

inline Box BoundingBox(const std::vector<Vec3>& points) {
  Box box;
  for (const Vec3& p : points) box.Add(p);
  return box;
}

enum class MeshFormat { kStlBinary, kStlAscii, kObj };

// A triangle mesh after welding: `triangles` index `vertices`. Triangles keep the order of the
// file (an OBJ polygon becomes consecutive fan triangles), so a triangle's position in the
// vector is the face index clients use. A triangle may name one vertex twice when welding
// collapsed it; analyses count it as degenerate and leave it out of the topology.
struct TriangleMesh {
  MeshFormat format = MeshFormat::kStlBinary;
  std::vector<Vec3> vertices;
  std::vector<std::array<std::uint32_t, 3>> triangles;

  Vec3 corner(std::size_t face, int k) const { return vertices[triangles[face][k]]; }
  bool collapsed(std::size_t face) const {
    const auto& t = triangles[face];
    return t[0] == t[1] || t[1] == t[2] || t[0] == t[2];
  }
};

inline const char* FormatName(MeshFormat format) {
  switch (format) {
    case MeshFormat::kStlBinary:
      return "stl-binary";
    case MeshFormat::kStlAscii:
      return "stl-ascii";
    case MeshFormat::kObj:
      return "obj";
  }
  return "unknown";
}

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_TOPOLOGY_MESH_H_
