// heavy_bench: worker-heavy against the raw libraries, side by side in one run.
//
//   1. simulation throughput through the service (render off) vs a bare mj_step loop on the
//      same model, as steps per second;
//   2. the fixed cost of a job (upload, digest, unpack, compile) via BuildScene, for payloads of
//      ~1 MB and ~20 MB, vs the same scene with a tiny payload;
//   3. video frames per second through the service (simulate + render + encode + stream) vs a
//      bare render + read-pixels loop on the same model and size.
//
//   build/benchmarks/heavy_bench
#include <mujoco/mujoco.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "libs/common/bundle.h"
#include "services/heavy/core/render/frame_renderer.h"
#include "services/heavy/core/render/render_thread.h"
#include "tests/support/server_process.h"
#include "workerpair/v1/heavy.grpc.pb.h"

namespace fs = std::filesystem;
namespace v1 = workerpair::v1;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kBoxes = 20;
constexpr double kDuration = 10.0;
constexpr double kTimestep = 0.002;

std::string SceneXml() {
  // Explicit sizes: MuJoCo 2.2's defaults overflow on a pile, which would make the two sides
  // simulate different things.
  std::string xml = "<mujoco>\n  <option timestep=\"0.002\"/>\n"
                    "  <size njmax=\"2000\" nconmax=\"500\"/>\n  <worldbody>\n"
                    "    <light pos=\"0 0 5\"/>\n    <geom type=\"plane\" size=\"5 5 0.1\"/>\n";
  for (int i = 0; i < kBoxes; ++i) {
    xml += "    <body name=\"b" + std::to_string(i) + "\" pos=\"" + std::to_string((i % 5) * 0.3) +
           " " + std::to_string((i / 5) * 0.3) + " " + std::to_string(0.5 + 0.25 * i) +
           "\"><freejoint/><geom type=\"box\" size=\"0.1 0.1 0.1\"/></body>\n";
  }
  return xml + "  </worldbody>\n</mujoco>\n";
}

