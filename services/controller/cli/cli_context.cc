#include "services/controller/cli/cli_context.h"

#include <algorithm>
#include <iostream>

#include "libs/common/error_reason.h"
#include "libs/rpc/logging.h"
#include "libs/rpc/client_channel.h"
#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "services/controller/cli/usage.h"

namespace workerpair::controller::cli {

absl::StatusOr<std::unique_ptr<CliContext>> CliContext::Create(GlobalOptions options) {
  WP_RETURN_IF_ERROR(InitLogging(
      {.level = options.log_level.empty() ? "warn" : options.log_level, .json = options.log_json}));
  const absl::Duration deadline =
      options.deadline > absl::ZeroDuration() ? options.deadline : absl::Seconds(30);
  const ClientSecurityOptions security = options.security;
  auto pool = LightPool::Create(
      options.light_targets,
      [&security](const std::string& address) { return MakeClientChannel(address, security); },
      deadline);
  if (!pool.ok()) return pool.status();
  return std::unique_ptr<CliContext>(new CliContext(std::move(options), *std::move(pool)));
}

CliContext::CliContext(GlobalOptions options, std::unique_ptr<LightPool> light_pool)
    : options_(std::move(options)),
      light_pool_(std::move(light_pool)),
      progress_(std::make_unique<ProgressPrinter>(ProgressPrinter::StyleForStderr(options_.quiet))),
      trace_scope_(NewRequestTrace(options_.request_id)) {}

namespace {
// The payload that marks a UsageError (its value is unused).
constexpr char kUsagePayload[] = "type.workerpair.dev/cli.usage";
}  // namespace

absl::Status CliContext::UsageError(std::string_view problem) {
  absl::Status status = absl::InvalidArgumentError(std::string(problem));
  status.SetPayload(kUsagePayload, absl::Cord("usage"));
  return status;
}

bool CliContext::IsUsageError(const absl::Status& status) {
  return absl::IsInvalidArgument(status) && status.GetPayload(kUsagePayload).has_value();
}

LightClient& CliContext::light(std::string_view workspace) {
  last_server_ = ServerKind::kLight;
  light_workspace_ = std::string(workspace);
  return light_pool_->For(workspace);
}

LightPool& CliContext::light_pool() {
  last_server_ = ServerKind::kLight;
  return *light_pool_;
}

HeavyClient& CliContext::heavy() {
  last_server_ = ServerKind::kHeavy;
  if (!heavy_) {
    HeavyClientOptions heavy_options;
    heavy_options.failover.max_attempts = options_.attempts;
    if (options_.deadline > absl::ZeroDuration()) {
      heavy_options.attempt_deadline = options_.deadline;
      heavy_options.call_deadline = std::min(options_.deadline, heavy_options.call_deadline);
    }
    if (options_.wait > absl::ZeroDuration()) heavy_options.total_deadline = options_.wait;
    if (options_.resolve_interval > absl::ZeroDuration()) {
      heavy_options.resolve_interval = options_.resolve_interval;
    }
    heavy_options.security = options_.security;
    heavy_ = std::make_unique<HeavyClient>(options_.heavy_targets, heavy_options);
  }
  return *heavy_;
}

int CliContext::Fail(const absl::Status& given) {
  if (IsUsageError(given)) return Usage(std::string(given.message()));
  progress_->Finish();
  // A workspace missing on the pod placement picked may live on another (a resized pool).
  const absl::Status status =
      WithServerHint(light_pool_->Explain(given, light_workspace_), last_server_);
  const int code = ExitCodeFor(status);
  if (json()) {
    PrintJson(ErrorJson(status, code));
  } else {
    const std::string_view reason = ErrorReasonName(ReasonOf(status));
    std::cerr << "error: " << absl::StatusCodeToString(status.code())
              << (reason.empty() ? std::string() : StrCat(" (", reason, ")")) << ": "
              << status.message() << "\n";
  }
  return code;
}

int CliContext::Usage(std::string_view problem) {
  progress_->Finish();
  if (json()) {
    PrintJson(ErrorJson(absl::InvalidArgumentError(std::string(problem)), kExitUsage));
  }
  std::cerr << "controller: " << problem << "\n\n";
  if (json()) {
    // The error object is the answer; the help is for a person reading stderr.
    std::cerr << "Run 'controller --help' for the commands.\n";
  } else if (command_.empty()) {
    std::cerr << UsageText();
  } else {
    std::cerr << "usage:\n" << UsageFor(command_) << "\nRun 'controller --help' for more.\n";
  }
  return kExitUsage;
}

}  // namespace workerpair::controller::cli
