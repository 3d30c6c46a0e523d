// runner_bench: what worker-heavy's runner processes cost, side by side with bare MuJoCo in one
// run.
//
//   1. a tiny job's fixed cost: BuildScene of a tiny payload through the service (upload,
//      digest, hand-off to a warm runner, unpack, manifest, compile, answer) vs a bare
//      mj_loadXML of the same scene file, medians;
//   2. process start to SERVING with every runner warm (sandboxed, GL context made, warm-up
//      job done), for 1 and 4 slots;
//   3. a rendered job's setup before its first frame: with the runner's warm GL context
//      (mjr_makeContext + first frame) vs making the GL context too, as a fresh process would;
//   4. the memory of an idle, warm runner (VmRSS from Info).
//
//   build/benchmarks/runner_bench
#include <mujoco/mujoco.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "libs/common/bundle.h"
#include "services/heavy/core/render/frame_renderer.h"
#include "services/heavy/core/render/render_thread.h"
#include "tests/support/server_process.h"
#include "workerpair/v1/heavy.grpc.pb.h"

namespace fs = std::filesystem;
namespace v1 = workerpair::v1;
using Clock = std::chrono::steady_clock;

namespace {

constexpr char kScene[] = R"(<mujoco>
  <worldbody>
    <light pos="0 0 3"/>
    <geom type="plane" size="2 2 0.1"/>
    <body name="box" pos="0 0 0.3"><freejoint/><geom type="box" size="0.1 0.1 0.1"/></body>
  </worldbody>
</mujoco>)";

double Ms(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

template <typename F>
double Median(int runs, F&& f) {
  std::vector<double> samples;
  for (int i = 0; i < runs; ++i) samples.push_back(f());
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

void Write(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

double BuildSceneMs(v1::HeavyService::Stub& stub, const workerpair::PackResult& payload) {
  const Clock::time_point start = Clock::now();
  grpc::ClientContext context;
  v1::BuildSceneResponse response;
  auto stream = stub.BuildScene(&context, &response);
  v1::BuildSceneRequest header;
  header.mutable_header()->mutable_payload()->set_size_bytes(payload.archive.size());
  header.mutable_header()->mutable_payload()->set_sha256(payload.sha256);
  stream->Write(header);
  v1::BuildSceneRequest chunk;
  chunk.set_chunk(payload.archive);
  stream->Write(chunk);
  stream->WritesDone();
  const grpc::Status status = stream->Finish();
  if (!status.ok()) std::fprintf(stderr, "BuildScene: %s\n", status.error_message().c_str());
  return Ms(start);
}

v1::InfoResponse Info(v1::HeavyService::Stub& stub) {
  grpc::ClientContext context;
  v1::InfoResponse info;
  stub.Info(&context, v1::InfoRequest(), &info);
  return info;
}

}  // namespace

int main() {
  workerpair::TempDir temp;
  const fs::path source = temp.path() / "payload";
  Write(source / "scene.xml", kScene);
  Write(source / "manifest.json",
        R"({"version": 1, "scene": "scene.xml", "render": {"enabled": false}})");
  auto payload = workerpair::PackDirectory(source, {}, workerpair::PackOptions{});
  if (!payload.ok()) return 1;

  // 1. Fixed cost of a tiny job vs a bare mj_loadXML.
  const std::string scene_file = (source / "scene.xml").string();
  char error[512];
  const double bare_ms = Median(31, [&] {
    const Clock::time_point start = Clock::now();
    mjModel* m = mj_loadXML(scene_file.c_str(), nullptr, error, sizeof(error));
    const double ms = Ms(start);
    mj_deleteModel(m);
    return ms;
  });
  double service_ms = 0;
  {
    auto heavy = workerpair::ServerProcess::Start(
        WORKERPAIR_HEAVY_BINARY,
        {"--slots=1", "--runner_max_jobs=0", "--scratch_dir=" + (temp.path() / "s1").string()});
    if (!heavy.ok()) return 1;
    auto stub = v1::HeavyService::NewStub((*heavy)->Channel());
    for (int i = 0; i < 3; ++i) BuildSceneMs(*stub, *payload);  // channel and runner warm
    service_ms = Median(31, [&] { return BuildSceneMs(*stub, *payload); });
  }
  std::printf("1. tiny job fixed cost: BuildScene through a warm runner %.2f ms, bare mj_loadXML "
              "%.2f ms: %.1fx, +%.2f ms (medians of 31)\n",
              service_ms, bare_ms, service_ms / bare_ms, service_ms - bare_ms);

  // 2. Start to SERVING with every runner warm, and 4. idle runner memory.
  for (int slots : {1, 4}) {
    const Clock::time_point start = Clock::now();
    auto heavy = workerpair::ServerProcess::Start(
        WORKERPAIR_HEAVY_BINARY,
        {"--slots=" + std::to_string(slots),
         "--scratch_dir=" + (temp.path() / ("start" + std::to_string(slots))).string()});
    if (!heavy.ok()) return 1;
    const double start_ms = Ms(start);
    auto stub = v1::HeavyService::NewStub((*heavy)->Channel());
    const v1::InfoResponse info = Info(*stub);
    std::uint64_t rss = 0;
    for (const auto& runner : info.runners()) rss = std::max<std::uint64_t>(rss, runner.rss_bytes());
    std::printf("2. start to SERVING, %d slot(s): %.0f ms with %u of %u runners warm; "
                "4. idle warm runner RSS %.1f MiB (largest); service process RSS %.1f MiB\n",
                slots, start_ms, info.runners_alive(), info.slots(), rss / 1048576.0,
                info.process_rss_bytes() / 1048576.0);
  }

  // 3. Setup before the first frame: warm GL context vs making one.
  mjModel* model = mj_loadXML(scene_file.c_str(), nullptr, error, sizeof(error));
  mjData* data = mj_makeData(model);
  mj_forward(model, data);
  workerpair::heavy::render::RenderSettings settings;
  settings.width = 640;
  settings.height = 480;
  mjvCamera camera;
  mjv_defaultCamera(&camera);
  auto first_frame = [&]() {
    auto renderer = workerpair::heavy::render::FrameRenderer::Create(model, settings);
    if (!renderer.ok()) return false;
    return (*renderer)->Render(data, camera).ok();
  };
  const double cold_ms = Median(5, [&] {
    const Clock::time_point start = Clock::now();
    auto thread = workerpair::heavy::render::RenderThread::Start({});
    if (!thread.ok()) return -1.0;
    (*thread)->Call(first_frame);
    return Ms(start);
  });
  auto warm_thread = workerpair::heavy::render::RenderThread::Start({});
  if (!warm_thread.ok()) return 1;
  (*warm_thread)->Call(first_frame);  // as the runner's warm-up does
  const double warm_ms = Median(11, [&] {
    const Clock::time_point start = Clock::now();
    (*warm_thread)->Call(first_frame);
    return Ms(start);
  });
  std::printf("3. rendered job setup before the first frame (640x480, %s): warm GL context "
              "%.1f ms vs GL context made per job %.1f ms\n",
              (*warm_thread)->RendererName().c_str(), warm_ms, cold_ms);
  mj_deleteData(data);
  mj_deleteModel(model);
  return 0;
}
