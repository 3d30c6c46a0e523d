#include "services/heavy/core/render/gl_context.h"

#include <EGL/egl.h>
#include <EGL/eglext.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "libs/common/str_cat.h"

namespace workerpair::heavy::render {

bool IsSoftwareRenderer(std::string_view gl_renderer) {
  for (std::string_view name : {"llvmpipe", "softpipe", "swrast"}) {
    if (gl_renderer.find(name) != std::string_view::npos) return true;
  }
  return false;
}

namespace {

// GL enums and the one GL entry point we need, resolved through EGL so that this library does
// not link libOpenGL (MuJoCo resolves its own GL functions through eglGetProcAddress too).
constexpr unsigned kGlVendor = 0x1F00;
constexpr unsigned kGlRenderer = 0x1F01;
constexpr unsigned kGlVersion = 0x1F02;
using GlGetStringFn = const unsigned char* (*)(unsigned);

std::string EglErrorName(EGLint error) {
  switch (error) {
    case EGL_SUCCESS: return "EGL_SUCCESS";
    case EGL_NOT_INITIALIZED: return "EGL_NOT_INITIALIZED";
    case EGL_BAD_ACCESS: return "EGL_BAD_ACCESS";
    case EGL_BAD_ALLOC: return "EGL_BAD_ALLOC";
    case EGL_BAD_ATTRIBUTE: return "EGL_BAD_ATTRIBUTE";
    case EGL_BAD_CONFIG: return "EGL_BAD_CONFIG";
    case EGL_BAD_CONTEXT: return "EGL_BAD_CONTEXT";
    case EGL_BAD_DISPLAY: return "EGL_BAD_DISPLAY";
    case EGL_BAD_MATCH: return "EGL_BAD_MATCH";
    case EGL_BAD_PARAMETER: return "EGL_BAD_PARAMETER";
    default: return StrCat("EGL error ", static_cast<int>(error));
  }
}

bool HasExtension(const char* list, std::string_view name) {
  if (list == nullptr) return false;
  std::string_view all(list);
  size_t pos = 0;
  while ((pos = all.find(name, pos)) != std::string_view::npos) {
    const size_t end = pos + name.size();
    const bool starts = pos == 0 || all[pos - 1] == ' ';
    const bool ends = end == all.size() || all[end] == ' ';
    if (starts && ends) return true;
    pos = end;
  }
  return false;
}

// The NVIDIA EGL devices (those exposing EGL_NV_device_cuda), in enumeration order.
std::vector<EGLDeviceEXT> NvidiaDevices() {
  std::vector<EGLDeviceEXT> result;
  const char* client_ext = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
  if (!HasExtension(client_ext, "EGL_EXT_device_enumeration") &&
      !HasExtension(client_ext, "EGL_EXT_device_base")) {
    return result;
  }
  auto query_devices =
      reinterpret_cast<PFNEGLQUERYDEVICESEXTPROC>(eglGetProcAddress("eglQueryDevicesEXT"));
  auto query_string = reinterpret_cast<PFNEGLQUERYDEVICESTRINGEXTPROC>(
      eglGetProcAddress("eglQueryDeviceStringEXT"));
  if (query_devices == nullptr || query_string == nullptr) return result;
  EGLint count = 0;
  if (!query_devices(0, nullptr, &count) || count <= 0) return result;
  std::vector<EGLDeviceEXT> devices(static_cast<size_t>(count));
  if (!query_devices(count, devices.data(), &count)) return result;
  devices.resize(static_cast<size_t>(count));
  for (EGLDeviceEXT device : devices) {
    if (HasExtension(query_string(device, EGL_EXTENSIONS), "EGL_NV_device_cuda")) {
      result.push_back(device);
    }
  }
  return result;
}

struct Display {
  EGLDisplay display = EGL_NO_DISPLAY;
  std::string platform;
};

absl::StatusOr<Display> OpenNvidiaDisplay(int device_index) {
  if (device_index < 0) {
    const char* env = std::getenv("WORKERPAIR_EGL_DEVICE");
    device_index = env != nullptr ? std::atoi(env) : 0;
  }
  std::vector<EGLDeviceEXT> devices = NvidiaDevices();
  if (devices.empty()) return absl::UnavailableError("no NVIDIA EGL device found");
  if (device_index < 0 || device_index >= static_cast<int>(devices.size())) {
    return absl::UnavailableError(StrCat("NVIDIA EGL device ", device_index, " requested but ",
                                         devices.size(), " found"));
  }
  auto get_display = reinterpret_cast<PFNEGLGETPLATFORMDISPLAYEXTPROC>(
      eglGetProcAddress("eglGetPlatformDisplayEXT"));
  if (get_display == nullptr) return absl::UnavailableError("eglGetPlatformDisplayEXT missing");
  EGLDisplay display = get_display(EGL_PLATFORM_DEVICE_EXT, devices[device_index], nullptr);
  if (display == EGL_NO_DISPLAY) {
    return absl::UnavailableError(StrCat("eglGetPlatformDisplayEXT(device ", device_index,
                                         ") failed: ", EglErrorName(eglGetError())));
  }
  return Display{display, StrCat("EGL device ", device_index, " (NVIDIA)")};
}

absl::StatusOr<Display> OpenSurfacelessDisplay() {
  const char* client_ext = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
  if (!HasExtension(client_ext, "EGL_MESA_platform_surfaceless")) {
    return absl::UnavailableError("EGL_MESA_platform_surfaceless is not supported");
  }
  auto get_display = reinterpret_cast<PFNEGLGETPLATFORMDISPLAYEXTPROC>(
      eglGetProcAddress("eglGetPlatformDisplayEXT"));
  if (get_display == nullptr) return absl::UnavailableError("eglGetPlatformDisplayEXT missing");
  EGLDisplay display = get_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, nullptr);
  if (display == EGL_NO_DISPLAY) {
    return absl::UnavailableError(StrCat("surfaceless EGL display failed: ",
                                         EglErrorName(eglGetError())));
  }
  return Display{display, "EGL surfaceless (Mesa)"};
}

// Initialises `display` and creates a desktop OpenGL context on it.
absl::StatusOr<EGLContext> CreateOn(const Display& d) {
  EGLint major = 0;
  EGLint minor = 0;
  if (!eglInitialize(d.display, &major, &minor)) {
    return absl::UnavailableError(
        StrCat("eglInitialize on ", d.platform, " failed: ", EglErrorName(eglGetError())));
  }
  const EGLint config_attribs[] = {EGL_SURFACE_TYPE, EGL_PBUFFER_BIT,
                                   EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT,
                                   EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8,
                                   EGL_ALPHA_SIZE, 8, EGL_DEPTH_SIZE, 24, EGL_STENCIL_SIZE, 8,
                                   EGL_NONE};
  EGLConfig config = nullptr;
  EGLint num_configs = 0;
  if (!eglChooseConfig(d.display, config_attribs, &config, 1, &num_configs) ||
      num_configs < 1) {
    return absl::UnavailableError(StrCat("no EGL config (RGBA8, depth 24, stencil 8, OpenGL) on ",
                                         d.platform, ": ", EglErrorName(eglGetError())));
  }
  if (!eglBindAPI(EGL_OPENGL_API)) {
    return absl::UnavailableError(
        StrCat("eglBindAPI(OpenGL) on ", d.platform, " failed: ", EglErrorName(eglGetError())));
  }
  EGLContext context = eglCreateContext(d.display, config, EGL_NO_CONTEXT, nullptr);
  if (context == EGL_NO_CONTEXT) {
    return absl::UnavailableError(StrCat("eglCreateContext on ", d.platform, " failed: ",
                                         EglErrorName(eglGetError())));
  }
  if (!eglMakeCurrent(d.display, EGL_NO_SURFACE, EGL_NO_SURFACE, context)) {
    const EGLint error = eglGetError();
    eglDestroyContext(d.display, context);
    return absl::UnavailableError(
        StrCat("eglMakeCurrent on ", d.platform, " failed: ", EglErrorName(error)));
  }
  return context;
}

std::string GlString(GlGetStringFn get_string, unsigned name) {
  const unsigned char* text = get_string != nullptr ? get_string(name) : nullptr;
  return text != nullptr ? std::string(reinterpret_cast<const char*>(text)) : std::string();
}

}  // namespace

