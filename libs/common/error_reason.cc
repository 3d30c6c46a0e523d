#include "libs/common/error_reason.h"

#include <array>
#include <string>
#include <utility>

#include "absl/strings/cord.h"

namespace workerpair {
namespace {

// The absl::Status payload key; the value is the reason's name.
constexpr char kPayloadUrl[] = "type.workerpair.dev/ErrorReason";

constexpr std::array<std::pair<ErrorReason, std::string_view>, 12> kNames = {{
    {ErrorReason::kUnspecified, ""},
    {ErrorReason::kReplicaFull, "REPLICA_FULL"},
    {ErrorReason::kUploadsBusy, "UPLOADS_BUSY"},
    {ErrorReason::kReplicaDraining, "REPLICA_DRAINING"},
    {ErrorReason::kReplicaLost, "REPLICA_LOST"},
    {ErrorReason::kPayloadInvalid, "PAYLOAD_INVALID"},
    {ErrorReason::kPayloadLimit, "PAYLOAD_LIMIT"},
    {ErrorReason::kJobMemoryLimit, "JOB_MEMORY_LIMIT"},
    {ErrorReason::kJobTimeLimit, "JOB_TIME_LIMIT"},
    {ErrorReason::kSceneCrashed, "SCENE_CRASHED"},
    {ErrorReason::kSandboxDenied, "SANDBOX_DENIED"},
    {ErrorReason::kRunnerLost, "RUNNER_LOST"},
}};

}  // namespace

std::string_view ErrorReasonName(ErrorReason reason) {
  for (const auto& [value, name] : kNames) {
    if (value == reason) return name;
  }
  return "";
}

std::optional<ErrorReason> ErrorReasonFromName(std::string_view name) {
  if (name.empty()) return std::nullopt;
  for (const auto& [value, known] : kNames) {
    if (known == name) return value;
  }
  return std::nullopt;
}

absl::Status WithReason(absl::Status status, ErrorReason reason) {
  if (status.ok() || reason == ErrorReason::kUnspecified) return status;
  const std::string_view name = ErrorReasonName(reason);
  status.SetPayload(kPayloadUrl, absl::Cord(absl::string_view(name.data(), name.size())));
  return status;
}

ErrorReason ReasonOf(const absl::Status& status) {
  auto payload = status.GetPayload(kPayloadUrl);
  if (!payload.has_value()) return ErrorReason::kUnspecified;
  return ErrorReasonFromName(std::string(*payload)).value_or(ErrorReason::kUnspecified);
}

bool RetryElsewhere(const absl::Status& status) {
  if (status.ok()) return false;
  switch (ReasonOf(status)) {
    case ErrorReason::kReplicaFull:
    case ErrorReason::kUploadsBusy:
    case ErrorReason::kReplicaDraining:
    case ErrorReason::kReplicaLost:
      return true;
    case ErrorReason::kUnspecified:
      return status.code() == absl::StatusCode::kUnavailable;
    default:
      return false;
  }
}

}  // namespace workerpair
