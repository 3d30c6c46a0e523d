#include "libs/rpc/process_flags.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "libs/common/str_cat.h"
#include "libs/rpc/logging.h"
#include "libs/common/parse_flags.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0",
          "Address to listen on, host:port (env WORKERPAIR_LISTEN). Port 0 picks a free port.");
ABSL_FLAG(std::string, port_file, "",
          "If set, write the bound port to this file once serving (env WORKERPAIR_PORT_FILE).");
ABSL_FLAG(int, max_message_mb, 64,
          "Largest gRPC message accepted or sent, in MiB (env WORKERPAIR_MAX_MESSAGE_MB).");
ABSL_FLAG(int, max_rpc_threads, 64,
          "Most threads serving calls at once (env WORKERPAIR_MAX_RPC_THREADS).");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "On SIGINT/SIGTERM, how long in-flight calls may run before they are cancelled, "
          "e.g. 10s (env WORKERPAIR_SHUTDOWN_GRACE).");
ABSL_FLAG(std::string, health_listen, "",
          "host:port of a plaintext port serving only grpc.health.v1, for Kubernetes gRPC "
          "probes when the main port uses TLS; empty disables (env WORKERPAIR_HEALTH_LISTEN).");
ABSL_FLAG(std::string, metrics_listen, "",
          "host:port serving Prometheus metrics at /metrics; empty disables "
          "(env WORKERPAIR_METRICS_LISTEN).");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain; enables TLS (env WORKERPAIR_TLS_CERT).");
ABSL_FLAG(std::string, tls_key, "", "PEM private key for --tls_cert (env WORKERPAIR_TLS_KEY).");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA that client certificates must chain to; enables mutual TLS "
          "(env WORKERPAIR_TLS_CLIENT_CA).");
ABSL_FLAG(std::string, auth_token_file, "",
          "File holding a bearer token every call but health must carry; needs TLS "
          "(env WORKERPAIR_AUTH_TOKEN_FILE).");
ABSL_FLAG(int, keepalive_time_s, 30,
          "The server pings a client connection idle this long, seconds "
          "(env WORKERPAIR_KEEPALIVE_TIME_S).");
ABSL_FLAG(int, keepalive_timeout_s, 10,
          "A connection whose ping is not acknowledged within this many seconds is closed "
          "(env WORKERPAIR_KEEPALIVE_TIMEOUT_S).");
ABSL_FLAG(int, min_client_ping_interval_s, 5,
          "Client keepalive pings are accepted this often, calls in flight or not; faster ones "
          "get GOAWAY too_many_pings. Keep it below the clients' keepalive time (10 s) "
          "(env WORKERPAIR_MIN_CLIENT_PING_INTERVAL_S).");
ABSL_FLAG(int, max_connection_age_s, 300,
          "Connections older than this get GOAWAY (+-10% jitter), so clients reconnect and "
          "re-resolve dns:/// names and new replicas get work; 0: no limit "
          "(env WORKERPAIR_MAX_CONNECTION_AGE_S).");
ABSL_FLAG(int, max_connection_age_grace_s, 600,
          "After GOAWAY for age, calls in flight may run this long before the connection is "
          "closed; keep it above the longest job, queueing included "
          "(env WORKERPAIR_MAX_CONNECTION_AGE_GRACE_S).");
ABSL_FLAG(std::string, log_level, "info",
          "trace, debug, info, warn, error, critical or off (env WORKERPAIR_LOG_LEVEL).");
ABSL_FLAG(bool, log_json, false, "Log one JSON object per line (env WORKERPAIR_LOG_JSON).");

namespace workerpair {
namespace {

// Our flags are the ones defined in this repository's sources, not abseil's or gRPC's own.
bool IsWorkerpairFlagFile(absl::string_view file) {
  return absl::StrContains(file, "libs/common/") || absl::StrContains(file, "services/");
}

std::string EnvName(absl::string_view flag_name) {
  std::string name = "WORKERPAIR_";
  for (char c : flag_name) name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

// Applies WORKERPAIR_* variables as the new defaults, before the command line is parsed.
void ApplyEnvironment() {
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!IsWorkerpairFlagFile(flag->Filename())) continue;
    const std::string env_name = EnvName(name);
    const char* value = std::getenv(env_name.c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      std::fprintf(stderr, "bad value for %s: %s\n", env_name.c_str(), error.c_str());
      std::exit(2);
    }
  }
}

}  // namespace

std::vector<char*> InitProcess(int argc, char** argv, std::string_view usage) {
  absl::FlagsUsageConfig config;
  config.contains_help_flags = IsWorkerpairFlagFile;
  config.contains_helpshort_flags = IsWorkerpairFlagFile;
  absl::SetFlagsUsageConfig(config);
  absl::SetProgramUsageMessage(std::string(usage));
  ApplyEnvironment();
  std::vector<char*> positional = ParseFlagsHelpOk(argc, argv);  // --help exits 0

  LoggingOptions logging;
  logging.level = absl::GetFlag(FLAGS_log_level);
  logging.json = absl::GetFlag(FLAGS_log_json);
  if (absl::Status status = InitLogging(logging); !status.ok()) {
    std::fprintf(stderr, "%s\n", std::string(status.message()).c_str());
    std::exit(2);
  }
  return positional;
}

ServerOptions ServerOptionsFromFlags(std::string service_name) {
  ServerOptions options;
  options.listen_address = absl::GetFlag(FLAGS_listen);
  options.port_file = absl::GetFlag(FLAGS_port_file);
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_mb) << 20;
  options.max_rpc_threads = absl::GetFlag(FLAGS_max_rpc_threads);
  options.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  options.service_name = std::move(service_name);
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  options.health_listen = absl::GetFlag(FLAGS_health_listen);
  options.security.cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.security.key_file = absl::GetFlag(FLAGS_tls_key);
  options.security.client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  options.security.token_file = absl::GetFlag(FLAGS_auth_token_file);
  const auto seconds = [](int value) { return absl::Seconds(std::max(0, value)); };
  options.keepalive_time = seconds(absl::GetFlag(FLAGS_keepalive_time_s));
  options.keepalive_timeout = seconds(absl::GetFlag(FLAGS_keepalive_timeout_s));
  options.min_client_ping_interval = seconds(absl::GetFlag(FLAGS_min_client_ping_interval_s));
  options.max_connection_age = seconds(absl::GetFlag(FLAGS_max_connection_age_s));
  options.max_connection_age_grace = seconds(absl::GetFlag(FLAGS_max_connection_age_grace_s));
  return options;
}

}  // namespace workerpair