absl::StatusOr<std::unique_ptr<GlContext>> GlContext::Create(const GlContextOptions& options) {
  // Pick the platform: NVIDIA device first under kAuto, falling back to Mesa surfaceless.
  std::vector<Display> candidates;
  std::string errors;
  if (options.backend != GlBackend::kSurfaceless) {
    absl::StatusOr<Display> nvidia = OpenNvidiaDisplay(options.device_index);
    if (nvidia.ok()) {
      candidates.push_back(*nvidia);
    } else if (options.backend == GlBackend::kNvidiaDevice) {
      return nvidia.status();
    } else {
      errors = StrCat(std::string(nvidia.status().message()), "; ");
    }
  }
  if (options.backend != GlBackend::kNvidiaDevice) {
    absl::StatusOr<Display> mesa = OpenSurfacelessDisplay();
    if (mesa.ok()) {
      candidates.push_back(*mesa);
    } else {
      errors += StrCat(std::string(mesa.status().message()), "; ");
    }
  }

  // The first platform on which a context comes up wins.
  for (const Display& d : candidates) {
    absl::StatusOr<EGLContext> context = CreateOn(d);
    if (!context.ok()) {
      errors += StrCat(std::string(context.status().message()), "; ");
      continue;
    }
    std::unique_ptr<GlContext> gl(new GlContext());
    gl->display_ = d.display;
    gl->context_ = *context;
    gl->platform_ = d.platform;
    auto get_string = reinterpret_cast<GlGetStringFn>(eglGetProcAddress("glGetString"));
    gl->renderer_ = GlString(get_string, kGlRenderer);
    gl->version_ = GlString(get_string, kGlVersion);
    gl->vendor_ = GlString(get_string, kGlVendor);
    if (gl->renderer_.empty()) {
      return absl::UnavailableError(StrCat("GL context on ", d.platform,
                                           " reports no GL_RENDERER"));
    }
    return gl;
  }
  return absl::UnavailableError(StrCat("no headless OpenGL context could be created: ", errors));
}

GlContext::~GlContext() {
  if (context_ == nullptr) return;
  if (IsCurrent()) eglMakeCurrent(display_, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
  eglDestroyContext(display_, context_);
}

absl::Status GlContext::MakeCurrent() {
  if (IsCurrent()) return absl::OkStatus();
  if (!eglMakeCurrent(display_, EGL_NO_SURFACE, EGL_NO_SURFACE, context_)) {
    return absl::InternalError(
        StrCat("eglMakeCurrent on ", platform_, " failed: ", EglErrorName(eglGetError())));
  }
  return absl::OkStatus();
}

void GlContext::ReleaseCurrent() {
  if (IsCurrent()) eglMakeCurrent(display_, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
}

bool GlContext::IsCurrent() const { return eglGetCurrentContext() == context_; }

}  // namespace workerpair::heavy::render
