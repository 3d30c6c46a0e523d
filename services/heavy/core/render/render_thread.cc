#include "services/heavy/core/render/render_thread.h"

#include <EGL/egl.h>

#include <utility>

namespace workerpair::heavy::render {

absl::StatusOr<std::unique_ptr<RenderThread>> RenderThread::Start(
    const GlContextOptions& options) {
  std::unique_ptr<RenderThread> rt(new RenderThread());
  std::promise<absl::Status> started;
  std::future<absl::Status> started_future = started.get_future();
  rt->thread_ = std::thread(&RenderThread::Loop, rt.get(), options, std::move(started));
  absl::Status status = started_future.get();
  if (!status.ok()) {
    rt->thread_.join();
    return status;
  }
  return rt;
}

void RenderThread::Loop(const GlContextOptions& options, std::promise<absl::Status> started) {
  // The context is created here and stays current on this thread until it ends.
  absl::StatusOr<std::unique_ptr<GlContext>> gl = GlContext::Create(options);
  if (!gl.ok()) {
    started.set_value(gl.status());
    eglReleaseThread();
    return;
  }
  renderer_ = (*gl)->RendererName();
  platform_ = (*gl)->Platform();
  context_handle_ = (*gl)->native_handle();
  started.set_value(absl::OkStatus());

  // Run tasks in order until asked to stop and the queue is empty.
  while (true) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) break;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
    tasks_run_.fetch_add(1);
  }
  gl->reset();
  eglReleaseThread();
}

RenderThread::~RenderThread() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RenderThread::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void RenderThread::Drain() {
  if (OnThread()) return;
  Call([] { return 0; });
}

}  // namespace workerpair::heavy::render
