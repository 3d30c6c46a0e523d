// A worker-heavy started for one test, and small clients for its calls, shared by the runner
// tests (hostile payloads, faults).
#ifndef WORKERPAIR_TESTS_HEAVY_RUNNER_HEAVY_TEST_CLIENT_H_
#define WORKERPAIR_TESTS_HEAVY_RUNNER_HEAVY_TEST_CLIENT_H_

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "libs/common/error_reason.h"
#include "libs/rpc/server_process.h"
#include "workerpair/v1/heavy.grpc.pb.h"

namespace workerpair::heavy::testing {

struct Payload {
  std::string archive;
  std::string sha256;
};

// Packs a directory (manifest.json at its root).
Payload PackDir(const std::filesystem::path& dir);
// One of examples/scenes.
Payload PackExample(const std::string& name);
// Writes `files` (relative path -> content) under `dir`, then packs it.
Payload PackFiles(const std::filesystem::path& dir, const std::map<std::string, std::string>& files);
// An MJCF scene with `asset` and `body` inserted, and a manifest that does not render.
Payload PackScene(const std::filesystem::path& dir, const std::string& mjcf,
                  std::map<std::string, std::string> extra_files = {},
                  const std::string& manifest_extra = "");
// A scene that runs long (120 s at 0.1 ms steps) and never succeeds.
Payload SlowScene(const std::filesystem::path& dir);

// The end of a call: its status and reason, and the events it streamed.
struct CallResult {
  grpc::Status status;
  ErrorReason reason = ErrorReason::kUnspecified;
  std::vector<v1::SimulateResponse> events;  // Simulate's
  std::string streamed;                   // every event or response, serialised
  std::string AllText() const { return status.error_message() + streamed; }  // leak checks
};

// A worker-heavy with its own scratch base (and whatever flags the test gives).
class Heavy {
 public:
  explicit Heavy(std::vector<std::string> args = {});
  std::filesystem::path scratch() const { return temp_.path() / "scratch"; }
  const std::filesystem::path& temp() const { return temp_.path(); }
  v1::HeavyService::Stub* stub() { return stub_.get(); }
  ServerProcess& process() { return *process_; }

  v1::InfoResponse Info();
  bool Serving();
  // Simulate without rendering (unless `options` say otherwise), to the end.
  CallResult Simulate(const Payload& payload, v1::SimulateOptions options = NoRender(),
                      absl::Duration deadline = absl::Seconds(120));
  CallResult BuildScene(const Payload& payload);
  CallResult RenderViews(const Payload& payload);
  // Pids of this server's runner processes by slot (from their --dir).
  std::map<int, pid_t> RunnerPids();

  static v1::SimulateOptions NoRender();

 private:
  TempDir temp_;
  std::unique_ptr<ServerProcess> process_;
  std::unique_ptr<v1::HeavyService::Stub> stub_;
};

// Polls `condition` every 20 ms until it holds or `timeout` passes.
bool Eventually(const std::function<bool()>& condition, absl::Duration timeout = absl::Seconds(15));

}  // namespace workerpair::heavy::testing

#endif  // WORKERPAIR_TESTS_HEAVY_RUNNER_HEAVY_TEST_CLIENT_H_
