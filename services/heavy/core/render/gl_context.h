// GlContext: a headless OpenGL context through EGL, with no window system and no X server.
//
// On a machine with an NVIDIA driver the context lives on an EGL device picked with
// eglQueryDevicesEXT (EGL_PLATFORM_DEVICE_EXT); elsewhere on Mesa's surfaceless platform
// (llvmpipe on CPU machines). The same rendering code runs on both.
//
//   WP_ASSIGN_OR_RETURN(std::unique_ptr<GlContext> gl, GlContext::Create({}));
//   // ... the context is now current on this thread: mjr_makeContext, mjr_render ...
//   spdlog::info("GL renderer: {}", gl->RendererName());
//
// A context is current on one thread at a time: rendering on another thread gives black frames
// and no error. Use RenderThread (render_thread.h), which owns one context on its own thread.
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_GL_CONTEXT_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_GL_CONTEXT_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace workerpair::heavy::render {

// Which EGL platform a context is created on.
enum class GlBackend {
  kAuto,          // an NVIDIA EGL device when one exists, else Mesa surfaceless
  kNvidiaDevice,  // an NVIDIA EGL device, or UNAVAILABLE
  kSurfaceless,   // Mesa's EGL_PLATFORM_SURFACELESS_MESA (llvmpipe without a GPU)
};

struct GlContextOptions {
  GlBackend backend = GlBackend::kAuto;
  // Index among the NVIDIA EGL devices; -1 takes $WORKERPAIR_EGL_DEVICE if set, else 0.
  int device_index = -1;
};

// True for Mesa's CPU rasterisers (GL_RENDERER "llvmpipe ...", "softpipe", "swrast"): their
// rendering runs on the machine's own cores, in threads of their own.
bool IsSoftwareRenderer(std::string_view gl_renderer);

class GlContext {
 public:
  // Creates a context and makes it current on the calling thread. UNAVAILABLE when no EGL
  // display initialises, no config fits (RGBA8, depth 24, stencil 8, desktop OpenGL) or the
  // context cannot be created; the message names the platform and the EGL error.
  static absl::StatusOr<std::unique_ptr<GlContext>> Create(const GlContextOptions& options);

  GlContext(const GlContext&) = delete;
  GlContext& operator=(const GlContext&) = delete;
  // Destroys the context (current or not on this thread). The EGL display stays initialised
  // for the life of the process, since other contexts may share it.
  ~GlContext();

  // Makes the context current on the calling thread. INTERNAL on an EGL failure.
  absl::Status MakeCurrent();
  // Releases the context from the calling thread.
  void ReleaseCurrent();
  // True when this context is current on the calling thread.
  bool IsCurrent() const;

  // GL_RENDERER, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)" or "NVIDIA H100 80GB HBM3/PCIe/SSE2".
  std::string RendererName() const { return renderer_; }
  // GL_VERSION and GL_VENDOR.
  std::string Version() const { return version_; }
  std::string Vendor() const { return vendor_; }
  // The EGL platform in words: "EGL device 0 (NVIDIA)" or "EGL surfaceless (Mesa)".
  std::string Platform() const { return platform_; }
  // The EGLContext handle, for identity checks.
  const void* native_handle() const { return context_; }

 private:
  GlContext() = default;

  void* display_ = nullptr;  // EGLDisplay
  void* context_ = nullptr;  // EGLContext
  std::string renderer_;
  std::string version_;
  std::string vendor_;
  std::string platform_;
};

}  // namespace workerpair::heavy::render

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_GL_CONTEXT_H_
