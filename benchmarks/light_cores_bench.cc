// light_cores_bench: worker-light's lint and bundle cores against the raw tools, side by side.
//
//   lint of a 1,000-line MJCF  vs  a bare expat parse of the same bytes
//   PackDirectory of ~20 MB    vs  `tar czf` of the same files
//   UnpackArchive of that      vs  `tar xzf` of the same archive
//
//   build/benchmarks/light_cores_bench
#include <expat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "benchmarks/bench_stats.h"
#include "libs/common/bundle.h"
#include "services/light/core/lint/linter.h"
#include "services/light/core/files/workspace_store.h"
#include "tests/support/server_process.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Median wall time of `runs` calls, in milliseconds.
double MedianMs(int runs, const std::function<void()>& body) {
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    const auto start = Clock::now();
    body();
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  return workerpair::bench::Median(std::move(times));
}

std::string Mjcf1000Lines() {
  std::string xml = "<mujoco model=\"bench\">\n  <worldbody>\n";
  int lines = 2;
  for (int i = 0; lines < 996; ++i, lines += 5) {
    xml += "    <body name=\"b" + std::to_string(i) + "\" pos=\"" + std::to_string(i % 10) + " " +
           std::to_string(i / 10) + " 1\">\n";
    xml += "      <freejoint/>\n";
    xml += "      <geom name=\"g" + std::to_string(i) + "\" type=\"box\" size=\"0.1 0.1 0.1\"/>\n";
    xml += "      <site name=\"s" + std::to_string(i) + "\" size=\"0.01\"/>\n";
    xml += "    </body>\n";
  }
  xml += "  </worldbody>\n</mujoco>\n";
  return xml;
}

void Write(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

}  // namespace

int main() {
  workerpair::testing::TempDir dir;

  // Lint: 1,000 lines of MJCF, built-in checks only (no external linters).
  auto store = workerpair::light::WorkspaceStore::Open(dir.path() / "ws");
  if (!(*store)->Create("bench", true).ok()) return 1;
  auto ws = *(*store)->Get("bench");
  const std::string xml = Mjcf1000Lines();
  Write(ws.root / "scene.xml", xml);
  workerpair::light::Linter linter(workerpair::light::LintOptions{});
  workerpair::light::LintRunOptions run;
  run.external = false;
  const double lint_ms = MedianMs(50, [&] { (void)linter.LintFile(ws, "scene.xml", run); });
  const double expat_ms = MedianMs(50, [&] {
    XML_Parser parser = XML_ParserCreate(nullptr);
    XML_Parse(parser, xml.data(), static_cast<int>(xml.size()), 1);
    XML_ParserFree(parser);
  });
  std::printf("| lint of a %zu-line MJCF (%zu bytes) | %.2f ms | bare expat parse %.2f ms | %.1fx |\n",
              static_cast<size_t>(std::count(xml.begin(), xml.end(), '\n')), xml.size(), lint_ms,
              expat_ms, lint_ms / expat_ms);

  // Bundle: ~20 MB of mixed content (meshes-like random bytes and repetitive text).
  const fs::path tree = dir.path() / "tree";
  std::mt19937 random(1);
  std::uint64_t total = 0;
  for (int i = 0; i < 10; ++i) {
    std::string binary(1 << 20, '\0');
    for (char& c : binary) c = static_cast<char>(random() & 0x3f);  // meshes compress somewhat
    Write(tree / "meshes" / ("part" + std::to_string(i) + ".stl"), binary);
    total += binary.size();
  }
  for (int i = 0; i < 100; ++i) {
    std::string text;
    while (text.size() < 100 * 1024) text += "<geom name=\"g\" type=\"box\" size=\"0.1 0.1 0.1\"/>\n";
    Write(tree / "scenes" / ("s" + std::to_string(i) + ".xml"), text);
    total += text.size();
  }
  const double mb = static_cast<double>(total) / (1 << 20);
  workerpair::PackResult packed;
  const double pack_ms = MedianMs(5, [&] {
    packed = *workerpair::PackDirectory(tree, {}, workerpair::PackOptions{});
  });
  const std::string tar_command = "tar czf " + (dir.path() / "tar.tgz").string() + " -C " +
                                  tree.string() + " .";
  const double tar_ms = MedianMs(5, [&] { (void)std::system(tar_command.c_str()); });
  std::printf("| pack %.1f MB (%zu files) | %.0f ms, %.0f MB/s, archive %.1f MB | tar czf %.0f ms, "
              "%.0f MB/s | %.2fx tar's time |\n",
              mb, static_cast<size_t>(110), pack_ms, mb / (pack_ms / 1000),
              packed.archive.size() / double(1 << 20), tar_ms, mb / (tar_ms / 1000),
              pack_ms / tar_ms);

  int round = 0;
  const double unpack_ms = MedianMs(5, [&] {
    const fs::path out = dir.path() / ("out" + std::to_string(round++));
    fs::create_directories(out);
    (void)workerpair::UnpackArchive(packed.archive, out, workerpair::UnpackLimits{});
  });
  const double untar_ms = MedianMs(5, [&] {
    const fs::path out = dir.path() / ("untar" + std::to_string(round++));
    fs::create_directories(out);
    const std::string command =
        "tar xzf " + (dir.path() / "tar.tgz").string() + " -C " + out.string();
    (void)std::system(command.c_str());
  });
  std::printf("| unpack the same | %.0f ms, %.0f MB/s | tar xzf %.0f ms, %.0f MB/s | %.2fx tar's "
              "time |\n",
              unpack_ms, mb / (unpack_ms / 1000), untar_ms, mb / (untar_ms / 1000),
              unpack_ms / untar_ms);
  return 0;
}
