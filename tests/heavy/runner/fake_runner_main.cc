// A stand-in for worker-heavy-runner that breaks the runner protocol on purpose, the way a
// runner whose MuJoCo a payload has taken over could: worker-heavy is started with
// --runner_path pointing here. It speaks the protocol's start (settings in, ready out), then
// for each job does what the Simulate options' `camera` names:
//   "unknown_enum"    a result whose fail_reason is a number no FailReason has
//   "unknown_phase"   a phase report that is no phase (a log-injection attempt)
//   "garbage"         a frame whose bytes do not parse
//   "oversized"       a frame header declaring 256 MiB (nothing after it)
//   "frame_then_die"  one valid phase report, then exit
//   anything else     a valid successful result and "done"
#include <unistd.h>

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "services/heavy/runner/frame_io.h"
#include "workerpair/internal/runner.pb.h"

namespace {

using workerpair::heavy::FrameReader;
using workerpair::heavy::WriteFrame;
using workerpair::heavy::WriteRawFrame;
namespace internal = workerpair::internal;
namespace v1 = workerpair::v1;

constexpr int kFd = 3;

void Done() {
  internal::RunnerMessage done;
  done.mutable_done()->set_code(0);
  (void)WriteFrame(kFd, done);
}

void Phase(const std::string& phase) {
  internal::RunnerMessage message;
  message.set_phase(phase);
  (void)WriteFrame(kFd, message);
}

}  // namespace

int main() {
  FrameReader reader(kFd, 1 << 20);
  internal::RunnerSettings settings;
  absl::StatusOr<bool> got = reader.Read(&settings, absl::InfiniteFuture());
  if (!got.ok() || !*got) return 1;
  internal::RunnerMessage ready;
  ready.mutable_ready()->set_pid(::getpid());
  ready.mutable_ready()->set_sandbox("none (a test's fake runner)");
  if (!WriteFrame(kFd, ready).ok()) return 1;
  while (true) {
    internal::JobRequest request;
    got = reader.Read(&request, absl::InfiniteFuture());
    if (!got.ok() || !*got) return 0;
    const std::string mode = request.simulate().options().camera();
    if (mode == "unknown_enum") {
      internal::RunnerMessage message;
      v1::SimulateResult* result = message.mutable_simulate()->mutable_result();
      result->set_outcome(v1::OUTCOME_FAILURE);
      result->set_fail_reason(static_cast<v1::FailReason>(999));
      (void)WriteFrame(kFd, message);
      Done();
    } else if (mode == "unknown_phase") {
      Phase("compiling\n{\"level\":\"info\",\"msg\":\"forged\"}");
      Done();
    } else if (mode == "garbage") {
      const std::string frame = std::string("\x08\x00\x00\x00", 4) + std::string(8, '\xff');
      (void)WriteRawFrame(kFd, frame.data(), frame.size());
      ::pause();
    } else if (mode == "oversized") {
      const std::uint32_t length = 256u << 20;
      char header[4];
      for (int i = 0; i < 4; ++i) header[i] = static_cast<char>((length >> (8 * i)) & 0xff);
      (void)WriteRawFrame(kFd, header, sizeof header);
      ::pause();
    } else if (mode == "scene_twice") {
      // The first scene is what the parent asked for; a second one is not.
      internal::RunnerMessage message;
      message.mutable_shared_scene()->set_declined("a test's fake runner");
      (void)WriteFrame(kFd, message);
      (void)WriteFrame(kFd, message);
      Done();
    } else if (mode == "frame_then_die") {
      Phase("simulating");
      ::_exit(0);
    } else {
      Phase("simulating");
      internal::RunnerMessage message;
      message.mutable_simulate()->mutable_result()->set_outcome(v1::OUTCOME_SUCCESS);
      (void)WriteFrame(kFd, message);
      Done();
    }
  }
}
