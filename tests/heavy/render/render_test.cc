// Tests of headless rendering: EGL context and render thread, frames, H.264 video through the
// recorder, heatmaps and stills. They run on Mesa llvmpipe; [.gpu] ones need an NVIDIA device.
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <EGL/egl.h>
#include <catch2/catch.hpp>
#include <mujoco/mujoco.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include "services/heavy/core/render/frame_renderer.h"
#include "services/heavy/core/render/frame_renderer_cache.h"
#include "services/heavy/core/render/gl_context.h"
#include "services/heavy/core/render/heatmap.h"
#include "services/heavy/core/render/render_thread.h"
#include "services/heavy/core/render/stills.h"
#include "services/heavy/core/render/video_recorder.h"
#include "services/heavy/core/render/video_writer.h"

namespace workerpair::heavy::render {
namespace {

// A ball rolling down a ramp onto a checkered floor, with a box, a zone site and a camera.
constexpr char kScene[] = R"(
<mujoco model="ramp">
  <option timestep="0.002"/>
  <asset>
    <texture name="grid" type="2d" builtin="checker" rgb1=".2 .3 .4" rgb2=".3 .4 .5"
             width="256" height="256"/>
    <material name="grid" texture="grid" texrepeat="4 4"/>
  </asset>
  <worldbody>
    <light pos="0 0 4" dir="0 0 -1"/>
    <camera name="main" pos="0 -4 2" xyaxes="1 0 0 0 0.45 0.9"/>
    <geom name="floor" type="plane" size="3 3 0.1" material="grid"/>
    <body name="ramp" pos="-1 0 0.4" euler="0 20 0">
      <geom type="box" size="0.8 0.3 0.05" rgba=".8 .6 .3 1"/>
    </body>
    <body name="ball" pos="-1.5 0 1.0">
      <freejoint/>
      <geom type="sphere" size="0.12" rgba=".9 .1 .1 1"/>
    </body>
    <body name="crate" pos="1 0 0.2">
      <freejoint/>
      <geom type="box" size="0.2 0.2 0.2" rgba=".2 .7 .2 1"/>
    </body>
    <site name="zone_goal_bin" type="box" pos="1.8 0 0.1" size="0.2 0.2 0.1"
          rgba="0 1 0 0.3"/>
  </worldbody>
</mujoco>
)";

// A second, different model for the context-reuse test.
constexpr char kPendulum[] = R"(
<mujoco model="pendulum">
  <worldbody>
    <light pos="0 0 3"/>
    <geom type="plane" size="2 2 0.1" rgba=".5 .5 .5 1"/>
    <body name="arm" pos="0 0 1.5">
      <joint type="hinge" axis="0 1 0"/>
      <geom type="capsule" fromto="0 0 0 0.6 0 -0.6" size="0.05" rgba=".1 .4 .9 1"/>
    </body>
  </worldbody>
</mujoco>
)";

struct ModelDeleter {
  void operator()(mjModel* m) const { mj_deleteModel(m); }
};
struct DataDeleter {
  void operator()(mjData* d) const { mj_deleteData(d); }
};
using ModelPtr = std::unique_ptr<mjModel, ModelDeleter>;
using DataPtr = std::unique_ptr<mjData, DataDeleter>;

ModelPtr LoadInline(const std::string& xml) {
  auto vfs = std::make_unique<mjVFS>();
  mj_defaultVFS(vfs.get());
  REQUIRE(mj_makeEmptyFileVFS(vfs.get(), "scene.xml", static_cast<int>(xml.size())) == 0);
  std::memcpy(vfs->filedata[vfs->nfile - 1], xml.data(), xml.size());
  char error[1000] = "";
  mjModel* m = mj_loadXML("scene.xml", vfs.get(), error, sizeof(error));
  mj_deleteVFS(vfs.get());
  INFO(error);
  REQUIRE(m != nullptr);
  return ModelPtr(m);
}

DataPtr MakeData(const mjModel* m) {
  DataPtr d(mj_makeData(m));
  mj_forward(m, d.get());
  return d;
}

// One RenderThread for the whole test program, as the service keeps one per render slot.
RenderThread& SharedRenderThread() {
  static std::unique_ptr<RenderThread> rt = [] {
    absl::StatusOr<std::unique_ptr<RenderThread>> started = RenderThread::Start({});
    INFO(started.status().ToString());
    REQUIRE(started.ok());
    return std::move(*started);
  }();
  return *rt;
}

double PixelStdDev(const cv::Mat& image) {
  cv::Mat gray;
  image.convertTo(gray, CV_32F);
  cv::Scalar mean, stddev;
  cv::meanStdDev(gray.reshape(1), mean, stddev);
  return stddev[0];
}

// Files written by the tests go to one folder per process, removed at exit unless
// WP_KEEP_RENDER_TEST_FILES is set (to look at the images and videos).
struct TempDir {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("wp_render_test_" + std::to_string(::getpid()));
  ~TempDir() {
    std::error_code ignored;
    if (std::getenv("WP_KEEP_RENDER_TEST_FILES") == nullptr) {
      std::filesystem::remove_all(path, ignored);
    }
  }
};

std::filesystem::path TempPath(const std::string& name) {
  static TempDir dir;
  std::filesystem::create_directories(dir.path);
  return dir.path / name;
}

cv::Mat DecodePng(const std::string& png) {
  std::vector<unsigned char> bytes(png.begin(), png.end());
  return cv::imdecode(bytes, cv::IMREAD_COLOR);
}

std::string RunCommand(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  std::array<char, 256> buffer;
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) out += buffer.data();
  ::pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