void Write(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

// A payload directory with the scene, a manifest and `padding_bytes` of incompressible data.
workerpair::PackResult MakePayload(const fs::path& dir, bool render, std::size_t padding_bytes) {
  Write(dir / "scene.xml", SceneXml());
  Write(dir / "manifest.json",
        std::string(R"({"version": 1, "scene": "scene.xml", "simulation": {"duration_s": )") +
            std::to_string(kDuration) + R"(, "target_body": "b0"}, "render": {"enabled": )" +
            (render ? "true" : "false") + R"(, "width": 640, "height": 480, "fps": 30}})");
  if (padding_bytes > 0) {
    std::mt19937_64 random(7);
    std::string noise(padding_bytes, '\0');
    for (char& c : noise) c = static_cast<char>(random());
    Write(dir / "assets/padding.bin", noise);
  }
  return *workerpair::PackDirectory(dir, {}, workerpair::PackOptions{});
}

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// One Simulate call; returns {wall seconds, steps, frames}.
struct SimulateFigures {
  double wall_s = 0;
  std::uint64_t steps = 0, frames = 0;
  std::string outcome;
  bool ok = false;
};

SimulateFigures Simulate(v1::HeavyService::Stub& stub, const workerpair::PackResult& payload) {
  const auto start = Clock::now();
  grpc::ClientContext context;
  auto stream = stub.Simulate(&context);
  v1::SimulateRequest header;
  header.mutable_header()->mutable_payload()->set_size_bytes(payload.archive.size());
  header.mutable_header()->mutable_payload()->set_sha256(payload.sha256);
  stream->Write(header);
  for (std::size_t offset = 0; offset < payload.archive.size(); offset += 1 << 20) {
    v1::SimulateRequest chunk;
    chunk.set_chunk(payload.archive.substr(offset, 1 << 20));
    stream->Write(chunk);
  }
  stream->WritesDone();
  SimulateFigures figures;
  v1::SimulateResponse event;
  while (stream->Read(&event)) {
    if (event.has_result()) {
      figures.steps = event.result().metrics().steps();
      figures.frames = event.result().metrics().frames_rendered();
      figures.outcome = v1::FailReason_Name(event.result().fail_reason()) + ": " +
                        event.result().detail();
    }
  }
  figures.ok = stream->Finish().ok();
  figures.wall_s = Seconds(start);
  return figures;
}

double BuildSceneSeconds(v1::HeavyService::Stub& stub, const workerpair::PackResult& payload) {
  const auto start = Clock::now();
  grpc::ClientContext context;
  v1::BuildSceneResponse response;
  auto stream = stub.BuildScene(&context, &response);
  v1::BuildSceneRequest header;
  header.mutable_header()->mutable_payload()->set_size_bytes(payload.archive.size());
  header.mutable_header()->mutable_payload()->set_sha256(payload.sha256);
  stream->Write(header);
  for (std::size_t offset = 0; offset < payload.archive.size(); offset += 1 << 20) {
    v1::BuildSceneRequest chunk;
    chunk.set_chunk(payload.archive.substr(offset, 1 << 20));
    stream->Write(chunk);
  }
  stream->WritesDone();
  const grpc::Status status = stream->Finish();
  if (!status.ok()) std::fprintf(stderr, "BuildScene: %s\n", status.error_message().c_str());
  return Seconds(start);
}

template <typename F>
double Median(int runs, F&& f) {
  std::vector<double> values;
  for (int i = 0; i < runs; ++i) values.push_back(f());
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main() {
  workerpair::testing::TempDir dir;
  auto server = workerpair::testing::ServerProcess::Start(
      WORKERPAIR_HEAVY_BINARY,
      {"--log_level=warn", "--slots=1", "--scratch_dir=" + (dir.path() / "scratch").string()});
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 1;
  }
  auto stub = v1::HeavyService::NewStub((*server)->Channel());
  std::printf("model: %d free boxes on a plane, timestep %.3f s, %.0f s simulated\n\n", kBoxes,
              kTimestep, kDuration);

  // 1. Simulation throughput: service (render off) vs bare mj_step.
  const auto quiet = MakePayload(dir.path() / "quiet", false, 0);
  Simulate(*stub, quiet);  // warm-up
  SimulateFigures service;
  const double service_s = Median(3, [&] {
    service = Simulate(*stub, quiet);
    return service.wall_s;
  });
  char error[1000] = "";
  const std::string xml_path = (dir.path() / "quiet/scene.xml").string();
  mjModel* model = mj_loadXML(xml_path.c_str(), nullptr, error, sizeof(error));
  if (model == nullptr) {
    std::fprintf(stderr, "mj_loadXML: %s\n", error);
    return 1;
  }
  std::printf("service outcome: %s\n", service.outcome.c_str());
  const std::uint64_t steps = service.steps;
  const double bare_s = Median(3, [&] {
    mjData* data = mj_makeData(model);
    const auto start = Clock::now();
    for (std::uint64_t i = 0; i < steps; ++i) mj_step(model, data);
    const double seconds = Seconds(start);
    if (data->warning[mjWARN_CONTACTFULL].number + data->warning[mjWARN_CNSTRFULL].number > 0) {
      std::fprintf(stderr, "warning: the bare loop overflowed its contact buffers\n");
    }
    mj_deleteData(data);
    return seconds;
  });
  std::printf("| simulation, render off | service %llu steps in %.3f s = %.0f steps/s (whole call)"
              " | bare mj_step %.3f s = %.0f steps/s | %.2fx bare |\n",
              static_cast<unsigned long long>(steps), service_s, steps / service_s, bare_s,
              steps / bare_s, (steps / service_s) / (steps / bare_s));

  // 2. Fixed cost of a job: BuildScene (upload, digest, unpack, compile) by payload size.
  const auto tiny = MakePayload(dir.path() / "tiny", false, 0);
  const auto one_mb = MakePayload(dir.path() / "one", false, 1 << 20);
  const auto twenty_mb = MakePayload(dir.path() / "twenty", false, 20 << 20);
  BuildSceneSeconds(*stub, tiny);
  const double tiny_s = Median(5, [&] { return BuildSceneSeconds(*stub, tiny); });
  const double one_s = Median(5, [&] { return BuildSceneSeconds(*stub, one_mb); });
  const double twenty_s = Median(5, [&] { return BuildSceneSeconds(*stub, twenty_mb); });
  const double compile_s = Median(5, [&] {
    const auto start = Clock::now();
    mjModel* m = mj_loadXML(xml_path.c_str(), nullptr, error, sizeof(error));
    const double seconds = Seconds(start);
    mj_deleteModel(m);
    return seconds;
  });
  std::printf("| job fixed cost (BuildScene) | %.1f KB payload %.1f ms; %.1f MB %.1f ms; %.1f MB "
              "%.1f ms | bare mj_loadXML %.1f ms | %.1fx / %.1fx / %.1fx bare |\n",
              tiny.archive.size() / 1024.0, tiny_s * 1000, one_mb.archive.size() / 1048576.0,
              one_s * 1000, twenty_mb.archive.size() / 1048576.0, twenty_s * 1000,
              compile_s * 1000, tiny_s / compile_s, one_s / compile_s, twenty_s / compile_s);

  // 3. Frames per second: service (simulate + render + encode + stream) vs bare render loop.
  const auto rendered = MakePayload(dir.path() / "rendered", true, 0);
  SimulateFigures video;
  Median(1, [&] {
    video = Simulate(*stub, rendered);
    return video.wall_s;
  });
  auto thread = workerpair::heavy::RenderThread::Start({});
  if (!thread.ok()) {
    std::fprintf(stderr, "%s\n", thread.status().ToString().c_str());
    return 1;
  }
  const int frames = static_cast<int>(video.frames);
  const double bare_render_s = (*thread)->Call([&] {
    workerpair::heavy::RenderSettings settings;
    settings.width = 640;
    settings.height = 480;
    auto renderer = workerpair::heavy::FrameRenderer::Create(model, settings);
    mjData* data = mj_makeData(model);
    mj_forward(model, data);
    mjvCamera camera;
    mjv_defaultFreeCamera(model, &camera);
    const auto start = Clock::now();
    for (int i = 0; i < frames; ++i) (void)(*renderer)->Render(data, camera);
    const double seconds = Seconds(start);
    mj_deleteData(data);
    return seconds;
  });
  std::printf("| video 640x480 @ 30 fps | service %llu frames in %.2f s = %.1f frames/s (whole "
              "call: simulate, render, encode, stream) | bare render + readPixels %.1f frames/s | "
              "%.2fx bare |\n",
              static_cast<unsigned long long>(video.frames), video.wall_s,
              video.frames / video.wall_s, frames / bare_render_s,
              (video.frames / video.wall_s) / (frames / bare_render_s));
  std::printf("\nrenderer: %s\n", (*thread)->RendererName().c_str());
  mj_deleteModel(model);
  return 0;
}
