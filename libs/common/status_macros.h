// Status propagation macros.
//
// Our abseil (20220623) has no RETURN_IF_ERROR / ASSIGN_OR_RETURN, so we keep these two.
//
//   WP_RETURN_IF_ERROR(WriteAll(fd, bytes));
//   WP_ASSIGN_OR_RETURN(std::filesystem::path p, ConfinePath(root, client_path));
#ifndef WORKERPAIR_LIBS_COMMON_STATUS_MACROS_H_
#define WORKERPAIR_LIBS_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define WP_STATUS_CONCAT_INNER_(a, b) a##b
#define WP_STATUS_CONCAT_(a, b) WP_STATUS_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define WP_RETURN_IF_ERROR(expr)                       \
  do {                                                 \
    ::absl::Status wp_status_ = (expr);                \
    if (!wp_status_.ok()) return wp_status_;           \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); returns its status when not OK, else moves the
// value into `lhs`, which may be a declaration.
#define WP_ASSIGN_OR_RETURN(lhs, rexpr) \
  WP_ASSIGN_OR_RETURN_IMPL_(WP_STATUS_CONCAT_(wp_statusor_, __LINE__), lhs, rexpr)

#define WP_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                              \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // WORKERPAIR_LIBS_COMMON_STATUS_MACROS_H_
