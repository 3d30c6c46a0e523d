#include "services/light/light_call_policy.h"

#include "absl/time/clock.h"
#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"

namespace workerpair::light {

LightCallPolicy::LightCallPolicy(LightCallLimits limits)
    : limits_(limits),
      limiter_(ConcurrencyLimits{.max_per_key = limits.max_per_workspace,
                                 .max_total = limits.max_total,
                                 .key_name = "workspace"}) {}

absl::StatusOr<ExpensiveCall> LightCallPolicy::Admit(grpc::ServerContext* context,
                                                     std::string_view workspace,
                                                     std::string_view what) {
  const absl::Time limit_deadline = absl::Now() + limits_.time_limit;
  const auto deadline = context->deadline();
  const absl::Time client_deadline =
      deadline == std::chrono::system_clock::time_point::max() ? absl::InfiniteFuture()
                                                               : absl::FromChrono(deadline);
  const bool client_first = client_deadline < limit_deadline;
  auto budget = std::make_unique<CallBudget>(
      client_first ? client_deadline : limit_deadline,
      [context] { return context->IsCancelled(); },
      client_first ? std::string("the client's deadline")
                   : StrCat("the call time limit of ", absl::ToInt64Seconds(limits_.time_limit),
                            " s, --call_time_limit_s"));
  WP_RETURN_IF_ERROR(budget->Check());
  WP_ASSIGN_OR_RETURN(ConcurrencyLimiter::Permit permit, limiter_.TryAcquire(workspace, what));
  return ExpensiveCall(std::move(permit), std::move(budget));
}

}  // namespace workerpair::light
