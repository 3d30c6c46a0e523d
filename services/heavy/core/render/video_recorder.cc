#include "services/heavy/core/render/video_recorder.h"

#include <chrono>
#include <cmath>
#include <utility>

#include "libs/common/str_cat.h"
#include "services/heavy/core/render/frame_renderer_cache.h"
#include "services/heavy/core/render/gl_context.h"

namespace workerpair::heavy::render {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

absl::StatusOr<std::unique_ptr<VideoRecorder>> VideoRecorder::Start(
    RenderThread& render_thread, const mjModel* m, const VideoRecorderOptions& options) {
  if (m == nullptr) return absl::InvalidArgumentError("VideoRecorder: no model");
  if (absl::Status s = ValidateVideoFormat(options.format, options.limits); !s.ok()) return s;
  const auto setup_start = std::chrono::steady_clock::now();
  std::unique_ptr<VideoRecorder> rec(new VideoRecorder(render_thread));
  rec->options_ = options;
  rec->options_.settings.width = options.format.width;
  rec->options_.settings.height = options.format.height;
  if (rec->options_.queue_depth < 1) rec->options_.queue_depth = 1;
  absl::StatusOr<mjvCamera> camera = ResolveCamera(m, options.camera);
  if (!camera.ok()) return camera.status();
  rec->camera_ = *camera;
  mjv_defaultOption(&rec->option_);
  mjv_defaultPerturb(&rec->perturb_);
  rec->encode_inline_ = options.encoding == VideoEncoding::kRenderThread ||
                        (options.encoding == VideoEncoding::kAuto &&
                         IsSoftwareRenderer(render_thread.RendererName()));
  rec->stats_.encoded_on_render_thread = rec->encode_inline_;

  // Renderer, encoder and scenes are made on the render thread, which owns them.
  VideoRecorder* r = rec.get();
  absl::Status made = render_thread.Call([r, m]() -> absl::Status {
    absl::StatusOr<std::unique_ptr<FrameRenderer>> renderer =
        r->options_.renderers != nullptr
            ? r->options_.renderers->Take(r->options_.model_key, m, r->options_.settings,
                                          &r->stats_.renderer_reused)
            : FrameRenderer::Create(m, r->options_.settings);
    if (!renderer.ok()) return renderer.status();
    absl::StatusOr<std::unique_ptr<VideoWriter>> writer =
        VideoWriter::Open(r->options_.path, r->options_.format, r->options_.limits);
    if (!writer.ok()) return writer.status();
    r->renderer_ = std::move(*renderer);
    r->writer_ = std::move(*writer);
    r->slots_.resize(static_cast<size_t>(r->options_.queue_depth));
    for (Slot& slot : r->slots_) r->renderer_->MakeScene(&slot.scene);
    return absl::OkStatus();
  });
  if (!made.ok()) {
    // Free what was made, on the render thread, and leave nothing for the destructor.
    render_thread.Call([r] {
      for (Slot& slot : r->slots_) mjv_freeScene(&slot.scene);
      r->slots_.clear();
      r->writer_.reset();
      r->renderer_.reset();
    });
    rec->finished_ = true;
    return made;
  }
  for (int i = 0; i < rec->options_.queue_depth; ++i) rec->free_slots_.push_back(i);
  if (!rec->encode_inline_) rec->encoder_ = std::thread(&VideoRecorder::EncodeLoop, rec.get());
  rec->stats_.setup_seconds = SecondsSince(setup_start);
  return rec;
}

VideoRecorder::~VideoRecorder() {
  if (!finished_) (void)Finish();
}

void VideoRecorder::SetError(absl::Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (error_.ok()) error_ = std::move(status);
}

absl::Status VideoRecorder::FirstError() {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

absl::Status VideoRecorder::OnStep(const mjModel* m, mjData* d, double sim_time) {
  if (finished_) return absl::FailedPreconditionError("VideoRecorder: OnStep after Finish");
  if (absl::Status error = FirstError(); !error.ok()) return error;

  // Frames due so far: frame k at start_time + k / fps (a small tolerance absorbs the
  // rounding of accumulated timesteps).
  const double elapsed = sim_time - options_.start_time;
  if (!std::isfinite(elapsed) || elapsed < -1e-9) return absl::OkStatus();
  const std::int64_t due =
      static_cast<std::int64_t>(std::floor(elapsed * options_.format.fps + 1e-6)) + 1;
  if (due <= frames_scheduled_) return absl::OkStatus();
  const int repeat = static_cast<int>(due - frames_scheduled_);
  frames_scheduled_ = due;

  // Take a free scene, waiting only when the render thread is queue_depth frames behind.
  int index;
  {
    const auto wait_start = std::chrono::steady_clock::now();
    std::unique_lock<std::mutex> lock(mu_);
    slot_free_.wait(lock, [this] { return !free_slots_.empty(); });
    index = free_slots_.front();
    free_slots_.pop_front();
    stats_.stall_seconds += SecondsSince(wait_start);
  }

  // Copy the poses into the scene here; the render thread only draws it.
  const auto capture_start = std::chrono::steady_clock::now();
  Slot& slot = slots_[static_cast<size_t>(index)];
  slot.repeat = repeat;
  mjvCamera camera = camera_;
  mjv_updateScene(m, d, &option_, &perturb_, &camera, mjCAT_ALL, &slot.scene);
  stats_.capture_seconds += SecondsSince(capture_start);

  render_thread_.Post([this, index] { RenderSlot(index); });
  return absl::OkStatus();
}

void VideoRecorder::WriteFrame(const cv::Mat& frame, int repeat) {
  const auto encode_start = std::chrono::steady_clock::now();
  for (int i = 0; i < repeat; ++i) {
    if (absl::Status s = writer_->Write(frame); !s.ok()) {
      SetError(s);
      encode_cv_.notify_all();
      break;
    }
    frames_written_.fetch_add(1);
  }
  stats_.encode_seconds += SecondsSince(encode_start);
}

void VideoRecorder::RenderSlot(int index) {
  Slot& slot = slots_[static_cast<size_t>(index)];
  if (encode_inline_) {
    // Render, free the scene for the simulation, then encode here (see the file comment).
    absl::Status rendered = absl::CancelledError("not rendered after an earlier error");
    if (FirstError().ok()) {
      const auto render_start = std::chrono::steady_clock::now();
      rendered = renderer_->RenderSceneInto(&slot.scene, inline_frame_);
      stats_.render_seconds += SecondsSince(render_start);
      if (!rendered.ok()) SetError(rendered);
    }
    const int repeat = slot.repeat;
    {
      std::lock_guard<std::mutex> lock(mu_);
      free_slots_.push_back(index);
      if (rendered.ok()) ++stats_.renders;
    }
    slot_free_.notify_one();
    if (rendered.ok()) WriteFrame(inline_frame_, repeat);
    return;
  }
  absl::StatusOr<cv::Mat> frame = absl::CancelledError("not rendered after an earlier error");
  if (FirstError().ok()) {
    const auto render_start = std::chrono::steady_clock::now();
    frame = renderer_->RenderScene(&slot.scene);
    stats_.render_seconds += SecondsSince(render_start);
    if (!frame.ok()) SetError(frame.status());
  }
  // The scene is free again as soon as its pixels are read.
  {
    std::unique_lock<std::mutex> lock(mu_);
    free_slots_.push_back(index);
    if (frame.ok()) {
      ++stats_.renders;
      // Wait while the encoder is queue_depth frames behind (bounded memory).
      encode_cv_.wait(lock, [this] {
        return encode_queue_.size() < static_cast<size_t>(options_.queue_depth) || !error_.ok();
      });
      encode_queue_.push_back({std::move(*frame), slot.repeat});
    }
  }
  slot_free_.notify_one();
  encode_cv_.notify_all();
}

void VideoRecorder::EncodeLoop() {
  while (true) {
    Rendered item;
    {
      std::unique_lock<std::mutex> lock(mu_);
      encode_cv_.wait(lock, [this] { return encode_done_ || !encode_queue_.empty(); });
      if (encode_queue_.empty()) return;
      item = std::move(encode_queue_.front());
      encode_queue_.pop_front();
    }
    encode_cv_.notify_all();
    if (!FirstError().ok()) continue;  // drain without writing
    WriteFrame(item.frame, item.repeat);
  }
}

absl::StatusOr<cv::Mat> VideoRecorder::RenderWith(
    const std::function<absl::StatusOr<cv::Mat>(FrameRenderer&)>& fn) {
  if (finished_) return absl::FailedPreconditionError("VideoRecorder: RenderWith after Finish");
  return render_thread_.Call([&]() -> absl::StatusOr<cv::Mat> {
    if (!renderer_) return absl::FailedPreconditionError("VideoRecorder: no renderer");
    return fn(*renderer_);
  });
}

absl::StatusOr<VideoStats> VideoRecorder::Finish() {
  if (finished_) return absl::FailedPreconditionError("VideoRecorder: Finish called twice");
  finished_ = true;
  // Queued frames render first (tasks run in order), then the scenes are freed and the renderer
  // goes back to the cache when there is one (a recording that failed keeps nothing).
  render_thread_.Call([this] {
    for (Slot& slot : slots_) mjv_freeScene(&slot.scene);
    slots_.clear();
    if (options_.renderers != nullptr && FirstError().ok()) {
      options_.renderers->Give(options_.model_key, std::move(renderer_));
    }
    renderer_.reset();
    inline_frame_.release();
  });
  // Every frame is now queued for the encoder: let it finish, then close the file.
  {
    std::lock_guard<std::mutex> lock(mu_);
    encode_done_ = true;
  }
  encode_cv_.notify_all();
  if (encoder_.joinable()) encoder_.join();
  absl::Status closed = writer_ != nullptr ? writer_->Close() : absl::OkStatus();
  writer_.reset();
  if (absl::Status error = FirstError(); !error.ok()) return error;
  if (!closed.ok()) return closed;
  stats_.frames = frames_written_.load();
  return stats_;
}

}  // namespace workerpair::heavy::render
