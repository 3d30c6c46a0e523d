// Command-line and environment configuration shared by every binary.
//
// Flags are absl flags. Each flag FOO may also come from the environment variable
// WORKERPAIR_FOO (upper case); a flag given on the command line wins over the environment, which
// wins over the default. `--help` lists every workerpair flag with its environment variable.
//
//   int main(int argc, char** argv) {
//     std::vector<char*> args = InitProcess(argc, argv, "worker-light: ...");
//     ServerOptions options = ServerOptionsFromFlags();
//     ...
#ifndef WORKERPAIR_LIBS_RPC_PROCESS_FLAGS_H_
#define WORKERPAIR_LIBS_RPC_PROCESS_FLAGS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "libs/rpc/server_credentials.h"

namespace workerpair {

// Settings of a gRPC server process, from the shared flags.
struct ServerOptions {
  // host:port to listen on; port 0 picks a free port (see port_file).
  std::string listen_address = "127.0.0.1:0";
  // When set, the bound port is written here (atomically) once the server accepts calls.
  std::string port_file;
  // Largest gRPC message accepted or sent, in bytes.
  int max_message_bytes = 64 << 20;
  // Most threads the server uses to run calls at once.
  int max_rpc_threads = 64;
  // How long shutdown waits for in-flight calls before cancelling them.
  absl::Duration shutdown_grace = absl::Seconds(10);
  // Name reported in logs.
  std::string service_name;
  // host:port of a plaintext server answering only grpc.health.v1 (for kubelet gRPC probes,
  // which cannot speak TLS); empty disables it.
  std::string health_listen;
  // host:port for the Prometheus /metrics endpoint; empty disables it.
  std::string metrics_listen;
  // TLS, mutual TLS and bearer token.
  ServerSecurityOptions security;
  // Connection liveness and age (ServerRunner applies them as channel arguments):
  // The server pings a connection idle this long, and closes it when the ack takes longer than
  // keepalive_timeout (a client that vanished).
  absl::Duration keepalive_time = absl::Seconds(30);
  absl::Duration keepalive_timeout = absl::Seconds(10);
  // Client pings are accepted this often (also with no call in flight); faster ones count as
  // strikes and end in GOAWAY "too_many_pings". Clients ping every 10 s (security.h).
  absl::Duration min_client_ping_interval = absl::Seconds(5);
  // A connection older than this gets GOAWAY (gRPC adds +-10% jitter) so that clients
  // reconnect and re-resolve dns:/// names; calls in flight may finish within the grace, after
  // which the connection is closed. Zero: no limit.
  absl::Duration max_connection_age = absl::Seconds(300);
  absl::Duration max_connection_age_grace = absl::Seconds(600);
};

// Parses flags (environment first, then command line), handles --help, and initialises
// logging from --log_level/--log_json. Exits with status 2 on a bad flag value. Returns the
// positional arguments (argv[0] first).
std::vector<char*> InitProcess(int argc, char** argv, std::string_view usage);

// Reads the shared server flags.
ServerOptions ServerOptionsFromFlags(std::string service_name);

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_RPC_PROCESS_FLAGS_H_
