// CliContext: what every `controller` command gets: the global flags, the clients (built on
// first use, so `controller info` never dials worker-light), the progress printer, and the
// one way to end with an error.
//
//   int RunPing(CliContext& context, const std::vector<std::string>& args) {
//     if (args.size() != 1) return context.Usage("ping takes no arguments");
//     absl::Status status = context.light(ws).Ping();
//     if (!status.ok()) return context.Fail(status);   // prints, returns 3, 6, ...
//     if (context.json()) PrintJson({{"ok", true}}); else std::cout << "answers\n";
//     return kExitOk;
//   }
#ifndef WORKERPAIR_SERVICES_CONTROLLER_CLI_CLI_CONTEXT_H_
#define WORKERPAIR_SERVICES_CONTROLLER_CLI_CLI_CONTEXT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "libs/common/request_trace.h"
#include "services/controller/cli/error_hints.h"
#include "services/controller/cli/exit_codes.h"
#include "services/controller/cli/global_flags.h"
#include "services/controller/cli/output.h"
#include "services/controller/cli/progress_printer.h"
#include "services/controller/heavy_client.h"
#include "services/controller/light_client.h"
#include "services/controller/light_pool.h"

namespace workerpair::controller::cli {

class CliContext {
 public:
  // Checks the security options by making worker-light's channel (it reads the TLS files;
  // nothing is dialled yet). INVALID_ARGUMENT or NOT_FOUND naming the file when they are
  // unusable.
  static absl::StatusOr<std::unique_ptr<CliContext>> Create(GlobalOptions options);

  const GlobalOptions& options() const { return options_; }
  bool json() const { return options_.json; }

  // Built on first use with --deadline_s (default 30 s per call).
  // The client of the worker-light pod that holds `workspace` (placement over --light's pods);
  // remembered, so that Fail() can explain a NOT_FOUND for a workspace on another pod.
  LightClient& light(std::string_view workspace);
  // Every worker-light pod (for ping, ws list, ws move).
  LightPool& light_pool();
  // Built on first use over --heavy with --attempts, --deadline_s (default 10 min per job
  // attempt), --wait_s (default 30 min per job, waits and retries included),
  // --resolve_interval_s and the same security as worker-light.
  HeavyClient& heavy();
  ProgressPrinter& progress() { return *progress_; }
  // This command's request trace: every call it makes carries it (x-request-id, traceparent),
  // and its JSON output names the request id.
  const RequestTrace& trace() const { return trace_scope_.trace(); }

  // The command being run ("ls", "git"), so Usage() can show its synopsis.
  void set_command(std::string command) { command_ = std::move(command); }
  const std::string& command() const { return command_; }

  // Prints `status` (stderr "error: CODE: message", or the error JSON on stdout with --json)
  // and returns its exit code (ExitCodeFor). An unreachable server or a port that serves
  // another service gets a hint naming the flag and variable of the server last used
  // (WithServerHint). A UsageError() is handed to Usage() instead (exit 2).
  int Fail(const absl::Status& status);
  // A bad command line found by a helper that returns a status (e.g. LoadPayload's "give one
  // scene"): INVALID_ARGUMENT marked so that Fail() reports it as a usage error.
  static absl::Status UsageError(std::string_view problem);
  static bool IsUsageError(const absl::Status& status);
  // The server the command talked to last (light(), light_pool() or heavy()), for hints.
  ServerKind last_server() const { return last_server_; }
  // Prints `problem` and the current command's synopsis (the whole usage without a command)
  // and returns kExitUsage. With --json the problem is also an error object on stdout.
  int Usage(std::string_view problem);
  // The same for a parse error (CommandArgs, a number option): its message is the problem.
  int Usage(const absl::Status& problem) { return Usage(std::string(problem.message())); }

 private:
  CliContext(GlobalOptions options, std::unique_ptr<LightPool> light_pool);

  GlobalOptions options_;
  std::unique_ptr<LightPool> light_pool_;
  std::string light_workspace_;
  std::unique_ptr<HeavyClient> heavy_;
  std::unique_ptr<ProgressPrinter> progress_;
  std::string command_;
  ServerKind last_server_ = ServerKind::kNone;
  // The main thread's current trace for the command's lifetime.
  ScopedRequestTrace trace_scope_;
};

}  // namespace workerpair::controller::cli

#endif  // WORKERPAIR_SERVICES_CONTROLLER_CLI_CLI_CONTEXT_H_
