// LightCallPolicy: the limits every expensive worker-light call runs under (grep, lint,
// topology, bundle, git): a time limit, the client's own deadline and disconnect, and a cap on
// how many such calls one workspace, and the whole service, may run at once.
//
//   WP_GRPC_ASSIGN_OR_RETURN(Workspace ws, store_->Get(request->workspace()));
//   WP_GRPC_ASSIGN_OR_RETURN(ExpensiveCall call, policy_->Admit(context, ws.name, "Grep"));
//   options.budget = &call.budget();           // the core polls it and stops when it runs out
//
// Why: worker-light serves every agent of a pod from one thread pool. Without a time limit a
// costly call runs on after its client has gone; without a per-workspace cap one agent's
// parallel calls hold every thread and the others' Ping times out. Calls over a cap are
// refused at once (RESOURCE_EXHAUSTED, saying which cap) rather than queued on a thread.
#ifndef WORKERPAIR_SERVICES_LIGHT_LIGHT_CALL_POLICY_H_
#define WORKERPAIR_SERVICES_LIGHT_LIGHT_CALL_POLICY_H_

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/common/call_budget.h"
#include "libs/common/concurrency_limiter.h"

namespace workerpair::light {

struct LightCallLimits {
  // Longest an expensive call may run, whatever its client's deadline (--call_time_limit_s).
  absl::Duration time_limit = absl::Seconds(120);
  // Expensive calls at once per workspace (--max_expensive_calls_per_workspace); 0: no cap.
  std::size_t max_per_workspace = 4;
  // Expensive calls at once in all (--max_expensive_calls); 0: no cap. Keep it under
  // --max_rpc_threads so cheap calls (Ping, ReadFile) always find a thread.
  std::size_t max_total = 48;
};

// One admitted call: its concurrency slot (released on destruction) and its budget.
class ExpensiveCall {
 public:
  ExpensiveCall(ConcurrencyLimiter::Permit permit, std::unique_ptr<CallBudget> budget)
      : permit_(std::move(permit)), budget_(std::move(budget)) {}

  const CallBudget& budget() const { return *budget_; }

 private:
  ConcurrencyLimiter::Permit permit_;
  std::unique_ptr<CallBudget> budget_;
};

class LightCallPolicy {
 public:
  explicit LightCallPolicy(LightCallLimits limits);

  // Admits the call `what` on `workspace`: its budget runs out at the client's deadline or the
  // time limit, whichever is first, or when the client cancels or disconnects.
  // RESOURCE_EXHAUSTED when the workspace or the service is at its cap; CANCELLED or
  // DEADLINE_EXCEEDED when the call is already over.
  absl::StatusOr<ExpensiveCall> Admit(grpc::ServerContext* context, std::string_view workspace,
                                      std::string_view what);

  const LightCallLimits& limits() const { return limits_; }

 private:
  LightCallLimits limits_;
  ConcurrencyLimiter limiter_;
};

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_LIGHT_CALL_POLICY_H_
