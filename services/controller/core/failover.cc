#include "services/controller/core/failover.h"

#include <algorithm>
#include <set>

#include "libs/common/error_reason.h"
#include "libs/common/str_cat.h"

namespace workerpair::controller {
namespace {

absl::Duration Doubled(absl::Duration initial, int times, absl::Duration cap) {
  absl::Duration value = initial;
  for (int i = 0; i < times && value < cap; ++i) value *= 2;
  return std::min(value, cap);
}

double Fraction(std::mt19937_64& random) {
  return std::uniform_real_distribution<double>(0.0, 1.0)(random);
}

std::string LoadText(const PoolLoad& load) {
  if (load.reporting == 0) return StrCat(load.replicas, " replica(s), none reporting its load");
  return StrCat(load.running, "/", load.slots, " slots busy, ", load.queued, " queued");
}

}  // namespace

absl::Duration BackoffAfterLost(int lost, const FailoverPolicy& policy, std::mt19937_64& random) {
  if (lost < 1) return absl::ZeroDuration();
  return Doubled(policy.initial_backoff, lost - 1, policy.max_backoff) * Fraction(random);
}

absl::Duration CapacityBackoff(int waits, const FailoverPolicy& policy, std::mt19937_64& random) {
  if (waits < 1) return absl::ZeroDuration();
  const absl::Duration cap =
      Doubled(policy.capacity_initial_backoff, waits - 1, policy.capacity_max_backoff);
  // Never near zero: a full pool stays full for a while, and hammering it helps nobody.
  return cap / 2 + (cap / 2) * Fraction(random);
}

FailureKind ClassifyFailure(const absl::Status& status) {
  if (!RetryElsewhere(status)) return FailureKind::kPayload;
  switch (ReasonOf(status)) {
    case ErrorReason::kReplicaFull:
    case ErrorReason::kUploadsBusy:
      return FailureKind::kFull;
    case ErrorReason::kReplicaDraining:
      return FailureKind::kDraining;
    default:
      return FailureKind::kLost;
  }
}

absl::Status RunAttempts(Router& router, const FailoverPolicy& policy, absl::Time total_deadline,
                         absl::Duration attempt_limit,
                         const std::function<absl::Status(const AttemptContext&)>& attempt_fn,
                         const FailoverHooks& hooks, std::string& replica, int& attempts) {
  const auto now = hooks.now ? hooks.now : [] { return absl::Now(); };
  const auto sleep = hooks.sleep ? hooks.sleep : [](absl::Duration d) { absl::SleepFor(d); };
  std::mt19937_64 random(std::random_device{}());
  // Replicas that said "full" or "draining" since the last wait: not asked again until then.
  std::set<std::string> refused;
  int attempt = 0;
  int lost = 0;
  int waits = 0;
  std::string lost_replicas;
  absl::Status last_lost;
  absl::Status last_refusal;
  absl::Status previous;
  const absl::Time started = now();
  for (;;) {
    if (hooks.should_stop) {
      if (absl::Status stop = hooks.should_stop(); !stop.ok()) return stop;
    }
    const absl::Time before = now();
    if (before >= total_deadline) {
      if (!last_refusal.ok()) {
        return WithReason(
            absl::ResourceExhaustedError(StrCat(
                "every worker-heavy replica stayed full for the job's whole wait (",
                absl::FormatDuration(absl::Trunc(before - started, absl::Seconds(1))), ", ",
                LoadText(router.Load()), "); the job did not run. Wait longer or add replicas; "
                "last refusal: ", std::string(last_refusal.message()))),
            ReasonOf(last_refusal));
      }
      return absl::DeadlineExceededError(StrCat(
          "the job's total wait (", absl::FormatDuration(total_deadline - started),
          ") passed after ", attempt, " attempt(s)",
          last_lost.ok() ? "" : StrCat("; last error: ", std::string(last_lost.message()))));
    }
    std::optional<std::string> picked =
        router.Pick(refused, hooks.preferred ? hooks.preferred() : std::string());
    if (!picked) {
      if (router.replicas().empty()) {
        return absl::UnavailableError("the worker-heavy pool has no replica (nothing resolved)");
      }
      ++waits;
      const absl::Duration wait =
          std::min(CapacityBackoff(waits, policy, random), total_deadline - before);
      if (hooks.on_capacity_wait) hooks.on_capacity_wait({router.Load(), wait, waits});
      sleep(wait);
      refused.clear();
      continue;
    }
    ++attempt;
    const AttemptContext context{*picked, attempt, std::min(before + attempt_limit, total_deadline),
                                 previous};
    absl::Status status = attempt_fn(context);
    previous = status;
    if (status.ok()) {
      router.AttemptEnded(*picked, AttemptOutcome::kSucceeded);
      replica = *picked;
      attempts = attempt;
      return absl::OkStatus();
    }
    switch (ClassifyFailure(status)) {
      case FailureKind::kPayload:
        // The replica answered: it is healthy, the payload (or the caller's deadline) is not.
        router.AttemptEnded(*picked, AttemptOutcome::kSucceeded);
        return status;
      case FailureKind::kFull:
        router.AttemptEnded(*picked, AttemptOutcome::kFull);
        refused.insert(*picked);
        last_refusal = status;
        break;
      case FailureKind::kDraining:
        router.AttemptEnded(*picked, AttemptOutcome::kDraining);
        refused.insert(*picked);
        last_refusal = status;
        break;
      case FailureKind::kLost: {
        router.AttemptEnded(*picked, AttemptOutcome::kLost);
        ++lost;
        last_lost = status;
        lost_replicas += StrCat(lost_replicas.empty() ? "" : ", ", *picked);
        if (lost >= policy.max_attempts) {
          return WithReason(
              absl::UnavailableError(StrCat(
                  "no worker-heavy replica could run the job: ", lost,
                  " attempt(s) lost (", lost_replicas,
                  "); last error: ", std::string(status.message()))),
              ErrorReason::kReplicaLost);
        }
        waits = 0;
        sleep(std::min(BackoffAfterLost(lost, policy, random),
                       std::max(absl::ZeroDuration(), total_deadline - now())));
        break;
      }
    }
  }
}

}  // namespace workerpair::controller
