// Which memory rlimit a rendering MuJoCo process tolerates (a measurement tool, not a test):
//
//   memory_limit_probe <none|as|data> <limit_mb> [--sandbox] [--bomb_mb=N]
//
// Sets the limit, optionally enters the sandbox (system paths + devices only), creates an EGL
// context (NVIDIA device when present, else Mesa surfaceless/llvmpipe), compiles a small scene,
// renders 10 frames at 640x480 through mjr_render, prints the process's VmPeak/VmData/VmRSS,
// then allocates and touches N MiB and says whether the limit stopped it.
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <mujoco/mujoco.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "libs/sandbox/sandbox.h"

namespace {

constexpr const char* kScene = R"(<mujoco>
  <visual><global offwidth="640" offheight="480"/></visual>
  <asset><texture name="grid" type="2d" builtin="checker" width="512" height="512"/>
         <material name="grid" texture="grid" texrepeat="4 4"/></asset>
  <worldbody>
    <light pos="0 0 3"/>
    <geom type="plane" size="5 5 0.1" material="grid"/>
    <body pos="0 0 1"><freejoint/><geom type="box" size="0.1 0.1 0.1"/></body>
    <body pos="0.3 0 1.3"><freejoint/><geom type="sphere" size="0.1"/></body>
    <body pos="-0.3 0 1.6"><freejoint/><geom type="capsule" size="0.05 0.2"/></body>
  </worldbody>
</mujoco>)";

void ThrowingError(const char* message) { throw std::runtime_error(message); }

std::string Status(const char* key) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(key, 0) == 0) return line;
  }
  return std::string(key) + " ?";
}

