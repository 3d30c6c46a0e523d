// heavy_bench: worker-heavy against the raw libraries, side by side in one run.
//
//   1. simulation throughput through the service (render off) vs a bare mj_step loop on the
//      same model, as steps per second;
//   2. the fixed cost of a job (upload, digest, unpack, compile) via BuildScene, for payloads of
//      ~1 MB and ~20 MB, vs the same scene with a tiny payload;
//   3. video frames per second through the service (simulate + render + encode + stream) vs a
//      bare render + read-pixels loop on the same model and size;
//   4. a rendered job vs the reference pipeline: one straightforward loop in this process
//      (mj_step to each frame's time, mjr_render + mjr_readPixels, H.264 encode with the
//      service's own encoder and settings) on the same model, steps and frames, for a first
//      job on a payload and a repeated one (cached scene, kept render context), runs
//      alternating; and the setup before the first frame (a one-frame rendered job, first and
//      repeated, vs the loop's render context + encoder setup);
//   5. the fixed cost of a first vs a repeated job on the same payload (PayloadInfo.ask_cached:
//      the repeat uploads nothing and compiles nothing), for a tiny and a ~1 MB payload.
//
//   build/benchmarks/heavy_bench                 # every section
//   build/benchmarks/heavy_bench --sections=3,4  # only these
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
#include "services/heavy/core/render/video_writer.h"
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
workerpair::PackResult MakePayload(const fs::path& dir, bool render, std::size_t padding_bytes,
                                   double duration_s = kDuration, unsigned seed = 7) {
  Write(dir / "scene.xml", SceneXml());
  Write(dir / "manifest.json",
        std::string(R"({"version": 1, "scene": "scene.xml", "simulation": {"duration_s": )") +
            std::to_string(duration_s) + R"(, "target_body": "b0"}, "render": {"enabled": )" +
            (render ? "true" : "false") + R"(, "width": 640, "height": 480, "fps": 30}})");
  if (padding_bytes > 0) {
    std::mt19937_64 random(seed);
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

// With `ask_cached` the header asks whether the replica holds the payload and the chunks go
// only when it does not (heavy.proto, "Payload cache"); `cached` says what it answered.
SimulateFigures Simulate(v1::HeavyService::Stub& stub, const workerpair::PackResult& payload,
                         bool ask_cached = false, bool* cached = nullptr) {
  const auto start = Clock::now();
  grpc::ClientContext context;
  auto stream = stub.Simulate(&context);
  v1::SimulateRequest header;
  header.mutable_header()->mutable_payload()->set_size_bytes(payload.archive.size());
  header.mutable_header()->mutable_payload()->set_sha256(payload.sha256);
  header.mutable_header()->mutable_payload()->set_ask_cached(ask_cached);
  stream->Write(header);
  SimulateFigures figures;
  v1::SimulateResponse event;
  bool held = false;
  if (ask_cached && stream->Read(&event)) held = event.payload_cache().cached();
  if (cached != nullptr) *cached = held;
  for (std::size_t offset = 0; !held && offset < payload.archive.size(); offset += 1 << 20) {
    v1::SimulateRequest chunk;
    chunk.set_chunk(payload.archive.substr(offset, 1 << 20));
    stream->Write(chunk);
  }
  stream->WritesDone();
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

// The reference pipeline: one straightforward loop on the render thread that steps to each
// frame's time, renders and reads the pixels (FrameRenderer::Render: mjr_render, mjr_readPixels,
// top-down BGR), and encodes with the service's encoder (VideoWriter: H.264 'avc1' through
// OpenCV's FFmpeg backend) at the service's default render settings. Setup (its mjData, the
// model's GL objects, the encoder) is timed apart from the loop; both count in its frame rate.
// The mjData is the loop's own, as the service's job makes its own: with this model's
// njmax/nconmax mj_makeData zeroes a ~180 MB arena (~80 ms here).
struct Reference {
  double setup_s = 0, loop_s = 0;
  int frames = 0;
  double total_s() const { return setup_s + loop_s; }
};

Reference RunReference(workerpair::heavy::render::RenderThread& thread, const mjModel* model,
                       std::uint64_t steps, const fs::path& video) {
  return thread.Call([&] {
    Reference out;
    workerpair::heavy::render::RenderSettings settings;  // the service's defaults for 640x480
    settings.width = 640;
    settings.height = 480;
    const auto setup_start = Clock::now();
    mjData* data = mj_makeData(model);
    mj_forward(model, data);
    auto renderer = workerpair::heavy::render::FrameRenderer::Create(model, settings);
    auto writer = workerpair::heavy::render::VideoWriter::Open(video, {640, 480, 30},
                                                               workerpair::SceneLimits{});
    out.setup_s = Seconds(setup_start);
    if (!renderer.ok() || !writer.ok()) {
      mj_deleteData(data);
      return out;
    }
    mjvCamera camera;
    mjv_defaultFreeCamera(model, &camera);
    const auto start = Clock::now();
    const double frame_dt = 1.0 / 30;
    double next_frame = 0;
    for (std::uint64_t step = 0; step <= steps; ++step) {
      if (data->time >= next_frame - 1e-9) {
        auto frame = (*renderer)->Render(data, camera);
        if (frame.ok()) (void)(*writer)->Write(*frame);
        ++out.frames;
        next_frame += frame_dt;
      }
      if (step < steps) mj_step(model, data);
    }
    (void)(*writer)->Close();
    out.loop_s = Seconds(start);
    mj_deleteData(data);
    return out;
  });
}

// 3 and 4: rendered jobs through the service vs a bare render loop and vs the reference
// pipeline, on the same model, steps and frames. Runs alternate (first job, repeated job,
// reference) so that a change in the machine's load hits all three; medians of kRuns.
// A first job is a payload the replica has never seen (upload, unpack, compile, the model's
// render context); a repeated one asks the cache (PayloadInfo.ask_cached): nothing uploaded,
// nothing compiled, the runner's kept render context.
void RenderedJobRows(v1::HeavyService::Stub& stub, workerpair::heavy::render::RenderThread& thread,
                     const mjModel* model, const fs::path& dir, bool bare_row) {
  constexpr int kRuns = 3;
  std::vector<double> first_s, repeat_s, reference_s, setup_s, loop_s;
  SimulateFigures video;
  bool all_cached = true;
  Simulate(stub, MakePayload(dir / "rendered_warm", true, 16, 0.2, 99));  // warm-up
  for (int i = 0; i < kRuns; ++i) {
    // 16 bytes of padding with a fresh seed: a new digest, the same scene and work.
    const auto payload = MakePayload(dir / ("rendered" + std::to_string(i)), true, 16, kDuration,
                                     300 + i);
    video = Simulate(stub, payload, true);
    first_s.push_back(video.wall_s);
    bool cached = false;
    const SimulateFigures again = Simulate(stub, payload, true, &cached);
    all_cached = all_cached && cached && again.frames == video.frames;
    repeat_s.push_back(again.wall_s);
    const Reference reference =
        RunReference(thread, model, video.steps, dir / ("reference" + std::to_string(i) + ".mp4"));
    reference_s.push_back(reference.total_s());
    setup_s.push_back(reference.setup_s);
    loop_s.push_back(reference.loop_s);
    if (reference.frames != static_cast<int>(video.frames)) {
      std::fprintf(stderr, "warning: reference %d frames, service %llu\n", reference.frames,
                   static_cast<unsigned long long>(video.frames));
    }
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const double frames = static_cast<double>(video.frames);
  const double first = median(first_s), repeat = median(repeat_s), ref = median(reference_s);
  if (bare_row) {
    const double bare_render_s = thread.Call([&] {
      workerpair::heavy::render::RenderSettings settings;
      settings.width = 640;
      settings.height = 480;
      auto renderer = workerpair::heavy::render::FrameRenderer::Create(model, settings);
      mjData* data = mj_makeData(model);
      mj_forward(model, data);
      mjvCamera camera;
      mjv_defaultFreeCamera(model, &camera);
      const auto start = Clock::now();
      for (int i = 0; i < static_cast<int>(frames); ++i) (void)(*renderer)->Render(data, camera);
      const double seconds = Seconds(start);
      mj_deleteData(data);
      return seconds;
    });
    std::printf("| video 640x480 @ 30 fps | service %.0f frames in %.2f s = %.1f frames/s (first "
                "job, whole call: upload, compile, simulate, render, encode, stream) | bare render "
                "+ readPixels %.1f frames/s (no simulation, no encoding) | %.2fx bare |\n",
                frames, first, frames / first, frames / bare_render_s,
                (frames / first) / (frames / bare_render_s));
  }
  std::printf("| rendered job vs reference pipeline (640x480 @ 30 fps, %llu steps, %.0f frames, "
              "medians of %d alternating runs) | first job %.2f s = %.1f frames/s; repeated job "
              "%.2f s = %.1f frames/s (%s) | reference %.2f s (setup %.0f ms + loop %.2f s) = "
              "%.1f frames/s | first %.2fx, repeated %.2fx reference |\n",
              static_cast<unsigned long long>(video.steps), frames, kRuns, first, frames / first,
              repeat, frames / repeat,
              all_cached ? "cached scene, kept render context" : "NOT always cached", ref,
              median(setup_s) * 1000, median(loop_s), frames / ref, ref / first, ref / repeat);

  // Setup before the first frame: a one-frame rendered job (whole call: upload, unpack,
  // compile, the model's render context, encoder, one frame, heatmaps, result), first and
  // repeated, vs the reference's setup (render context + encoder).
  std::vector<double> one_first, one_repeat;
  for (int i = 0; i < 5; ++i) {
    const auto payload =
        MakePayload(dir / ("one_frame" + std::to_string(i)), true, 16, 0.001, 400 + i);
    one_first.push_back(Simulate(stub, payload, true).wall_s);
    one_repeat.push_back(Simulate(stub, payload, true).wall_s);
  }
  const double setup = median(setup_s);
  std::printf("| rendered job setup before its first frame | one-frame rendered job (whole call) "
              "first %.0f ms, repeated %.0f ms | reference setup %.0f ms (mjData, render "
              "context, encoder) | first %.1fx, repeated %.1fx reference setup |\n",
              median(one_first) * 1000, median(one_repeat) * 1000, setup * 1000,
              median(one_first) / setup, median(one_repeat) / setup);
}

// The sections asked for with --sections=1,3 (default: all).
std::vector<bool> ParseSections(int argc, char** argv) {
  std::vector<bool> wanted(6, true);
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--sections=", 0) != 0) continue;
    wanted.assign(6, false);
    for (char c : arg.substr(11)) {
      if (c >= '1' && c <= '5') wanted[c - '0'] = true;
    }
  }
  return wanted;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<bool> sections = ParseSections(argc, argv);
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

  // The model every section compares against.
  const auto quiet = MakePayload(dir.path() / "quiet", false, 0);
  char error[1000] = "";
  const std::string xml_path = (dir.path() / "quiet/scene.xml").string();
  mjModel* model = mj_loadXML(xml_path.c_str(), nullptr, error, sizeof(error));
  if (model == nullptr) {
    std::fprintf(stderr, "mj_loadXML: %s\n", error);
    return 1;
  }

  if (sections[1]) {
    // 1. Simulation throughput: service (render off) vs bare mj_step.
    Simulate(*stub, quiet);  // warm-up
    SimulateFigures service;
    const double service_s = Median(3, [&] {
      service = Simulate(*stub, quiet);
      return service.wall_s;
    });
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

  }

  if (sections[2]) {
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

  }

  auto thread = workerpair::heavy::render::RenderThread::Start({});
  if (!thread.ok()) {
    std::fprintf(stderr, "%s\n", thread.status().ToString().c_str());
    return 1;
  }
  if (sections[3] || sections[4]) {
    RenderedJobRows(*stub, **thread, model, dir.path(), sections[3]);
  }

  if (sections[5]) {
    // 5. First vs repeated job on the same payload: each first job is a payload this replica
    //    has never seen (fresh padding); the repeat asks the cache (nothing uploaded, nothing
    //    compiled).
    for (const std::size_t padding : {std::size_t{0}, std::size_t{1} << 20}) {
      std::vector<double> first, repeated;
      bool all_cached = true;
      double kb = 0;
      for (int i = 0; i < 5; ++i) {
        // Distinct payloads: the duration (and the padding's seed) differ per round.
        const auto payload = MakePayload(
            dir.path() / ("fixed" + std::to_string(padding) + "_" + std::to_string(i)), false,
            padding, 0.01 + 0.002 * i, 100 + i);
        kb = payload.archive.size() / 1024.0;
        first.push_back(Simulate(*stub, payload, true).wall_s);
        bool cached = false;
        repeated.push_back(Simulate(*stub, payload, true, &cached).wall_s);
        all_cached = all_cached && cached;
      }
      std::sort(first.begin(), first.end());
      std::sort(repeated.begin(), repeated.end());
      std::printf("| first vs repeated job, %.1f KB payload (simulate 0.01 s, render off) | first "
                  "%.1f ms | repeated %.1f ms (%s) | repeat = %.2f of first |\n",
                  kb, first[2] * 1000, repeated[2] * 1000,
                  all_cached ? "cached: no upload, no compile" : "NOT always cached",
                  repeated[2] / first[2]);
    }

  }
  std::printf("\nrenderer: %s\n", (*thread)->RendererName().c_str());
  mj_deleteModel(model);
  return 0;
}
