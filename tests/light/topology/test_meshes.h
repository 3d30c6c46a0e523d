// Test meshes with known answers, built in code, and their STL / OBJ bytes.
//
//   Soup cube = Cube({0, 0, 0}, 1);
//   std::string stl = BinaryStl(cube);        // or AsciiStl(cube), Obj(cube)
#ifndef WORKERPAIR_TESTS_LIGHT_TOPOLOGY_TEST_MESHES_H_
#define WORKERPAIR_TESTS_LIGHT_TOPOLOGY_TEST_MESHES_H_

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <string>
#include <vector>

#include "services/light/core/topology/mesh.h"

namespace workerpair::light::test {

// An indexed triangle set; polygons (for OBJ) may have more than three corners.
struct Soup {
  std::vector<Vec3> v;
  std::vector<std::vector<std::uint32_t>> f;

  // Appends `other`, renumbering its vertices.
  void Append(const Soup& other) {
    const auto base = static_cast<std::uint32_t>(v.size());
    v.insert(v.end(), other.v.begin(), other.v.end());
    for (auto face : other.f) {
      for (auto& i : face) i += base;
      f.push_back(face);
    }
  }
  // The same faces split into triangles (fan), for STL.
  std::vector<std::array<Vec3, 3>> Triangles() const {
    std::vector<std::array<Vec3, 3>> out;
    for (const auto& face : f) {
      for (std::size_t k = 1; k + 1 < face.size(); ++k) {
        out.push_back({v[face[0]], v[face[k]], v[face[k + 1]]});
      }
    }
    return out;
  }
};

// An axis-aligned cube from `min` with side `size`, as six outward quads (CCW from outside).
inline Soup CubeQuads(Vec3 min, double size) {
  Soup s;
  for (int i = 0; i < 8; ++i) {
    s.v.push_back(
        {min.x + ((i & 1) ? size : 0), min.y + ((i & 2) ? size : 0), min.z + ((i & 4) ? size : 0)});
  }
  s.f = {{0, 2, 3, 1}, {4, 5, 7, 6}, {0, 1, 5, 4}, {2, 6, 7, 3}, {0, 4, 6, 2}, {1, 3, 7, 5}};
  return s;
}

// The same cube as 12 triangles.
inline Soup Cube(Vec3 min, double size) {
  Soup quads = CubeQuads(min, size), s;
  s.v = quads.v;
  for (const auto& q : quads.f) {
    s.f.push_back({q[0], q[1], q[2]});
    s.f.push_back({q[0], q[2], q[3]});
  }
  return s;
}

// A UV sphere of radius r centred at c: `slices` around, `stacks` from pole to pole.
inline Soup Sphere(Vec3 c, double r, int slices, int stacks) {
  Soup s;
  const double pi = std::numbers::pi;
  s.v.push_back(c + Vec3{0, 0, r});  // north pole: 0
  for (int i = 1; i < stacks; ++i) {
    const double theta = pi * i / stacks;
    for (int j = 0; j < slices; ++j) {
      const double phi = 2 * pi * j / slices;
      s.v.push_back(c + Vec3{r * std::sin(theta) * std::cos(phi),
                             r * std::sin(theta) * std::sin(phi), r * std::cos(theta)});
    }
  }
  const auto south = static_cast<std::uint32_t>(s.v.size());
  s.v.push_back(c + Vec3{0, 0, -r});
  auto ring = [&](int i, int j) {
    return static_cast<std::uint32_t>(1 + (i - 1) * slices + (j % slices));
  };
  for (int j = 0; j < slices; ++j) {
    s.f.push_back({0, ring(1, j), ring(1, j + 1)});
    for (int i = 1; i + 1 < stacks; ++i) {
      s.f.push_back({ring(i, j), ring(i + 1, j), ring(i + 1, j + 1)});
      s.f.push_back({ring(i, j), ring(i + 1, j + 1), ring(i, j + 1)});
    }
    s.f.push_back({ring(stacks - 1, j), south, ring(stacks - 1, j + 1)});
  }
  return s;
}

// The volume of the UV sphere polyhedron above (exact, from its tetrahedra about the centre).
inline double SphereVolume(double r, int slices, int stacks) {
  const Soup s = Sphere({0, 0, 0}, r, slices, stacks);
  double v6 = 0;
  for (const auto& t : s.Triangles()) v6 += Dot(t[0], Cross(t[1], t[2]));
  return v6 / 6;
}

// A torus around z: ring radius R, tube radius r, n segments around, m around the tube.
inline Soup Torus(double R, double r, int n, int m) {
  Soup s;
  const double pi = std::numbers::pi;
  for (int i = 0; i < n; ++i) {
    const double u = 2 * pi * i / n;
    for (int j = 0; j < m; ++j) {
      const double w = 2 * pi * j / m;
      s.v.push_back({(R + r * std::cos(w)) * std::cos(u), (R + r * std::cos(w)) * std::sin(u),
                     r * std::sin(w)});
    }
  }
  auto at = [&](int i, int j) { return static_cast<std::uint32_t>((i % n) * m + (j % m)); };
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < m; ++j) {
      s.f.push_back({at(i, j), at(i + 1, j), at(i + 1, j + 1)});
      s.f.push_back({at(i, j), at(i + 1, j + 1), at(i, j + 1)});
    }
  }
  return s;
}

inline void PutU32(std::string& out, std::uint32_t value) {
  for (int k = 0; k < 4; ++k) out.push_back(static_cast<char>((value >> (8 * k)) & 0xff));
}
inline void PutF32(std::string& out, double value) {
  PutU32(out, std::bit_cast<std::uint32_t>(static_cast<float>(value)));
}

inline std::string BinaryStl(const Soup& soup) {
  const auto triangles = soup.Triangles();
  std::string out(80, ' ');
  PutU32(out, static_cast<std::uint32_t>(triangles.size()));
  for (const auto& t : triangles) {
    for (int k = 0; k < 3; ++k) PutF32(out, 0);  // normal (ignored)
    for (const Vec3& p : t) {
      PutF32(out, p.x);
      PutF32(out, p.y);
      PutF32(out, p.z);
    }
    out.append(2, '\0');
  }
  return out;
}

inline std::string Number(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  return buffer;
}

// "x y z" with round-trip precision.
inline std::string Point(Vec3 p) {
  std::string out = Number(p.x);
  out += ' ';
  out += Number(p.y);
  out += ' ';
  out += Number(p.z);
  return out;
}

inline std::string AsciiStl(const Soup& soup) {
  std::string out = "solid test\n";
  for (const auto& t : soup.Triangles()) {
    out += "  facet normal 0 0 0\n    outer loop\n";
    for (const Vec3& p : t) {
      out += "      vertex ";
      out += Point(p);
      out += '\n';
    }
    out += "    endloop\n  endfacet\n";
  }
  return out + "endsolid test\n";
}

inline std::string Obj(const Soup& soup) {
  std::string out = "# test mesh\no part\n";
  for (const Vec3& p : soup.v) {
    out += "v ";
    out += Point(p);
    out += '\n';
  }
  for (const auto& face : soup.f) {
    out += "f";
    for (std::uint32_t i : face) {
      out += ' ';
      out += std::to_string(i + 1);
    }
    out += "\n";
  }
  return out;
}

inline void WriteBytes(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

}  // namespace workerpair::light::test

#endif  // WORKERPAIR_TESTS_LIGHT_TOPOLOGY_TEST_MESHES_H_