EGLDisplay OpenDisplay(std::string* platform) {
  auto get_display = reinterpret_cast<PFNEGLGETPLATFORMDISPLAYEXTPROC>(
      eglGetProcAddress("eglGetPlatformDisplayEXT"));
  auto query_devices =
      reinterpret_cast<PFNEGLQUERYDEVICESEXTPROC>(eglGetProcAddress("eglQueryDevicesEXT"));
  auto query_string = reinterpret_cast<PFNEGLQUERYDEVICESTRINGEXTPROC>(
      eglGetProcAddress("eglQueryDeviceStringEXT"));
  if (query_devices != nullptr && query_string != nullptr) {
    EGLDeviceEXT devices[8];
    EGLint count = 0;
    if (query_devices(8, devices, &count)) {
      for (EGLint i = 0; i < count; ++i) {
        const char* ext = query_string(devices[i], EGL_EXTENSIONS);
        if (ext != nullptr && std::strstr(ext, "EGL_NV_device_cuda") != nullptr) {
          *platform = "nvidia device";
          return get_display(EGL_PLATFORM_DEVICE_EXT, devices[i], nullptr);
        }
      }
    }
  }
  *platform = "mesa surfaceless";
  return get_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <none|as|data> <limit_mb> [--sandbox] [--bomb_mb=N]\n", argv[0]);
    return 2;
  }
  const std::string kind = argv[1];
  const std::uint64_t limit = std::strtoull(argv[2], nullptr, 10) << 20;
  bool sandbox = false;
  std::uint64_t bomb_mb = 0;
  for (int i = 3; i < argc; ++i) {
    if (std::strcmp(argv[i], "--sandbox") == 0) sandbox = true;
    if (std::strncmp(argv[i], "--bomb_mb=", 10) == 0) bomb_mb = std::strtoull(argv[i] + 10, nullptr, 10);
  }
  workerpair::sandbox::ResourceLimits limits;
  if (kind == "as") limits.address_space_bytes = limit;
  if (kind == "data") limits.data_bytes = limit;
  if (absl::Status s = workerpair::sandbox::ApplyResourceLimits(limits); !s.ok()) {
    std::printf("limit: %s\n", std::string(s.message()).c_str());
    return 3;
  }
  if (sandbox) {
    workerpair::sandbox::SandboxPolicy policy;
    policy.read_only = workerpair::sandbox::SystemReadOnlyPaths();
    policy.devices = workerpair::sandbox::SystemDevicePaths();
    policy.deny_exec = true;
    auto report = workerpair::sandbox::EnterSandbox(policy);
    if (!report.ok()) {
      std::printf("sandbox: %s\n", std::string(report.status().message()).c_str());
      return 3;
    }
    std::printf("sandbox: %s\n", report->Describe().c_str());
  }
  mju_user_error = ThrowingError;
  std::string platform;
  EGLDisplay display = OpenDisplay(&platform);
  EGLint major = 0, minor = 0;
  if (display == EGL_NO_DISPLAY || !eglInitialize(display, &major, &minor)) {
    std::printf("FAIL egl init (%s): 0x%x\n", platform.c_str(), eglGetError());
    return 4;
  }
  const EGLint attribs[] = {EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT,
                            EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8, EGL_ALPHA_SIZE, 8,
                            EGL_DEPTH_SIZE, 24, EGL_STENCIL_SIZE, 8, EGL_NONE};
  EGLConfig config = nullptr;
  EGLint configs = 0;
  if (!eglChooseConfig(display, attribs, &config, 1, &configs) || configs < 1 ||
      !eglBindAPI(EGL_OPENGL_API)) {
    std::printf("FAIL egl config: 0x%x\n", eglGetError());
    return 4;
  }
  EGLContext context = eglCreateContext(display, config, EGL_NO_CONTEXT, nullptr);
  if (context == EGL_NO_CONTEXT || !eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, context)) {
    std::printf("FAIL egl context: 0x%x\n", eglGetError());
    return 4;
  }
  try {
    char error[1000] = "";
    mjVFS* vfs = new mjVFS;
    mj_defaultVFS(vfs);
    mj_makeEmptyFileVFS(vfs, "scene.xml", static_cast<int>(std::strlen(kScene)));
    std::memcpy(vfs->filedata[vfs->nfile - 1], kScene, std::strlen(kScene));
    mjModel* model = mj_loadXML("scene.xml", vfs, error, sizeof(error));
    if (model == nullptr) {
      std::printf("FAIL load: %s\n", error);
      return 5;
    }
    mjData* data = mj_makeData(model);
    mjvScene scene;
    mjvCamera camera;
    mjvOption option;
    mjrContext gl;
    mjv_defaultScene(&scene);
    mjv_defaultCamera(&camera);
    mjv_defaultOption(&option);
    mjr_defaultContext(&gl);
    mjv_makeScene(model, &scene, 2000);
    mjr_makeContext(model, &gl, mjFONTSCALE_150);
    mjr_setBuffer(mjFB_OFFSCREEN, &gl);
    std::vector<unsigned char> rgb(640 * 480 * 3);
    const mjrRect viewport{0, 0, 640, 480};
    for (int frame = 0; frame < 10; ++frame) {
      for (int i = 0; i < 20; ++i) mj_step(model, data);
      mjv_updateScene(model, data, &option, nullptr, &camera, mjCAT_ALL, &scene);
      mjr_render(viewport, &scene, &gl);
      mjr_readPixels(rgb.data(), nullptr, viewport, &gl);
    }
    long lit = 0;
    for (unsigned char c : rgb) lit += c != 0;
    std::printf("render ok (%s, %s, %ld lit bytes)\n", platform.c_str(),
                reinterpret_cast<const char*>(eglQueryString(display, EGL_VENDOR)), lit);
  } catch (const std::exception& e) {
    std::printf("FAIL mujoco: %s\n", e.what());
    std::printf("%s\n%s\n", Status("VmPeak").c_str(), Status("VmData").c_str());
    return 6;
  }
  std::printf("%s | %s | %s | %s\n", Status("VmPeak").c_str(), Status("VmSize").c_str(),
              Status("VmData").c_str(), Status("VmRSS").c_str());
  if (bomb_mb > 0) {
    try {
      std::vector<char> bomb(bomb_mb << 20, 1);
      std::printf("bomb of %llu MiB NOT stopped (%d)\n", static_cast<unsigned long long>(bomb_mb),
                  bomb[bomb.size() / 2]);
    } catch (const std::bad_alloc&) {
      std::printf("bomb of %llu MiB stopped: std::bad_alloc\n", static_cast<unsigned long long>(bomb_mb));
    }
  }
  return 0;
}
