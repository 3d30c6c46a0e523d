// Shared pieces of worker-heavy's liveness tests: a real worker-heavy on loopback with its own
// scratch, payloads (a scene that runs long, examples), raw payload streams that stall, RSS and
// metrics readers.
#ifndef WORKERPAIR_TESTS_HEAVY_LIVENESS_LIVENESS_SUPPORT_H_
#define WORKERPAIR_TESTS_HEAVY_LIVENESS_LIVENESS_SUPPORT_H_

#include <sys/types.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/common/bundle.h"
#include "libs/common/str_cat.h"
#include "tests/support/http_get.h"
#include "tests/support/server_process.h"
#include "workerpair/v1/heavy.grpc.pb.h"

namespace workerpair::heavy::liveness {

namespace fs = std::filesystem;
using workerpair::testing::ServerProcess;
using workerpair::testing::TempDir;

struct Payload {
  std::string archive;
  std::string sha256;
};

inline void WriteText(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

inline Payload Pack(const fs::path& dir) {
  auto packed = PackDirectory(dir, {}, PackOptions{});
  REQUIRE(packed.ok());
  return {packed->archive, packed->sha256};
}

inline Payload PackExample(const std::string& name) {
  return Pack(fs::path(WORKERPAIR_SOURCE_DIR) / "examples/scenes" / name);
}

// A scene that runs long (120 s at 0.1 ms steps), rendering off.
inline Payload SlowScene(const fs::path& dir) {
  WriteText(dir / "manifest.json", R"({
    "version": 1, "scene": "scene.xml",
    "simulation": { "duration_s": 120, "timestep_s": 0.0001, "target_body": "box" },
    "render": { "enabled": false } })");
  WriteText(dir / "scene.xml", R"(<mujoco>
    <worldbody>
      <geom type="plane" size="5 5 0.1"/>
      <body name="box" pos="0 0 0.5"><freejoint/><geom type="box" size="0.1 0.1 0.1"/></body>
    </worldbody></mujoco>)");
  return Pack(dir);
}

// Options for a job whose only events are heartbeats while it runs: no rendering, progress
// events far apart.
inline v1::SimulateOptions QuietOptions() {
  v1::SimulateOptions options;
  options.set_render(false);
  options.set_progress_interval_s(600);
  return options;
}

template <typename Condition>
bool Eventually(Condition condition, absl::Duration timeout = absl::Seconds(15)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

// VmRSS of `pid`, bytes (0 when unreadable).
inline std::uint64_t RssBytes(pid_t pid) {
  std::ifstream in(StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream fields(line.substr(6));
      std::uint64_t kib = 0;
      fields >> kib;
      return kib * 1024;
    }
  }
  return 0;
}

// The value of an unlabelled series on a /metrics page; -1 when absent.
inline double MetricValue(const std::string& page, const std::string& name) {
  const std::string key = "\n" + name + " ";
  const std::size_t at = page.find(key);
  if (at == std::string::npos) return -1;
  return std::stod(page.substr(at + key.size()));
}

// A worker-heavy with its own scratch base and a metrics port.
struct Heavy {
  explicit Heavy(std::vector<std::string> args = {}) {
    args.push_back(StrCat("--scratch_dir=", scratch().string()));
    args.push_back("--metrics_listen=127.0.0.1:0");
    auto started = ServerProcess::Start(WORKERPAIR_HEAVY_BINARY, args);
    REQUIRE(started.ok());
    process = std::move(*started);
    stub = v1::HeavyService::NewStub(process->Channel());
  }
  fs::path scratch() const { return temp.path() / "scratch"; }
  // Files named upload-* in the server's instance directory: spilled uploads.
  int UploadFiles() const {
    int count = 0;
    for (const auto& base : fs::directory_iterator(scratch())) {
      if (!base.is_directory()) continue;
      for (const auto& entry : fs::directory_iterator(base.path())) {
        if (entry.path().filename().string().rfind("upload-", 0) == 0) ++count;
      }
    }
    return count;
  }
  std::string Metrics() const {
    return "\n" + workerpair::testing::HttpGet(process->metrics_port(), "/metrics");
  }
  double Metric(const std::string& name) const { return MetricValue(Metrics(), name); }

  TempDir temp;
  std::unique_ptr<ServerProcess> process;
  std::unique_ptr<v1::HeavyService::Stub> stub;
};

// One Simulate call driven by hand.
struct SimulateStream {
  SimulateStream(v1::HeavyService::Stub* stub, absl::Duration deadline = absl::Seconds(120)) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    stream = stub->Simulate(&context);
  }
  // Sends the header declaring `declared_size` bytes and `sha256`.
  bool Header(std::uint64_t declared_size, const std::string& sha256,
              const v1::SimulateOptions& options = {}) {
    v1::SimulateRequest header;
    header.mutable_header()->mutable_payload()->set_size_bytes(declared_size);
    header.mutable_header()->mutable_payload()->set_sha256(sha256);
    *header.mutable_header()->mutable_options() = options;
    return stream->Write(header);
  }
  bool Chunk(std::string bytes) {
    v1::SimulateRequest chunk;
    chunk.set_chunk(std::move(bytes));
    return stream->Write(chunk);
  }
  // Header and the whole payload in 64 KiB chunks.
  bool Send(const Payload& payload, const v1::SimulateOptions& options = {}) {
    if (!Header(payload.archive.size(), payload.sha256, options)) return false;
    for (std::size_t at = 0; at < payload.archive.size(); at += 64 << 10) {
      if (!Chunk(payload.archive.substr(at, 64 << 10))) return false;
    }
    return true;
  }
  // Reads to the end and returns the status.
  grpc::Status Drain() {
    v1::SimulateResponse event;
    while (stream->Read(&event)) events.push_back(event);
    return stream->Finish();
  }

  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReaderWriter<v1::SimulateRequest, v1::SimulateResponse>> stream;
  std::vector<v1::SimulateResponse> events;
};

}  // namespace workerpair::heavy::liveness

#endif  // WORKERPAIR_TESTS_HEAVY_LIVENESS_LIVENESS_SUPPORT_H_
