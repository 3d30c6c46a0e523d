// The controller's global flags: where the servers are, how to reach them, how to print.
//
// Global flags may appear anywhere on the line (`controller ls WS --json` works); every other
// word, options included, is left in order for the command, which parses its own options with
// CommandArgs. Environment variables (WORKERPAIR_*) fill in first, so the command line wins.
// The parser is ours, not absl's, so a malformed value is a usage error (exit 2) like any other.
//
//   auto parsed = ParseGlobalFlags({argv + 1, argv + argc}, GetEnvironment);
//   if (!parsed.ok()) ...;                     // INVALID_ARGUMENT: print it, exit 2
//   if (parsed->help) ...;                     // --help / -h
//   parsed->options.light, parsed->args        // {"ls", "WS", "--recursive"}
#ifndef WORKERPAIR_SERVICES_CONTROLLER_CLI_GLOBAL_FLAGS_H_
#define WORKERPAIR_SERVICES_CONTROLLER_CLI_GLOBAL_FLAGS_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/rpc/client_channel.h"
#include "services/controller/core/placement.h"

namespace workerpair::controller::cli {

struct GlobalOptions {
  // Print one JSON object (JSON lines for listings) on stdout instead of text.
  bool json = false;
  // No progress on stderr.
  bool quiet = false;
  // worker-light address, host:port: the first of light_targets, for messages.
  std::string light = "127.0.0.1:50051";
  // Every worker-light pod; each workspace lives on the one placement picks
  // (services/controller/core/placement.h). From --light=A[,B...], or from
  // --light_statefulset=NAME --light_replicas=N --light_service=SVC:PORT.
  std::vector<LightTarget> light_targets = {{"127.0.0.1:50051", "127.0.0.1:50051"}};
  // worker-heavy replicas: addresses, or one dns:///name:port target.
  std::vector<std::string> heavy_targets = {"127.0.0.1:50052"};
  // True when --light / --heavy (or WORKERPAIR_LIGHT / WORKERPAIR_HEAVY) was given, rather
  // than the defaults used (`demo` starts servers of its own only when neither was).
  bool light_set = false;
  bool heavy_set = false;
  // TLS, mutual TLS and the bearer token (read from --auth_token_file), for both services.
  ClientSecurityOptions security;
  // Deadline of one worker-light call and of one worker-heavy job attempt on one replica (see
  // `wait` for the whole job); zero: the defaults
  // (30 s for a worker-light call, 10 min for a worker-heavy job attempt).
  absl::Duration deadline = absl::ZeroDuration();
  // Attempts a worker-heavy job may lose to failed replicas (failover), at least 1; attempts
  // refused by a full or draining replica do not count.
  int attempts = 4;
  // The whole wait for one worker-heavy job: queueing for capacity and retries included;
  // zero: the default (30 min).
  absl::Duration wait = absl::ZeroDuration();
  // How often a dns:/// --heavy pool is resolved again; zero: the default (30 s).
  absl::Duration resolve_interval = absl::ZeroDuration();
  // The request id every call of this command carries (x-request-id) and its JSON output
  // names; empty: a new one (--request_id, env WORKERPAIR_REQUEST_ID).
  std::string request_id;
  // The CLI's own log lines on stderr (the job-phase lines at info): level ("": warn; `serve`:
  // its server's default) and JSON lines.
  std::string log_level;
  bool log_json = false;
};

struct ParsedCommandLine {
  GlobalOptions options;
  // The command and its arguments, global flags removed.
  std::vector<std::string> args;
  // --help or -h was given.
  bool help = false;
};

// Looks up an environment variable; nullopt when unset.
using EnvironmentLookup = std::function<std::optional<std::string>(const std::string& name)>;
std::optional<std::string> GetEnvironment(const std::string& name);

// Parses `words` (argv without the program name). INVALID_ARGUMENT naming the flag for a bad
// value or a flag before the command that is not global; NOT_FOUND when the token file cannot
// be read.
absl::StatusOr<ParsedCommandLine> ParseGlobalFlags(const std::vector<std::string>& words,
                                                   const EnvironmentLookup& environment);

// Splits --heavy's value: comma-separated addresses, or one dns:/// target. INVALID_ARGUMENT
// when empty or when a dns:/// target is mixed with others.
absl::StatusOr<std::vector<std::string>> ParseHeavyTargets(const std::string& value);

}  // namespace workerpair::controller::cli

#endif  // WORKERPAIR_SERVICES_CONTROLLER_CLI_GLOBAL_FLAGS_H_
