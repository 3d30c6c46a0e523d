#include "services/heavy/core/scene/mujoco_guard.h"

#include <catch2/catch.hpp>

#include <mujoco/mujoco.h>

#include <string>
#include <thread>
#include <vector>

namespace workerpair::heavy {
namespace {

TEST_CASE("A MuJoCo error becomes a status, not the end of the process") {
  absl::Status s = scene::GuardMujoco("test call", [] { mju_error_i("boom %d", 42); });
  CHECK(s.code() == absl::StatusCode::kInternal);
  CHECK(std::string(s.message()) == "test call: boom 42");
  s = scene::GuardMujoco(
      "again", [] { mju_error("bad"); }, absl::StatusCode::kInvalidArgument);
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(scene::GuardMujoco("fine", [] {}).ok());
}

TEST_CASE("MuJoCo warnings are recorded per thread") {
  scene::InstallMujocoHandlers();
  scene::TakeMujocoWarnings();
  mju_warning("main thread warning");
  std::vector<std::string> other;
  std::thread worker([&] {
    mju_warning("worker warning");
    other = scene::TakeMujocoWarnings();
  });
  worker.join();
  CHECK(other == std::vector<std::string>{"worker warning"});
  CHECK(scene::TakeMujocoWarnings() == std::vector<std::string>{"main thread warning"});
  CHECK(scene::TakeMujocoWarnings().empty());
}

TEST_CASE("Errors on many threads at once each reach their own caller") {
  constexpr int kThreads = 8;
  std::vector<std::string> messages(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &messages] {
      for (int i = 0; i < 200; ++i) {
        absl::Status s = scene::GuardMujoco("t", [t] { mju_error_i("thread %d", t); });
        messages[t] = std::string(s.message());
        if (messages[t] != "t: thread " + std::to_string(t)) return;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) CHECK(messages[t] == "t: thread " + std::to_string(t));
}

}  // namespace
}  // namespace workerpair::heavy
