// What a compromised runner could send that frame_io's size cap lets through: every such message
// is refused by CheckRunnerMessage before worker-heavy reads any of it.
#include "services/heavy/runner/runner_message_check.h"

#include <string>

#include <catch2/catch.hpp>

#include "workerpair/internal/runner.pb.h"

namespace workerpair::heavy {
namespace {

TEST_CASE("A runner's well-formed messages pass the check", "[runner][protocol]") {
  internal::RunnerMessage message;
  message.mutable_simulate()->mutable_result()->set_outcome(v1::OUTCOME_FAILURE);
  message.mutable_simulate()->mutable_result()->set_fail_reason(v1::FAIL_REASON_TIMEOUT);
  CHECK(CheckRunnerMessage(message).ok());
  internal::RunnerMessage phase;
  phase.set_phase("compiling");
  CHECK(CheckRunnerMessage(phase).ok());
  CHECK(IsKnownRunnerPhase("compiling"));
  CHECK_FALSE(IsKnownRunnerPhase(""));
  CHECK_FALSE(IsKnownRunnerPhase("compiling\n{\"level\":\"error\"}"));
}

TEST_CASE("An enum number no name belongs to is refused wherever it sits", "[runner][protocol]") {
  internal::RunnerMessage message;
  SECTION("a simulate result's fail reason") {
    message.mutable_simulate()->mutable_result()->set_fail_reason(
        static_cast<v1::FailReason>(999));
  }
  SECTION("a verify run's outcome") {
    message.mutable_verify_run()->set_outcome(static_cast<v1::Outcome>(-7));
  }
  const absl::Status status = CheckRunnerMessage(message);
  REQUIRE(absl::IsInvalidArgument(status));
  INFO(status.message());
  CHECK(std::string(status.message()).find(" is no ") != std::string::npos);
}

TEST_CASE("The same bytes parsed from a frame are refused too", "[runner][protocol]") {
  // A frame as a hostile runner would write it: field numbers and values by hand.
  internal::RunnerMessage valid;
  valid.mutable_verify_run()->set_outcome(v1::OUTCOME_SUCCESS);
  std::string bytes = valid.SerializeAsString();
  internal::RunnerMessage parsed;
  REQUIRE(parsed.ParseFromString(bytes));
  CHECK(CheckRunnerMessage(parsed).ok());
  // Unknown field 4000 (varint): a runner of another schema, or garbage that parses.
  bytes.push_back(static_cast<char>((4000 << 3) & 0x7f | 0x80));
  bytes.push_back(static_cast<char>(((4000 << 3) >> 7) & 0x7f | 0x80));
  bytes.push_back(static_cast<char>((4000 << 3) >> 14));
  bytes.push_back(1);
  internal::RunnerMessage with_unknown;
  REQUIRE(with_unknown.ParseFromString(bytes));
  CHECK(absl::IsInvalidArgument(CheckRunnerMessage(with_unknown)));
}

TEST_CASE("Over-long strings are refused", "[runner][protocol]") {
  internal::RunnerMessage message;
  message.mutable_done()->set_message(std::string(70 * 1024, 'x'));
  CHECK(absl::IsInvalidArgument(CheckRunnerMessage(message)));
  RunnerMessageLimits small;
  small.max_string_bytes = 8;
  internal::RunnerMessage reason;
  reason.mutable_done()->set_reason("PAYLOAD_INVALID");
  CHECK(absl::IsInvalidArgument(CheckRunnerMessage(reason, small)));
}

}  // namespace
}  // namespace workerpair::heavy