TEST_CASE("RenderThread creates a GL context and names its renderer") {
  RenderThread& rt = SharedRenderThread();
  CHECK_FALSE(rt.RendererName().empty());
  CHECK_FALSE(rt.Platform().empty());
  // The context is current on the render thread, and only there.
  const void* current = rt.Call([] { return static_cast<const void*>(eglGetCurrentContext()); });
  CHECK(current == rt.context_handle());
  CHECK(current != nullptr);
  CHECK(eglGetCurrentContext() == EGL_NO_CONTEXT);
}

TEST_CASE("FrameRenderer without a current GL context is FAILED_PRECONDITION") {
  ModelPtr m = LoadInline(kScene);
  absl::StatusOr<std::unique_ptr<FrameRenderer>> r = FrameRenderer::Create(m.get(), {});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("A frame from the named and the default camera is not blank and differs") {
  ModelPtr m = LoadInline(kScene);
  DataPtr d = MakeData(m.get());
  RenderThread& rt = SharedRenderThread();
  auto frames = rt.Call([&]() -> absl::StatusOr<std::vector<cv::Mat>> {
    absl::StatusOr<std::unique_ptr<FrameRenderer>> r =
        FrameRenderer::Create(m.get(), {.width = 320, .height = 240});
    if (!r.ok()) return r.status();
    std::vector<cv::Mat> out;
    for (const CameraSpec& spec : {CameraSpec{.name = "main"}, CameraSpec{}}) {
      absl::StatusOr<mjvCamera> camera = ResolveCamera(m.get(), spec);
      if (!camera.ok()) return camera.status();
      absl::StatusOr<cv::Mat> frame = (*r)->Render(d.get(), *camera);
      if (!frame.ok()) return frame.status();
      out.push_back(*frame);
    }
    return out;
  });
  INFO(frames.status().ToString());
  REQUIRE(frames.ok());
  for (const cv::Mat& frame : *frames) {
    CHECK(frame.cols == 320);
    CHECK(frame.rows == 240);
    CHECK(frame.type() == CV_8UC3);
    CHECK(PixelStdDev(frame) > 10.0);
  }
  CHECK(cv::norm((*frames)[0], (*frames)[1], cv::NORM_L1) > 0);
}

TEST_CASE("The named camera renders right side up: floor below, sky above") {
  // A plain floor filling the lower half under a uniform (skybox-free) background.
  ModelPtr m = LoadInline(R"(
<mujoco><visual><rgba haze="0 0 0 1"/></visual><worldbody><light pos="0 0 3"/>
  <camera name="level" pos="0 -3 0.5" xyaxes="1 0 0 0 0 1"/>
  <geom type="plane" size="50 50 0.1" rgba="1 1 1 1"/></worldbody></mujoco>)");
  DataPtr d = MakeData(m.get());
  auto frame = SharedRenderThread().Call([&]() -> absl::StatusOr<cv::Mat> {
    absl::StatusOr<std::unique_ptr<FrameRenderer>> r =
        FrameRenderer::Create(m.get(), {.width = 64, .height = 64});
    if (!r.ok()) return r.status();
    return (*r)->Render(d.get(), *ResolveCamera(m.get(), {.name = "level"}));
  });
  REQUIRE(frame.ok());
  const double top = cv::mean((*frame)(cv::Rect(0, 0, 64, 16)))[1];
  const double bottom = cv::mean((*frame)(cv::Rect(0, 48, 64, 16)))[1];
  CHECK(bottom > top + 30);
}

TEST_CASE("An unknown camera is NOT_FOUND") {
  ModelPtr m = LoadInline(kScene);
  absl::StatusOr<mjvCamera> camera = ResolveCamera(m.get(), {.name = "nope"});
  REQUIRE_FALSE(camera.ok());
  CHECK(camera.status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("VideoWriter refuses odd sizes and sizes or fps over the caps") {
  SceneLimits limits;
  std::filesystem::path path = TempPath("refused.mp4");
  for (VideoFormat format : {VideoFormat{641, 480, 30}, VideoFormat{1922, 1080, 30},
                             VideoFormat{640, 480, 61}, VideoFormat{640, 480, 0}}) {
    absl::StatusOr<std::unique_ptr<VideoWriter>> video = VideoWriter::Open(path, format, limits);
    REQUIRE_FALSE(video.ok());
    CHECK(video.status().code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("VideoWriter into a missing folder is UNAVAILABLE and names only the file") {
  absl::StatusOr<std::unique_ptr<VideoWriter>> video =
      VideoWriter::Open("/nonexistent_dir_wp/x/clip.mp4", {}, SceneLimits{});
  REQUIRE_FALSE(video.ok());
  CHECK(video.status().code() == absl::StatusCode::kUnavailable);
  CHECK(std::string(video.status().message()).find("nonexistent_dir_wp") == std::string::npos);
}

// Simulates `seconds` and records; returns the recorder's stats.
absl::StatusOr<VideoStats> RecordWith(const mjModel* m, mjData* d, double seconds,
                                      const VideoRecorderOptions& options) {
  absl::StatusOr<std::unique_ptr<VideoRecorder>> recorder =
      VideoRecorder::Start(SharedRenderThread(), m, options);
  if (!recorder.ok()) return recorder.status();
  const int steps = static_cast<int>(std::lround(seconds / m->opt.timestep));
  if (absl::Status s = (*recorder)->OnStep(m, d, d->time); !s.ok()) return s;
  for (int i = 0; i < steps; ++i) {
    mj_step(m, d);
    if (absl::Status s = (*recorder)->OnStep(m, d, d->time); !s.ok()) return s;
  }
  return (*recorder)->Finish();
}

absl::StatusOr<VideoStats> Record(const mjModel* m, mjData* d, double seconds,
                                  const std::filesystem::path& path, VideoFormat format) {
  return RecordWith(m, d, seconds, {.path = path, .format = format, .camera = {.name = "main"}});
}

std::vector<cv::Mat> DecodeVideo(const std::filesystem::path& path) {
  std::vector<cv::Mat> frames;
  cv::VideoCapture capture(path.string(), cv::CAP_FFMPEG);
  cv::Mat frame;
  while (capture.isOpened() && capture.read(frame)) frames.push_back(frame.clone());
  return frames;
}

TEST_CASE("Recorder writes an H.264 MP4 with one frame per 1/fps of simulated time") {
  ModelPtr m = LoadInline(kScene);
  DataPtr d = MakeData(m.get());
  std::filesystem::path path = TempPath("clip.mp4");
  // 1 s at 30 fps: frames at t = 0, 1/30, ..., 1.0.
  absl::StatusOr<VideoStats> stats = Record(m.get(), d.get(), 1.0, path, {320, 240, 30});
  INFO(stats.status().ToString());
  REQUIRE(stats.ok());
  CHECK(stats->frames == 31);
  CHECK(stats->renders == 31);

  // It decodes, with that many frames, none blank, and the ball moved between first and last.
  cv::VideoCapture capture(path.string(), cv::CAP_FFMPEG);
  REQUIRE(capture.isOpened());
  CHECK(static_cast<int>(capture.get(cv::CAP_PROP_FRAME_WIDTH)) == 320);
  CHECK(static_cast<int>(capture.get(cv::CAP_PROP_FRAME_HEIGHT)) == 240);
  std::vector<cv::Mat> frames;
  cv::Mat frame;
  while (capture.read(frame)) frames.push_back(frame.clone());
  REQUIRE(frames.size() == 31);
  for (const cv::Mat& f : frames) CHECK(PixelStdDev(f) > 10.0);
  CHECK(cv::norm(frames.front(), frames.back(), cv::NORM_L1) / (320.0 * 240 * 3) > 0.5);

  // ffprobe, where installed, names the codec.
  if (!RunCommand("command -v ffprobe").empty()) {
    CHECK(RunCommand("ffprobe -v error -select_streams v:0 -show_entries stream=codec_name "
                     "-of csv=p=0 '" + path.string() + "'") == "h264");
  } else {
    WARN("ffprobe not installed: codec name not checked");
  }
}

TEST_CASE("Recorder repeats frames when a step is longer than 1/fps") {
  ModelPtr m = LoadInline(kScene);
  m->opt.timestep = 0.05;
  DataPtr d = MakeData(m.get());
  std::filesystem::path path = TempPath("coarse.mp4");
  absl::StatusOr<VideoStats> stats = Record(m.get(), d.get(), 0.5, path, {160, 120, 60});
  INFO(stats.status().ToString());
  REQUIRE(stats.ok());
  CHECK(stats->frames == 31);   // 0.5 s at 60 fps
  CHECK(stats->renders == 11);  // one per step, plus t = 0
  cv::VideoCapture capture(path.string(), cv::CAP_FFMPEG);
  REQUIRE(capture.isOpened());
  int count = 0;
  cv::Mat frame;
  while (capture.read(frame)) ++count;
  CHECK(count == 31);
}

TEST_CASE("Recorder with an unknown camera is NOT_FOUND and writes nothing") {
  ModelPtr m = LoadInline(kScene);
  std::filesystem::path path = TempPath("nocam.mp4");
  absl::StatusOr<std::unique_ptr<VideoRecorder>> recorder = VideoRecorder::Start(
      SharedRenderThread(), m.get(), {.path = path, .camera = {.name = "missing"}});
  REQUIRE_FALSE(recorder.ok());
  CHECK(recorder.status().code() == absl::StatusCode::kNotFound);
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("IsSoftwareRenderer names Mesa's CPU rasterisers only") {
  CHECK(IsSoftwareRenderer("llvmpipe (LLVM 15.0.6, 256 bits)"));
  CHECK(IsSoftwareRenderer("softpipe"));
  CHECK_FALSE(IsSoftwareRenderer("NVIDIA H100 80GB HBM3/PCIe/SSE2"));
  CHECK_FALSE(IsSoftwareRenderer(""));
}

TEST_CASE("Recorder encoding on its own thread or on the render thread writes the same video") {
  ModelPtr m = LoadInline(kScene);
  std::vector<std::vector<cv::Mat>> videos;
  for (VideoEncoding encoding : {VideoEncoding::kOwnThread, VideoEncoding::kRenderThread}) {
    DataPtr d = MakeData(m.get());
    const std::filesystem::path path =
        TempPath(encoding == VideoEncoding::kOwnThread ? "own.mp4" : "inline.mp4");
    absl::StatusOr<VideoStats> stats =
        RecordWith(m.get(), d.get(), 0.5,
                   {.path = path, .format = {160, 120, 30}, .camera = {.name = "main"},
                    .encoding = encoding});
    INFO(stats.status().ToString());
    REQUIRE(stats.ok());
    CHECK(stats->frames == 16);
    CHECK(stats->encoded_on_render_thread == (encoding == VideoEncoding::kRenderThread));
    videos.push_back(DecodeVideo(path));
    REQUIRE(videos.back().size() == 16);
  }
  // Same renders, same encoder: the decoded frames agree (to the encoder's rounding).
  for (std::size_t i = 0; i < 16; i += 5) {
    CHECK(cv::norm(videos[0][i], videos[1][i], cv::NORM_L1) / (160.0 * 120 * 3) < 2.0);
  }
  // kAuto encodes on the render thread exactly when the renderer is a software one.
  DataPtr d = MakeData(m.get());
  VideoRecorderOptions automatic_options;
  automatic_options.path = TempPath("auto.mp4");
  automatic_options.format = {160, 120, 30};
  absl::StatusOr<VideoStats> automatic = RecordWith(m.get(), d.get(), 0.1, automatic_options);
  REQUIRE(automatic.ok());
  CHECK(automatic->encoded_on_render_thread ==
        IsSoftwareRenderer(SharedRenderThread().RendererName()));
}

TEST_CASE("A FrameRendererCache hands a kept renderer back only for the same key, size and model") {
  ModelPtr m = LoadInline(kScene);
  ModelPtr pendulum = LoadInline(kPendulum);
  DataPtr d = MakeData(m.get());
  FrameRendererCache cache(SharedRenderThread(), 2);
  const RenderSettings small{.width = 160, .height = 120};
  const RenderSettings large{.width = 320, .height = 240};
  SharedRenderThread().Call([&] {
    bool reused = true;
    auto first = cache.Take("a", m.get(), small, &reused);
    REQUIRE(first.ok());
    CHECK_FALSE(reused);
    const FrameRenderer* kept = first->get();
    cache.Give("a", std::move(*first));
    CHECK(cache.size() == 1);

    auto again = cache.Take("a", m.get(), small, &reused);
    REQUIRE(again.ok());
    CHECK(reused);
    CHECK(again->get() == kept);
    CHECK(cache.size() == 0);  // in use: out of the cache
    // A kept renderer still renders the model.
    auto frame = (*again)->Render(d.get(), *ResolveCamera(m.get(), {.name = "main"}));
    REQUIRE(frame.ok());
    CHECK(PixelStdDev(*frame) > 10.0);
    cache.Give("a", std::move(*again));

    // Another key, another size, another model: each gets its own.
    auto other_key = cache.Take("b", m.get(), small, &reused);
    REQUIRE(other_key.ok());
    CHECK_FALSE(reused);
    CHECK(other_key->get() != kept);
    cache.Give("b", std::move(*other_key));
    auto other_size = cache.Take("a", m.get(), large, &reused);
    REQUIRE(other_size.ok());
    CHECK_FALSE(reused);
    auto other_model = cache.Take("a", pendulum.get(), small, &reused);
    REQUIRE(other_model.ok());
    CHECK_FALSE(reused);
    // Bounded: giving the large one back drops the least recently used (the small "a").
    cache.Give("a", std::move(*other_size));
    CHECK(cache.size() == 2);
    auto evicted = cache.Take("a", m.get(), small, &reused);
    REQUIRE(evicted.ok());
    CHECK_FALSE(reused);
    // No key: made, never kept.
    auto unkeyed = cache.Take("", m.get(), small, &reused);
    REQUIRE(unkeyed.ok());
    CHECK_FALSE(reused);
    cache.Give("", std::move(*unkeyed));
    CHECK(cache.size() == 2);
  });
  CHECK(cache.hits() == 1);
  CHECK(cache.misses() == 6);
}

TEST_CASE("A recording gives its renderer back to the cache, the next one on that key reuses it") {
  ModelPtr m = LoadInline(kScene);
  FrameRendererCache cache(SharedRenderThread(), 2);
  std::vector<bool> reused;
  for (int i = 0; i < 2; ++i) {
    DataPtr d = MakeData(m.get());
    const std::filesystem::path path = TempPath("kept" + std::to_string(i) + ".mp4");
    VideoRecorderOptions options;
    options.path = path;
    options.format = {160, 120, 30};
    options.camera.name = "main";
    options.renderers = &cache;
    options.model_key = "scene-digest";
    absl::StatusOr<VideoStats> stats = RecordWith(m.get(), d.get(), 0.5, options);
    INFO(stats.status().ToString());
    REQUIRE(stats.ok());
    CHECK(stats->frames == 16);
    CHECK(DecodeVideo(path).size() == 16);
    reused.push_back(stats->renderer_reused);
  }
  CHECK_FALSE(reused[0]);
  CHECK(reused[1]);
  CHECK(cache.hits() == 1);
  CHECK(cache.size() == 1);
}

TEST_CASE("A GL context is reused across two jobs on the same render thread") {
  RenderThread& rt = SharedRenderThread();
  std::vector<const void*> contexts;
  for (const char* xml : {kScene, kPendulum}) {
    ModelPtr m = LoadInline(xml);
    DataPtr d = MakeData(m.get());
    auto job = rt.Call([&]() -> absl::StatusOr<double> {
      contexts.push_back(eglGetCurrentContext());
      absl::StatusOr<std::unique_ptr<FrameRenderer>> r =
          FrameRenderer::Create(m.get(), {.width = 160, .height = 120});
      if (!r.ok()) return r.status();
      absl::StatusOr<cv::Mat> frame = (*r)->Render(d.get(), *ResolveCamera(m.get(), {}));
      if (!frame.ok()) return frame.status();
      return PixelStdDev(*frame);
    });
    INFO(job.status().ToString());
    REQUIRE(job.ok());
    CHECK(*job > 5.0);
  }
  REQUIRE(contexts.size() == 2);
  CHECK(contexts[0] == contexts[1]);
  CHECK(contexts[0] == rt.context_handle());
}

// Pixels close to `bgr` within `tolerance` per channel, in `image`.
int CountNear(const cv::Mat& image, cv::Vec3b bgr, int tolerance) {
  int count = 0;
  for (int y = 0; y < image.rows; ++y) {
    for (int x = 0; x < image.cols; ++x) {
      const cv::Vec3b p = image.at<cv::Vec3b>(y, x);
      if (std::abs(p[0] - bgr[0]) <= tolerance && std::abs(p[1] - bgr[1]) <= tolerance &&
          std::abs(p[2] - bgr[2]) <= tolerance) {
        ++count;
      }
    }
  }
  return count;
}

TEST_CASE("Part heatmap paints parts by peak force and decodes as a non-uniform PNG") {
  ModelPtr m = LoadInline(kScene);
  DataPtr d = MakeData(m.get());
  PartHeatmapOptions options;
  options.settings = {.width = 320, .height = 240};
  options.camera = {.name = "main"};
  auto image = SharedRenderThread().Call([&] {
    return RenderPartHeatmap(m.get(), d.get(), {{"crate", 80.0}, {"ramp", 5.0}}, options);
  });
  INFO(image.status().ToString());
  REQUIRE(image.ok());
  absl::StatusOr<std::string> png = EncodePng(*image);
  REQUIRE(png.ok());
  cv::Mat decoded = DecodePng(*png);
  REQUIRE_FALSE(decoded.empty());
  REQUIRE(WritePng(TempPath("parts.png"), decoded, "parts.png").ok());
  CHECK(decoded.cols > 320);  // the view plus the colour bar panel
  CHECK(PixelStdDev(decoded) > 10.0);
  // The 3D view shows the colormap's hot end (the crate) well beyond the colour bar's pixels.
  cv::Mat view = decoded(cv::Rect(0, decoded.rows - 240, 320, 240));
  const cv::Vec3b hot = ColormapColor(1.0, cv::COLORMAP_JET);
  CHECK(CountNear(view, hot, 60) > 50);
  // The model given is not modified.
  CHECK(m->geom_rgba[4 * mj_name2id(m.get(), mjOBJ_GEOM, "floor") + 0] == Approx(0.5f));
}

TEST_CASE("Part heatmap drawn with an existing renderer matches a fresh one and restores it") {
  ModelPtr m = LoadInline(kScene);
  DataPtr d = MakeData(m.get());
  PartHeatmapOptions options;
  options.settings = {.width = 320, .height = 240};
  options.camera = {.name = "main"};
  const std::vector<BodyForce> forces = {{"crate", 80.0}, {"ramp", 5.0}};
  auto images = SharedRenderThread().Call([&]() -> absl::StatusOr<std::array<cv::Mat, 2>> {
    auto fresh = RenderPartHeatmap(m.get(), d.get(), forces, options);
    if (!fresh.ok()) return fresh.status();
    auto renderer = FrameRenderer::Create(m.get(), options.settings);
    if (!renderer.ok()) return renderer.status();
    const int floor = mj_name2id((*renderer)->model(), mjOBJ_GEOM, "floor");
    const float floor_red = (*renderer)->model()->geom_rgba[4 * floor];
    auto reused = RenderPartHeatmapWith(**renderer, d.get(), forces, options);
    if (!reused.ok()) return reused.status();
    // The renderer's model is back to its own colours, and its sites are visible again.
    if ((*renderer)->model()->geom_rgba[4 * floor] != floor_red ||
        (*renderer)->option().sitegroup[0] == 0) {
      return absl::InternalError("the renderer was not restored");
    }
    return std::array<cv::Mat, 2>{*fresh, *reused};
  });
  INFO(images.status().ToString());
  REQUIRE(images.ok());
  const cv::Mat& fresh = (*images)[0];
  const cv::Mat& reused = (*images)[1];
  REQUIRE(fresh.size() == reused.size());
  cv::Mat difference;
  cv::absdiff(fresh, reused, difference);
  CHECK(cv::mean(difference)[0] < 2.0);  // the same picture, up to rasterisation noise
  const cv::Vec3b hot = ColormapColor(1.0, cv::COLORMAP_JET);
  CHECK(CountNear(reused(cv::Rect(0, reused.rows - 240, 320, 240)), hot, 60) > 50);
}

TEST_CASE("Part heatmap refuses unknown bodies and negative forces") {
  ModelPtr m = LoadInline(kScene);
  DataPtr d = MakeData(m.get());
  const PartHeatmapOptions options;
  auto unknown = SharedRenderThread().Call(
      [&] { return RenderPartHeatmap(m.get(), d.get(), {{"ghost", 1.0}}, options); });
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().code() == absl::StatusCode::kNotFound);
  auto negative = SharedRenderThread().Call(
      [&] { return RenderPartHeatmap(m.get(), d.get(), {{"ball", -1.0}}, options); });
  REQUIRE_FALSE(negative.ok());
  CHECK(negative.status().code() == absl::StatusCode::kInvalidArgument);
}

// The 3D view inside a part heatmap of a `width` x `height` render (below the title strip).
cv::Mat PartView(const cv::Mat& image, int width, int height) {
  return image(cv::Rect(0, 34, width, height));
}

TEST_CASE("Part colours are anchored to the yield: the same force is the same colour whatever the peak") {
  ModelPtr m = LoadInline(kScene);
  DataPtr d = MakeData(m.get());
  PartHeatmapOptions options;
  options.settings = {.width = 320, .height = 240};
  options.camera = {.name = "main"};
  options.yield_newtons = 100;
  options.labels = false;
  // The crate at half the yield both times; the ramp's peak (the run's largest in b) differs.
  auto render = [&](double ramp, const PartHeatmapOptions& o) {
    auto image = SharedRenderThread().Call(
        [&] { return RenderPartHeatmap(m.get(), d.get(), {{"crate", 50.0}, {"ramp", ramp}}, o); });
    INFO(image.status().ToString());
    REQUIRE(image.ok());
    return PartView(*image, 320, 240).clone();
  };
  const cv::Mat a = render(10.0, options);
  const cv::Mat b = render(400.0, options);
  REQUIRE(WritePng(TempPath("yield_a.png"), a, "yield_a.png").ok());
  REQUIRE(WritePng(TempPath("yield_b.png"), b, "yield_b.png").ok());
  const cv::Vec3b crate_colour = ColormapColor(50.0 / ColorScaleTop(100, 0), cv::COLORMAP_JET);
  auto crate_difference = [&](const cv::Mat& x, const cv::Mat& y, int* pixels) {
    double sum = 0;
    *pixels = 0;
    for (int row = 0; row < x.rows; ++row) {
      for (int col = 0; col < x.cols; ++col) {
        // The crate's colour under the scene's lighting: the same hue, any brightness.
        const cv::Vec3b p = x.at<cv::Vec3b>(row, col);
        const cv::Vec3d pv(p[0], p[1], p[2]);
        const cv::Vec3d cv_(crate_colour[0], crate_colour[1], crate_colour[2]);
        if (cv::norm(pv) < 60 || pv.dot(cv_) / (cv::norm(pv) * cv::norm(cv_)) < 0.97) continue;
        const cv::Vec3b q = y.at<cv::Vec3b>(row, col);
        sum += cv::norm(cv::Vec3d(p[0] - q[0], p[1] - q[1], p[2] - q[2]));
        ++*pixels;
      }
    }
    return *pixels > 0 ? sum / *pixels : 1e9;
  };
  int pixels = 0;
  CHECK(crate_difference(a, b, &pixels) < 3.0);
  CHECK(pixels > 100);
  // Without a yield the scale follows the run's peak, and the crate changes colour: the check
  // above would catch a scale that is not anchored.
  PartHeatmapOptions unanchored = options;
  unanchored.yield_newtons = 0;
  const cv::Mat c = render(10.0, unanchored);
  const cv::Mat e = render(400.0, unanchored);
  int unanchored_pixels = 0;
  const double unanchored_difference = crate_difference(c, e, &unanchored_pixels);
  CHECK(unanchored_difference > 20.0);
  CHECK(ColorScaleTop(100, 400) == Approx(kYieldScaleTop * 100));
  CHECK(ColorScaleTop(0, 400) == Approx(400));
}

TEST_CASE("Static world geoms that bore load are coloured, by name or as geom<N>") {
  ModelPtr m = LoadInline(kScene);
  DataPtr d = MakeData(m.get());
  PartHeatmapOptions options;
  options.settings = {.width = 320, .height = 240};
  options.camera = {.name = "main"};
  options.yield_newtons = 100;
  const int floor = mj_name2id(m.get(), mjOBJ_GEOM, "floor");
  REQUIRE(floor >= 0);
  auto render = [&](const std::vector<BodyForce>& forces) {
    auto image = SharedRenderThread().Call(
        [&] { return RenderPartHeatmap(m.get(), d.get(), forces, options); });
    INFO(image.status().ToString());
    REQUIRE(image.ok());
    return PartView(*image, 320, 240).clone();
  };
  const cv::Vec3b hot = ColormapColor(1.0, cv::COLORMAP_JET);
  const cv::Mat bare = render({});
  const cv::Mat painted = render({{"floor", 300.0}});  // above the scale's top: hot
  REQUIRE(WritePng(TempPath("static_floor.png"), painted, "static_floor.png").ok());
  CHECK(CountNear(bare, hot, 60) < 50);
  CHECK(CountNear(painted, hot, 60) > 5000);  // the floor covers much of the view
  // The ramp body's geom is unnamed: it is no world geom, so "geom<N>" of it is NOT_FOUND, and
  // a name that is nothing is NOT_FOUND too.
  const int ramp_geom = m->body_geomadr[mj_name2id(m.get(), mjOBJ_BODY, "ramp")];
  auto refused = SharedRenderThread().Call([&] {
    return RenderPartHeatmap(m.get(), d.get(), {{"geom" + std::to_string(ramp_geom), 1.0}},
                             options);
  });
  CHECK(refused.status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("A ColormapTable gives ColormapColor's colours") {
  for (int colormap : {cv::COLORMAP_JET, cv::COLORMAP_INFERNO}) {
    const ColormapTable table(colormap);
    for (double fraction : {-1.0, 0.0, 0.1, 0.5, 0.66, 0.999, 1.0, 3.0}) {
      CHECK(table.At(fraction) == ColormapColor(fraction, colormap));
    }
    CHECK(table.At(std::nan("")) == ColormapColor(0, colormap));
  }
}

TEST_CASE("Contact dots are painted where the contacts were") {
  ModelPtr m = LoadInline(kScene);
  DataPtr d = MakeData(m.get());
  PartHeatmapOptions options;
  options.settings = {.width = 320, .height = 240};
  options.camera = {.name = "main"};
  options.yield_newtons = 100;
  options.labels = false;
  auto render = [&](const PartHeatmapOptions& o) {
    auto image =
        SharedRenderThread().Call([&] { return RenderPartHeatmap(m.get(), d.get(), {}, o); });
    INFO(image.status().ToString());
    REQUIRE(image.ok());
    return PartView(*image, 320, 240).clone();
  };
  const cv::Mat without = render(options);
  // A line of hot contact points across the floor in front of the camera.
  for (int i = 0; i < 40; ++i) options.contacts.push_back({{-1.0f + 0.05f * i, -0.5f, 0.0f}, 500});
  const cv::Mat with = render(options);
  REQUIRE(WritePng(TempPath("dots.png"), with, "dots.png").ok());
  const cv::Vec3b hot = ColormapColor(1.0, cv::COLORMAP_JET);
  CHECK(CountNear(without, hot, 60) < 20);
  CHECK(CountNear(with, hot, 60) > 60);
}

TEST_CASE("A contact dot hidden behind a part is not painted, one in view is") {
  ModelPtr m = LoadInline(kScene);
  DataPtr d = MakeData(m.get());
  PartHeatmapOptions options;
  options.settings = {.width = 320, .height = 240};
  options.camera = {.name = "main"};
  options.yield_newtons = 100;
  options.labels = false;
  auto render = [&](const std::vector<ContactDot>& contacts) {
    PartHeatmapOptions o = options;
    o.contacts = contacts;
    auto image =
        SharedRenderThread().Call([&] { return RenderPartHeatmap(m.get(), d.get(), {}, o); });
    INFO(image.status().ToString());
    REQUIRE(image.ok());
    return PartView(*image, 320, 240).clone();
  };
  const cv::Vec3b hot = ColormapColor(1.0, cv::COLORMAP_JET);
  const int none = CountNear(render({}), hot, 60);
  // On the floor in front of the crate, seen by the camera.
  CHECK(CountNear(render({{{1.0f, -0.6f, 0.0f}, 500}}), hot, 60) > none + 3);
  // On the camera's line of sight through the crate, behind it: the crate hides it.
  CHECK(CountNear(render({{{1.08f, 0.31f, 0.06f}, 500}}), hot, 60) <= none);
  // Off the view, and a force of 0: nothing drawn, nothing refused.
  CHECK(CountNear(render({{{40.0f, 0.0f, 0.0f}, 500}, {{1.0f, -0.6f, 0.0f}, 0}}), hot, 60) <=
        none);
}

TEST_CASE("A top-down map with no contact says so, outlines of parts and zones are drawn") {
  ForceGrid grid{.width = 8, .height = 4, .x_min = -1, .x_max = 3, .y_min = -1, .y_max = 1};
  grid.values.assign(32, 0.0f);
  grid.outlines.push_back({"zone_goal_bin", ForceGrid::Outline::Kind::kGoalZone,
                           {{2.4, -0.3}, {2.9, -0.3}, {2.9, 0.3}, {2.4, 0.3}}});
  GridHeatmapOptions options;
  options.plot_pixels = 400;
  absl::StatusOr<cv::Mat> empty = RenderForceGridImage(grid, options);
  REQUIRE(empty.ok());
  REQUIRE(WritePng(TempPath("grid_empty.png"), *empty, "grid_empty.png").ok());
  // The plot is 400 x 200 (the world is 4 m x 2 m) at (70, 56): dark text in its middle.
  auto dark_in_middle = [](const cv::Mat& image) {
    int dark = 0;
    for (int y = 56 + 70; y < 56 + 130; ++y) {
      for (int x = 70 + 120; x < 70 + 280; ++x) {
        const cv::Vec3b p = image.at<cv::Vec3b>(y, x);
        if (p[0] < 80 && p[1] < 80 && p[2] < 80) ++dark;
      }
    }
    return dark;
  };
  CHECK(dark_in_middle(*empty) > 40);
  // The goal zone's green outline.
  CHECK(CountNear(*empty, cv::Vec3b(40, 150, 30), 30) > 50);
  // With a contact somewhere else, no "no contacts".
  grid.values[0] = 1.0f;
  absl::StatusOr<cv::Mat> filled = RenderForceGridImage(grid, options);
  REQUIRE(filled.ok());
  CHECK(dark_in_middle(*filled) == 0);
}

TEST_CASE("Top-down force grid puts y_min at the bottom and writes a non-uniform PNG") {
  ForceGrid grid{.width = 4, .height = 4, .x_min = -1, .x_max = 1, .y_min = -1, .y_max = 1};
  grid.values.assign(16, 0.0f);
  for (int col = 0; col < 4; ++col) grid.values[col] = 10.0f;  // row 0: y in [-1, -0.5]
  GridHeatmapOptions options;
  options.plot_pixels = 200;
  absl::StatusOr<cv::Mat> image = RenderForceGridImage(grid, options);
  INFO(image.status().ToString());
  REQUIRE(image.ok());
  std::filesystem::path path = TempPath("grid.png");
  REQUIRE(WritePng(path, *image, "grid.png").ok());
  cv::Mat decoded = cv::imread(path.string(), cv::IMREAD_COLOR);
  REQUIRE_FALSE(decoded.empty());
  CHECK(PixelStdDev(decoded) > 10.0);

  // Within the plot (left of the colour bar, below the title), hot pixels lie below the empty
  // (white) cells.
  const cv::Vec3b hot = ColormapColor(1.0, cv::COLORMAP_JET);
  const cv::Vec3b cold(255, 255, 255);
  double hot_y = 0, cold_y = 0;
  int hot_n = 0, cold_n = 0;
  for (int y = 60; y < 250; ++y) {
    for (int x = 100; x < 260; ++x) {
      const cv::Vec3b p = decoded.at<cv::Vec3b>(y, x);
      if (cv::norm(cv::Vec3d(p[0] - hot[0], p[1] - hot[1], p[2] - hot[2])) < 30) {
        hot_y += y;
        ++hot_n;
      } else if (cv::norm(cv::Vec3d(p[0] - cold[0], p[1] - cold[1], p[2] - cold[2])) < 30) {
        cold_y += y;
        ++cold_n;
      }
    }
  }
  REQUIRE(hot_n > 100);
  REQUIRE(cold_n > 100);
  CHECK(hot_y / hot_n > cold_y / cold_n);
}

TEST_CASE("Force grid with the wrong number of values or a negative one is INVALID_ARGUMENT") {
  ForceGrid short_grid{.width = 3, .height = 3, .x_min = 0, .x_max = 1, .y_min = 0, .y_max = 1,
                       .values = std::vector<float>(8, 1.0f)};
  CHECK(RenderForceGridImage(short_grid, {}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  ForceGrid negative = short_grid;
  negative.values.assign(9, 1.0f);
  negative.values[4] = -1.0f;
  CHECK(RenderForceGridImage(negative, {}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  ForceGrid empty_extent = short_grid;
  empty_extent.values.assign(9, 1.0f);
  empty_extent.x_max = empty_extent.x_min;
  CHECK(RenderForceGridImage(empty_extent, {}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("A ring of 4 azimuths x 2 elevations gives 8 distinct PNG stills") {
  ModelPtr m = LoadInline(kScene);
  DataPtr d = MakeData(m.get());
  std::vector<StillView> views = RingViews(4, {-20, -50});
  REQUIRE(views.size() == 8);
  CHECK(views[1].name == "az090_el-20");
  views.push_back(CameraView("main"));
  auto stills = SharedRenderThread().Call(
      [&] { return RenderStills(m.get(), d.get(), views, {.width = 160, .height = 120}); });
  INFO(stills.status().ToString());
  REQUIRE(stills.ok());
  REQUIRE(stills->size() == 9);
  CHECK((*stills)[8].name == "main");
  std::vector<cv::Mat> images;
  for (const Still& still : *stills) {
    cv::Mat image = DecodePng(still.png);
    REQUIRE_FALSE(image.empty());
    CHECK(image.cols == 160);
    CHECK(PixelStdDev(image) > 5.0);
    images.push_back(image);
  }
  CHECK(cv::norm(images[0], images[2], cv::NORM_L1) > 0);
  CHECK(cv::norm(images[0], images[4], cv::NORM_L1) > 0);
}

TEST_CASE("A stills request gives its camera's view or the ring, each still saying where from") {
  const std::vector<StillView> named = RequestedViews({.camera = "main"});
  REQUIRE(named.size() == 1);
  CHECK(named[0].name == "main");
  CHECK(named[0].camera.name == "main");
  const std::vector<StillView> ring =
      RequestedViews({.azimuth_count = 3, .elevations_deg = {-10, -40}});
  REQUIRE(ring.size() == 6);
  CHECK(ring[4].name == "az120_el-40");

  ModelPtr m = LoadInline(kScene);
  DataPtr d = MakeData(m.get());
  std::vector<StillView> views = {ring[4], named[0]};
  auto stills = SharedRenderThread().Call(
      [&] { return RenderStills(m.get(), d.get(), views, {.width = 96, .height = 64}); });
  INFO(stills.status().ToString());
  REQUIRE(stills.ok());
  REQUIRE(stills->size() == 2);
  const Still& ringed = (*stills)[0];
  CHECK(ringed.name == "az120_el-40");
  CHECK(ringed.camera.empty());
  CHECK(ringed.azimuth_deg == Approx(120));
  CHECK(ringed.elevation_deg == Approx(-40));
  CHECK(ringed.width == 96);
  CHECK(ringed.height == 64);
  const Still& from_camera = (*stills)[1];
  CHECK(from_camera.camera == "main");
  CHECK(from_camera.width == 96);
  cv::Mat image = DecodePng(from_camera.png);
  CHECK(image.cols == 96);
  CHECK(image.rows == 64);
}

TEST_CASE("Stills with no views are INVALID_ARGUMENT") {
  ModelPtr m = LoadInline(kScene);
  DataPtr d = MakeData(m.get());
  auto stills = SharedRenderThread().Call(
      [&] { return RenderStills(m.get(), d.get(), {}, {}); });
  REQUIRE_FALSE(stills.ok());
  CHECK(stills.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("An NVIDIA EGL device renders a non-blank frame", "[.gpu]") {
  absl::StatusOr<std::unique_ptr<RenderThread>> rt =
      RenderThread::Start({.backend = GlBackend::kNvidiaDevice});
  INFO(rt.status().ToString());
  REQUIRE(rt.ok());
  CHECK((*rt)->RendererName().find("NVIDIA") != std::string::npos);
  ModelPtr m = LoadInline(kScene);
  DataPtr d = MakeData(m.get());
  auto frame = (*rt)->Call([&]() -> absl::StatusOr<cv::Mat> {
    absl::StatusOr<std::unique_ptr<FrameRenderer>> r = FrameRenderer::Create(m.get(), {});
    if (!r.ok()) return r.status();
    return (*r)->Render(d.get(), *ResolveCamera(m.get(), {.name = "main"}));
  });
  REQUIRE(frame.ok());
  CHECK(PixelStdDev(*frame) > 10.0);
}

}  // namespace
}  // namespace workerpair::heavy::render
