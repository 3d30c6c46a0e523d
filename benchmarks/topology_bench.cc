// topology_bench: the cost of mesh analysis and assembly validation in worker-light's core.
//
// Generates a ~100k-triangle torus (binary STL, 5 MB) in a temporary workspace and times, as
// the LightTopology handlers run them (read + parse + weld + analyse): AnalyzeMesh, InspectEdge,
// and ValidateAssembly of two overlapping tori at 64 samples per axis. Prints the median and
// best of N runs.
//
//   build/benchmarks/topology_bench [runs]        # default 7
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <vector>

#include "services/light/core/topology/topology_analyzer.h"
#include "tests/light/topology/test_meshes.h"
#include "tests/support/server_process.h"

namespace light = workerpair::light;
using Clock = std::chrono::steady_clock;

namespace {

// Runs `body` `runs` times; prints median and best wall time in milliseconds.
void Time(const char* name, int runs, const std::function<bool()>& body) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto start = Clock::now();
    if (!body()) {
      std::fprintf(stderr, "%s failed\n", name);
      std::exit(EXIT_FAILURE);
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("%-40s median %8.1f ms   best %8.1f ms\n", name, ms[ms.size() / 2], ms.front());
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 7;
  workerpair::testing::TempDir dir;
  const std::filesystem::path root = std::filesystem::canonical(dir.path());
  // 320 x 160 quads, two triangles each: 102,400 triangles, 51,200 vertices.
  const light::test::Soup torus = light::test::Torus(3, 1, 320, 160);
  light::test::WriteBytes(root / "torus.stl", light::test::BinaryStl(torus));
  std::printf("torus.stl: %zu triangles, %ju bytes\n", torus.f.size(),
              static_cast<std::uintmax_t>(std::filesystem::file_size(root / "torus.stl")));

  const light::TopologyAnalyzer analyzer(light::TopologyOptions{});
  Time("AnalyzeMesh (100k triangles)", runs, [&] {
    auto analysis = analyzer.Analyze(root, "torus.stl", {});
    return analysis.ok() && analysis->topology.genus == 1;
  });
  Time("AnalyzeMesh, weld epsilon 1e-6", runs, [&] {
    auto analysis = analyzer.Analyze(root, "torus.stl", {.weld_epsilon = 1e-6});
    return analysis.ok() && analysis->topology.genus == 1;
  });
  Time("InspectEdge (load + edge table)", runs,
       [&] { return analyzer.InspectEdge(root, "torus.stl", 1000, {}).ok(); });
  const std::vector<light::AssemblyPartSpec> parts = {
      {.name = "a", .path = "torus.stl"},
      {.name = "b", .path = "torus.stl", .position = {1, 0, 0}, .euler_degrees = {90, 0, 0}}};
  Time("ValidateAssembly (2 x 100k, 64/axis)", runs, [&] {
    auto report = analyzer.ValidateAssembly(root, parts, {}, {});
    return report.ok() && !report->interferences.empty();
  });
  return EXIT_SUCCESS;
}
