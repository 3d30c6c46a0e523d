// The error reason survives the trip core -> gRPC status -> client, and the retry rule.
#include <catch2/catch.hpp>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "libs/common/error_reason.h"
#include "libs/rpc/grpc_status.h"

namespace workerpair {
namespace {

TEST_CASE("A reason crosses ToGrpcStatus and FromGrpcStatus unchanged") {
  const absl::Status core =
      WithReason(absl::ResourceExhaustedError("all 2 slots busy"), ErrorReason::kReplicaFull);
  const grpc::Status wire = ToGrpcStatus(core);
  CHECK(wire.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(wire.error_message() == "all 2 slots busy");
  const absl::Status back = FromGrpcStatus(wire);
  CHECK(back.code() == absl::StatusCode::kResourceExhausted);
  CHECK(ReasonOf(back) == ErrorReason::kReplicaFull);
  CHECK(RetryElsewhere(back));
}

TEST_CASE("The details are a standard google.rpc.Status with an ErrorInfo") {
  const grpc::Status wire = ToGrpcStatus(
      WithReason(absl::ResourceExhaustedError("njmax 9000 over the cap 5000"),
                 ErrorReason::kPayloadLimit));
  google::rpc::Status details;
  REQUIRE(details.ParseFromString(wire.error_details()));
  CHECK(details.code() == static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED));
  REQUIRE(details.details_size() == 1);
  CHECK(details.details(0).type_url() == "type.googleapis.com/google.rpc.ErrorInfo");
  google::rpc::ErrorInfo info;
  REQUIRE(info.ParseFromString(details.details(0).value()));
  CHECK(info.reason() == "PAYLOAD_LIMIT");
  CHECK(info.domain() == "workerpair.dev");
  CHECK(info.metadata().at("retry") == "never");
}

TEST_CASE("A status without a reason has no details") {
  const grpc::Status wire = ToGrpcStatus(absl::NotFoundError("no such file"));
  CHECK(wire.error_details().empty());
  CHECK(ReasonOf(FromGrpcStatus(wire)) == ErrorReason::kUnspecified);
}

TEST_CASE("The retry rule: the replica's failures move, the payload's never do") {
  CHECK(RetryElsewhere(WithReason(absl::ResourceExhaustedError("x"), ErrorReason::kUploadsBusy)));
  CHECK(RetryElsewhere(WithReason(absl::UnavailableError("x"), ErrorReason::kReplicaDraining)));
  CHECK(RetryElsewhere(absl::UnavailableError("connection refused")));
  CHECK_FALSE(RetryElsewhere(absl::ResourceExhaustedError("message larger than max")));
  CHECK_FALSE(RetryElsewhere(WithReason(absl::UnavailableError("x"), ErrorReason::kSceneCrashed)));
  CHECK_FALSE(
      RetryElsewhere(WithReason(absl::ResourceExhaustedError("x"), ErrorReason::kJobMemoryLimit)));
  CHECK_FALSE(RetryElsewhere(WithReason(absl::AbortedError("x"), ErrorReason::kRunnerLost)));
  CHECK_FALSE(RetryElsewhere(absl::OkStatus()));
}

TEST_CASE("Every reason has a name that maps back to it") {
  for (int i = 1; i <= static_cast<int>(ErrorReason::kRunnerLost); ++i) {
    const auto reason = static_cast<ErrorReason>(i);
    const std::string_view name = ErrorReasonName(reason);
    CHECK_FALSE(name.empty());
    CHECK(ErrorReasonFromName(name) == reason);
  }
  CHECK_FALSE(ErrorReasonFromName("NOT_A_REASON").has_value());
}

}  // namespace
}  // namespace workerpair
