// worker-heavy against a runner that breaks the protocol (tests/heavy/runner/fake_runner_main.cc
// via --runner_path): each bad frame ends its own job with a clear error, the replica stays
// SERVING, and the other jobs finish.
#include <catch2/catch.hpp>
#include <future>
#include <string>
#include <vector>

#include "libs/common/str_cat.h"
#include "tests/heavy/runner/heavy_test_client.h"

namespace workerpair::heavy::testing {
namespace {

v1::SimulateOptions Mode(const std::string& mode) {
  v1::SimulateOptions options = Heavy::NoRender();
  options.set_camera(mode);
  return options;
}

TEST_CASE("A runner's bad frames end only its own job, and the replica stays serving",
          "[runner][protocol]") {
  Heavy heavy({"--slots=3", StrCat("--runner_path=", WORKERPAIR_FAKE_RUNNER)});
  REQUIRE(Eventually([&] { return heavy.Serving(); }, absl::Seconds(60)));
  const Payload payload = PackExample("ramp_goal");
  struct Case {
    std::string mode;
    grpc::StatusCode code;
    ErrorReason reason;
    std::string words;
  };
  const std::vector<Case> cases = {
      {"unknown_enum", grpc::StatusCode::ABORTED, ErrorReason::kRunnerLost, "is no FailReason"},
      {"unknown_phase", grpc::StatusCode::ABORTED, ErrorReason::kRunnerLost, "unknown phase"},
      {"garbage", grpc::StatusCode::ABORTED, ErrorReason::kRunnerLost, "broke the protocol"},
      {"oversized", grpc::StatusCode::ABORTED, ErrorReason::kRunnerLost, "broke the protocol"},
      {"scene_twice", grpc::StatusCode::ABORTED, ErrorReason::kRunnerLost, "not asked for"},
      {"frame_then_die", grpc::StatusCode::INVALID_ARGUMENT, ErrorReason::kSceneCrashed,
       "while simulating"},
  };
  // A good job beside every bad one: all sent at once, three slots.
  std::vector<std::future<CallResult>> bad;
  std::vector<std::future<CallResult>> good;
  for (const Case& c : cases) {
    bad.push_back(std::async(std::launch::async, [&heavy, &payload, mode = c.mode] {
      return heavy.Simulate(payload, Mode(mode), absl::Seconds(60));
    }));
    good.push_back(std::async(std::launch::async, [&heavy, &payload] {
      return heavy.Simulate(payload, Mode("ok"), absl::Seconds(60));
    }));
  }
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const CallResult call = bad[i].get();
    INFO(cases[i].mode << ": " << call.status.error_message());
    CHECK(call.status.error_code() == cases[i].code);
    CHECK(call.reason == cases[i].reason);
    CHECK(call.status.error_message().find(cases[i].words) != std::string::npos);
    CHECK(call.AllText().find("forged") == std::string::npos);
  }
  for (std::future<CallResult>& call : good) {
    const CallResult result = call.get();
    INFO(result.status.error_message());
    CHECK(result.status.ok());
  }
  CHECK(heavy.process().running());
  CHECK(heavy.Serving());
  CHECK(Eventually([&] { return heavy.Info().runners_alive() == 3; }));
  CHECK(heavy.Simulate(payload, Mode("ok")).status.ok());
}

}  // namespace
}  // namespace workerpair::heavy::testing
