// VideoRecorder: records a running simulation to H.264 MP4 while it runs.
//
// The simulation thread calls OnStep after each step. When a frame is due (every 1/fps of
// simulated time) it fills one of a few pre-made mjvScenes with mjv_updateScene (a copy of the
// geometry's poses, cheap) and hands it to the RenderThread, which renders and reads the pixels
// while the simulation goes on. With a GPU renderer the recorder's own encoder thread encodes
// them meanwhile, so the GL thread never waits on the encoder for long; the render thread waits
// only when `queue_depth` rendered frames are waiting for the encoder. With a software renderer
// (llvmpipe) the render thread encodes each frame itself right after reading it: llvmpipe
// already renders on every core, and an encoder thread competing with it made both slower than
// doing one after the other (heavy_bench, docs/BENCHMARKS.md). Either way the simulation waits
// only when every scene is still queued for rendering (a bounded queue of `queue_depth`).
//
//   WP_ASSIGN_OR_RETURN(auto recorder, VideoRecorder::Start(render_thread, model, {
//       .path = scratch / "video.mp4", .format = {640, 480, 30}, .camera = {.name = "main"}}));
//   while (d->time < duration) {
//     mj_step(m, d);
//     WP_RETURN_IF_ERROR(recorder->OnStep(m, d, d->time));
//   }
//   WP_ASSIGN_OR_RETURN(VideoStats stats, recorder->Finish());
//
// Frame k shows the state at the first step with sim_time >= start_time + k / fps, so T seconds
// simulated after start_time give floor(T * fps) + 1 frames. When a step is longer than 1/fps,
// the frame is repeated so that the video's clock matches simulated time.
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_VIDEO_RECORDER_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_VIDEO_RECORDER_H_

#include <mujoco/mujoco.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/scene/scene_limits.h"
#include "services/heavy/core/render/frame_renderer.h"
#include "services/heavy/core/render/render_thread.h"
#include "services/heavy/core/render/video_writer.h"

namespace workerpair::heavy::render {

// Where a recorder encodes its frames.
enum class VideoEncoding {
  kAuto,          // the render thread for a software renderer, else its own thread
  kOwnThread,     // the recorder's encoder thread
  kRenderThread,  // on the render thread, right after each frame is read
};

class FrameRendererCache;

struct VideoRecorderOptions {
  std::filesystem::path path;  // the .mp4 to write
  VideoFormat format;
  CameraSpec camera;
  // Quality knobs; width and height are taken from `format`.
  RenderSettings settings;
  SceneLimits limits;
  // Frames captured but not yet rendered before OnStep waits (at least 1).
  int queue_depth = 4;
  // Simulated time of frame 0.
  double start_time = 0.0;
  VideoEncoding encoding = VideoEncoding::kAuto;
  // Optional: renderers kept across recordings (frame_renderer_cache.h). With a non-empty
  // `model_key` (the compiled scene's digest: same key, same model) the recorder takes its
  // renderer from there and gives it back at Finish, so a model's MuJoCo render context is made
  // once per process, not once per recording.
  FrameRendererCache* renderers = nullptr;
  std::string model_key;
};

struct VideoStats {
  std::int64_t frames = 0;           // frames in the file
  bool encoded_on_render_thread = false;
  bool renderer_reused = false;      // the renderer came from the cache, made by an earlier one
  double setup_seconds = 0;          // wall time of Start (renderer, scenes, encoder)
  std::int64_t renders = 0;          // distinct renders (frames minus repeats)
  double capture_seconds = 0;        // wall time of mjv_updateScene on the simulation thread
  double stall_seconds = 0;          // wall time OnStep waited for a free scene
  double render_seconds = 0;         // wall time of render + read pixels on the render thread
  double encode_seconds = 0;         // wall time of encoding (on whichever thread encodes)
};

class VideoRecorder {
 public:
  // Builds the renderer and opens the video on `render_thread` (which must outlive the
  // recorder). INVALID_ARGUMENT for a format outside the limits, NOT_FOUND for an unknown
  // camera, UNAVAILABLE when the H.264 encoder cannot open, FAILED_PRECONDITION/INTERNAL from
  // FrameRenderer::Create.
  static absl::StatusOr<std::unique_ptr<VideoRecorder>> Start(RenderThread& render_thread,
                                                              const mjModel* m,
                                                              const VideoRecorderOptions& options);

  VideoRecorder(const VideoRecorder&) = delete;
  VideoRecorder& operator=(const VideoRecorder&) = delete;
  // Finishes the video if Finish was not called (errors are dropped).
  ~VideoRecorder();

  // Called from the simulation thread after each step, with `m`/`d` the simulated model (same
  // structure as the one given to Start) and its data. Captures a frame when one is due.
  // Returns the first error of the render thread (sticky), e.g. a failed encode;
  // FAILED_PRECONDITION after Finish.
  absl::Status OnStep(const mjModel* m, mjData* d, double sim_time);

  // Runs `fn` with the recorder's renderer on the render thread, after the frames queued so
  // far (e.g. a still of the final state without a second render context). Call from the
  // simulation thread, before Finish; FAILED_PRECONDITION after it.
  absl::StatusOr<cv::Mat> RenderWith(
      const std::function<absl::StatusOr<cv::Mat>(FrameRenderer&)>& fn);

  // Waits for the queued frames, closes the file and frees the GL resources. Returns the first
  // error met while recording. Call once; a second call is FAILED_PRECONDITION.
  absl::StatusOr<VideoStats> Finish();

  // Frames encoded so far (safe from any thread; for progress reports).
  std::int64_t frames_written() const { return frames_written_.load(); }

 private:
  struct Slot {
    mjvScene scene;
    int repeat = 0;
  };
  explicit VideoRecorder(RenderThread& rt) : render_thread_(rt) {}
  struct Rendered {
    cv::Mat frame;
    int repeat = 0;
  };
  // Runs on the render thread: renders slot `index` and queues the frame for encoding (or
  // encodes it there).
  void RenderSlot(int index);
  // Writes `frame` `repeat` times; the first error is kept.
  void WriteFrame(const cv::Mat& frame, int repeat);
  // The encoder thread's loop: writes queued frames until told to stop and the queue is empty.
  void EncodeLoop();
  void SetError(absl::Status status);
  absl::Status FirstError();

  RenderThread& render_thread_;
  VideoRecorderOptions options_;
  mjvCamera camera_;
  mjvOption option_;
  mjvPerturb perturb_;
  // Owned by the render thread (created, used and destroyed there).
  std::unique_ptr<FrameRenderer> renderer_;
  std::vector<Slot> slots_;
  bool encode_inline_ = false;
  cv::Mat inline_frame_;  // render thread only: the frame encoded in place
  // Used by the encoder thread only (opened before it starts, closed after it ends).
  std::unique_ptr<VideoWriter> writer_;
  std::thread encoder_;

  std::mutex mu_;
  std::condition_variable slot_free_;
  std::deque<int> free_slots_;  // guarded by mu_
  std::condition_variable encode_cv_;
  std::deque<Rendered> encode_queue_;  // guarded by mu_
  bool encode_done_ = false;           // guarded by mu_: no more frames will be queued
  absl::Status error_;          // guarded by mu_
  std::int64_t frames_scheduled_ = 0;  // simulation thread only
  bool finished_ = false;
  std::atomic<std::int64_t> frames_written_{0};
  VideoStats stats_;  // capture/stall: simulation thread; render/encode/renders: render thread
};

}  // namespace workerpair::heavy::render

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_VIDEO_RECORDER_H_
