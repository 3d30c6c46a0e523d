#include "services/light/core/topology/mesh_topology.h"

#include <algorithm>
#include <numeric>

namespace workerpair::light {
namespace {

constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

// Union-find with path halving and union by index (the smaller root wins: deterministic).
class DisjointSets {
 public:
  explicit DisjointSets(std::size_t n) : parent_(n) {
    std::iota(parent_.begin(), parent_.end(), 0u);
  }
  std::uint32_t Find(std::uint32_t x) {
    while (parent_[x] != x) {
      parent_[x] = parent_[parent_[x]];
      x = parent_[x];
    }
    return x;
  }
  void Union(std::uint32_t a, std::uint32_t b) {
    a = Find(a);
    b = Find(b);
    if (a == b) return;
    if (a < b) std::swap(a, b);
    parent_[a] = b;
  }

 private:
  std::vector<std::uint32_t> parent_;
};

// The corner of `face` that holds `vertex`.
std::uint32_t CornerOf(const TriangleMesh& mesh, std::uint32_t face, std::uint32_t vertex) {
  const auto& t = mesh.triangles[face];
  const std::uint32_t k = t[0] == vertex ? 0 : t[1] == vertex ? 1 : 2;
  return face * 3 + k;
}

}  // namespace

EdgeTable BuildEdgeTable(const TriangleMesh& mesh) {
  // One entry per face side: (a << 32 | b, face, runs a -> b).
  struct Side {
    std::uint64_t key;
    std::uint32_t face;
    bool forward;
  };
  std::vector<Side> sides;
  sides.reserve(mesh.triangles.size() * 3);
  for (std::size_t f = 0; f < mesh.triangles.size(); ++f) {
    if (mesh.collapsed(f)) continue;
    const auto& t = mesh.triangles[f];
    for (int k = 0; k < 3; ++k) {
      const std::uint32_t from = t[k], to = t[(k + 1) % 3];
      const std::uint64_t a = std::min(from, to), b = std::max(from, to);
      sides.push_back({a << 32 | b, static_cast<std::uint32_t>(f), from < to});
    }
  }
  std::sort(sides.begin(), sides.end(), [](const Side& l, const Side& r) {
    return l.key != r.key ? l.key < r.key : l.face < r.face;
  });

  EdgeTable table;
  table.faces.reserve(sides.size());
  for (std::size_t i = 0; i < sides.size(); ++i) {
    if (i == 0 || sides[i].key != sides[i - 1].key) {
      table.edges.push_back({static_cast<std::uint32_t>(sides[i].key >> 32),
                             static_cast<std::uint32_t>(sides[i].key & 0xffffffffu)});
      table.offsets.push_back(static_cast<std::uint32_t>(table.faces.size()));
      table.forward.push_back(0);
    }
    table.faces.push_back(sides[i].face);
    if (sides[i].forward) ++table.forward.back();
  }
  table.offsets.push_back(static_cast<std::uint32_t>(table.faces.size()));
  return table;
}

TopologyReport AnalyzeTopology(const TriangleMesh& mesh, const EdgeTable& edges) {
  TopologyReport report;
  const std::size_t vertex_total = mesh.vertices.size();

  // Components: vertices joined by the faces that use them.
  DisjointSets vertex_sets(vertex_total);
  std::vector<bool> used(vertex_total, false);
  for (std::size_t f = 0; f < mesh.triangles.size(); ++f) {
    if (mesh.collapsed(f)) continue;
    const auto& t = mesh.triangles[f];
    vertex_sets.Union(t[0], t[1]);
    vertex_sets.Union(t[1], t[2]);
    for (std::uint32_t v : t) used[v] = true;
    ++report.face_count;
  }
  // Number components by their first face.
  std::vector<std::uint32_t> component_of_root(vertex_total, kNone);
  std::vector<ComponentReport>& components = report.components;
  for (std::size_t f = 0; f < mesh.triangles.size(); ++f) {
    if (mesh.collapsed(f)) continue;
    const std::uint32_t root = vertex_sets.Find(mesh.triangles[f][0]);
    if (component_of_root[root] == kNone) {
      component_of_root[root] = static_cast<std::uint32_t>(components.size());
      components.push_back({.first_face = static_cast<std::uint32_t>(f)});
    }
    ++components[component_of_root[root]].face_count;
  }
  auto component_of = [&](std::uint32_t vertex) {
    return component_of_root[vertex_sets.Find(vertex)];
  };
  for (std::size_t v = 0; v < vertex_total; ++v) {
    if (!used[v]) continue;
    ++report.vertex_count;
    ++components[component_of(static_cast<std::uint32_t>(v))].vertex_count;
  }

  // Edges: holes, non-manifold edges, orientation; per-component defects decide closedness.
  std::vector<std::uint64_t> defects(components.size(), 0);
  DisjointSets corner_sets(mesh.triangles.size() * 3);
  report.edge_count = edges.size();
  for (std::size_t e = 0; e < edges.size(); ++e) {
    const auto [a, b] = edges.edges[e];
    const std::span<const std::uint32_t> faces = edges.FacesOf(e);
    const std::uint32_t c = component_of(a);
    ++components[c].edge_count;
    if (faces.size() == 1) {
      ++report.boundary_edge_count;
      ++defects[c];
    } else if (faces.size() > 2) {
      ++report.non_manifold_edge_count;
      ++defects[c];
    } else if (!edges.Consistent(e)) {
      ++report.inconsistent_edge_count;
      ++defects[c];
    }
    // Faces across an edge belong to the same fan around each of its two vertices.
    for (std::size_t i = 1; i < faces.size(); ++i) {
      corner_sets.Union(CornerOf(mesh, faces[i - 1], a), CornerOf(mesh, faces[i], a));
      corner_sets.Union(CornerOf(mesh, faces[i - 1], b), CornerOf(mesh, faces[i], b));
    }
  }

  // Vertices: more than one fan of corners makes a non-manifold vertex.
  std::vector<std::uint32_t> fan_of_vertex(vertex_total, kNone);
  std::vector<bool> counted(vertex_total, false);
  for (std::size_t f = 0; f < mesh.triangles.size(); ++f) {
    if (mesh.collapsed(f)) continue;
    for (int k = 0; k < 3; ++k) {
      const std::uint32_t v = mesh.triangles[f][k];
      const std::uint32_t fan = corner_sets.Find(static_cast<std::uint32_t>(f * 3 + k));
      if (fan_of_vertex[v] == kNone) {
        fan_of_vertex[v] = fan;
      } else if (fan_of_vertex[v] != fan && !counted[v]) {
        counted[v] = true;
        ++report.non_manifold_vertex_count;
        ++defects[component_of(v)];
      }
    }
  }

  // Euler characteristic and genus, per component and overall.
  bool all_closed = !components.empty();
  std::int64_t genus_sum = 0;
  for (std::size_t c = 0; c < components.size(); ++c) {
    ComponentReport& component = components[c];
    component.euler_characteristic = static_cast<std::int64_t>(component.vertex_count) -
                                     static_cast<std::int64_t>(component.edge_count) +
                                     static_cast<std::int64_t>(component.face_count);
    const std::int64_t chi = component.euler_characteristic;
    component.closed = defects[c] == 0 && chi <= 2 && chi % 2 == 0;
    if (component.closed) {
      component.genus = (2 - chi) / 2;
      genus_sum += *component.genus;
    } else {
      all_closed = false;
    }
  }
  report.euler_characteristic = static_cast<std::int64_t>(report.vertex_count) -
                                static_cast<std::int64_t>(report.edge_count) +
                                static_cast<std::int64_t>(report.face_count);
  if (all_closed) report.genus = genus_sum;
  report.watertight = report.face_count > 0 && report.boundary_edge_count == 0 &&
                      report.non_manifold_edge_count == 0;
  report.manifold = report.non_manifold_edge_count == 0 && report.non_manifold_vertex_count == 0;
  report.consistently_oriented = report.inconsistent_edge_count == 0;
  return report;
}

}  // namespace workerpair::light
