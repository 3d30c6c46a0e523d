#include "libs/rpc/grpc_status.h"

#include <string>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "libs/common/error_reason.h"

namespace workerpair {
namespace {

constexpr char kErrorInfoType[] = "type.googleapis.com/google.rpc.ErrorInfo";
constexpr char kRetryInfoType[] = "type.googleapis.com/google.rpc.RetryInfo";

// google.rpc.Status with an ErrorInfo (and, for a full replica, a RetryInfo), serialised for
// the grpc-status-details-bin trailer.
std::string EncodeDetails(const absl::Status& status, ErrorReason reason) {
  google::rpc::Status details;
  details.set_code(static_cast<int>(status.code()));
  details.set_message(std::string(status.message()));
  google::rpc::ErrorInfo info;
  const std::string_view name = ErrorReasonName(reason);
  info.set_reason(std::string(name));
  info.set_domain(std::string(kErrorDomain));
  (*info.mutable_metadata())["retry"] = RetryElsewhere(status) ? "elsewhere" : "never";
  google::protobuf::Any* any = details.add_details();
  any->set_type_url(kErrorInfoType);
  any->set_value(info.SerializeAsString());
  if (reason == ErrorReason::kReplicaFull || reason == ErrorReason::kUploadsBusy) {
    google::rpc::RetryInfo retry;
    retry.mutable_retry_delay()->set_nanos(200'000'000);
    google::protobuf::Any* retry_any = details.add_details();
    retry_any->set_type_url(kRetryInfoType);
    retry_any->set_value(retry.SerializeAsString());
  }
  return details.SerializeAsString();
}

// The workerpair reason in a grpc-status-details-bin value, kUnspecified when none.
ErrorReason DecodeReason(const std::string& serialized) {
  google::rpc::Status details;
  if (serialized.empty() || !details.ParseFromString(serialized)) return ErrorReason::kUnspecified;
  for (const google::protobuf::Any& any : details.details()) {
    if (any.type_url() != kErrorInfoType) continue;
    google::rpc::ErrorInfo info;
    if (!info.ParseFromString(any.value()) || info.domain() != kErrorDomain) continue;
    return ErrorReasonFromName(info.reason()).value_or(ErrorReason::kUnspecified);
  }
  return ErrorReason::kUnspecified;
}

}  // namespace

// The cast below is valid only while the two enums agree value for value.
static_assert(static_cast<int>(absl::StatusCode::kOk) == grpc::StatusCode::OK);
static_assert(static_cast<int>(absl::StatusCode::kCancelled) == grpc::StatusCode::CANCELLED);
static_assert(static_cast<int>(absl::StatusCode::kUnknown) == grpc::StatusCode::UNKNOWN);
static_assert(static_cast<int>(absl::StatusCode::kInvalidArgument) ==
              grpc::StatusCode::INVALID_ARGUMENT);
static_assert(static_cast<int>(absl::StatusCode::kDeadlineExceeded) ==
              grpc::StatusCode::DEADLINE_EXCEEDED);
static_assert(static_cast<int>(absl::StatusCode::kNotFound) == grpc::StatusCode::NOT_FOUND);
static_assert(static_cast<int>(absl::StatusCode::kAlreadyExists) ==
              grpc::StatusCode::ALREADY_EXISTS);
static_assert(static_cast<int>(absl::StatusCode::kPermissionDenied) ==
              grpc::StatusCode::PERMISSION_DENIED);
static_assert(static_cast<int>(absl::StatusCode::kResourceExhausted) ==
              grpc::StatusCode::RESOURCE_EXHAUSTED);
static_assert(static_cast<int>(absl::StatusCode::kFailedPrecondition) ==
              grpc::StatusCode::FAILED_PRECONDITION);
static_assert(static_cast<int>(absl::StatusCode::kAborted) == grpc::StatusCode::ABORTED);
static_assert(static_cast<int>(absl::StatusCode::kOutOfRange) == grpc::StatusCode::OUT_OF_RANGE);
static_assert(static_cast<int>(absl::StatusCode::kUnimplemented) ==
              grpc::StatusCode::UNIMPLEMENTED);
static_assert(static_cast<int>(absl::StatusCode::kInternal) == grpc::StatusCode::INTERNAL);
static_assert(static_cast<int>(absl::StatusCode::kUnavailable) == grpc::StatusCode::UNAVAILABLE);
static_assert(static_cast<int>(absl::StatusCode::kDataLoss) == grpc::StatusCode::DATA_LOSS);
static_assert(static_cast<int>(absl::StatusCode::kUnauthenticated) ==
              grpc::StatusCode::UNAUTHENTICATED);

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const ErrorReason reason = ReasonOf(status);
  if (reason == ErrorReason::kUnspecified) {
    return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                        std::string(status.message()));
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()),
                      EncodeDetails(status, reason));
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return WithReason(
      absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message()),
      DecodeReason(status.error_details()));
}

}  // namespace workerpair
