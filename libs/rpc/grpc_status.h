// Conversion of core errors (absl::Status) to gRPC statuses, done once, in the adapters.
//
//   return ToGrpcStatus(files_.Write(request));
#ifndef WORKERPAIR_LIBS_RPC_GRPC_STATUS_H_
#define WORKERPAIR_LIBS_RPC_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "libs/common/status_macros.h"

namespace workerpair {

// Maps code and message one to one: both enums follow google.rpc.Code. A reason attached with
// WithReason (libs/common/error_reason.h) travels as a google.rpc.ErrorInfo in the details.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The reverse, for clients that hand gRPC failures to core code; the ErrorInfo's reason, when
// the server sent one, is attached again.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace workerpair

// In a gRPC handler: evaluates `rexpr` (an absl::StatusOr<T>); returns it as a grpc::Status when
// not OK, else moves the value into `lhs`, which may be a declaration.
#define WP_GRPC_ASSIGN_OR_RETURN(lhs, rexpr) \
  WP_GRPC_ASSIGN_OR_RETURN_IMPL_(WP_STATUS_CONCAT_(wp_grpc_result_, __LINE__), lhs, rexpr)

#define WP_GRPC_ASSIGN_OR_RETURN_IMPL_(result, lhs, rexpr)               \
  auto result = (rexpr);                                                 \
  if (!result.ok()) return ::workerpair::ToGrpcStatus(result.status());  \
  lhs = std::move(result).value()

#endif  // WORKERPAIR_LIBS_RPC_GRPC_STATUS_H_
