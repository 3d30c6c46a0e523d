// RenderThread: one thread that owns one headless GL context, made current once and reused for
// every job it renders. GL work is submitted as tasks and runs in submission order.
//
//   WP_ASSIGN_OR_RETURN(std::unique_ptr<RenderThread> rt, RenderThread::Start({}));
//   absl::StatusOr<cv::Mat> frame = rt->Call([&] { return RenderOnce(model, data); });
//   rt->Post([] { /* fire and forget, still in order */ });
//
// MuJoCo's mjrContext (textures, meshes, the offscreen buffer) belongs to one model, so it is
// made per model (FrameRenderer) on this thread, and kept across jobs on the same compiled scene
// by a FrameRendererCache; the GL context itself lives as long as the thread.
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_RENDER_THREAD_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_RENDER_THREAD_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include "absl/status/statusor.h"
#include "services/heavy/core/render/gl_context.h"

namespace workerpair::heavy::render {

class RenderThread {
 public:
  // Starts the thread and creates its GL context on it; returns once the context is current
  // there. UNAVAILABLE (from GlContext::Create) when no context can be created.
  static absl::StatusOr<std::unique_ptr<RenderThread>> Start(const GlContextOptions& options);

  RenderThread(const RenderThread&) = delete;
  RenderThread& operator=(const RenderThread&) = delete;
  // Runs the tasks already queued, destroys the context on the thread and joins it.
  ~RenderThread();

  // Queues `task`; it runs on the render thread after every task queued before it.
  void Post(std::function<void()> task);

  // Runs `fn` on the render thread and returns its result, waiting for it. Called from the
  // render thread itself (inside a task), runs `fn` inline.
  template <typename F>
  std::invoke_result_t<F&> Call(F fn) {
    using R = std::invoke_result_t<F&>;
    if (OnThread()) return fn();
    auto task = std::make_shared<std::packaged_task<R()>>(std::move(fn));
    std::future<R> result = task->get_future();
    Post([task] { (*task)(); });
    return result.get();
  }

  // Waits until every task queued before this call has run.
  void Drain();

  // True on the render thread.
  bool OnThread() const { return std::this_thread::get_id() == thread_.get_id(); }

  // The GL renderer string (GL_RENDERER), and the EGL platform in words.
  std::string RendererName() const { return renderer_; }
  std::string Platform() const { return platform_; }
  // The EGLContext handle this thread renders with (fixed for the thread's life).
  const void* context_handle() const { return context_handle_; }
  // Tasks run so far.
  std::int64_t tasks_run() const { return tasks_run_.load(); }

 private:
  RenderThread() = default;
  void Loop(const GlContextOptions& options, std::promise<absl::Status> started);

  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::atomic<std::int64_t> tasks_run_{0};
  std::string renderer_;
  std::string platform_;
  const void* context_handle_ = nullptr;
};

}  // namespace workerpair::heavy::render

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_RENDER_THREAD_H_
