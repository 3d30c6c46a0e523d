// `controller serve`: the controller as a gRPC service (ControllerService, controller.proto),
// with the workers' bootstrap (libs/rpc/server_runner.h: health, reflection, TLS/mTLS,
// token, metrics, logs, graceful drain) and the same pools the CLI commands use (--light,
// --heavy and the other global flags, given before `serve`).
//
// TLS has two sides here: the global --tls_ca/--tls_cert/--tls_key/--auth_token_file (env
// WORKERPAIR_TLS_*, WORKERPAIR_AUTH_TOKEN_FILE) are the controller's settings as a CLIENT of
// worker-light and worker-heavy, as for every command; the server's own certificate, client
// CA and token are --serve_tls_cert, --serve_tls_key, --serve_tls_client_ca and
// --serve_auth_token_file (env WORKERPAIR_SERVE_*). Global flags are read anywhere on the
// line, so `serve --tls_cert=...` is the client's certificate too; the server logs whether it
// listens with TLS or in plaintext.
//
//   controller --light=L:50051 --heavy=dns:///worker-heavy:50052 serve --listen=0.0.0.0:50053
#include <iostream>
#include <vector>

#include <spdlog/spdlog.h>

#include "absl/flags/flag.h"
#include "libs/rpc/process_flags.h"
#include "libs/rpc/server_runner.h"
#include "libs/common/str_cat.h"
#include "services/controller/cli/commands.h"
#include "services/controller/cli/exit_codes.h"
#include "libs/common/metrics.h"
#include "services/controller/controller_service.h"
#include "services/controller/controller_service_metrics.h"
#include "services/controller/job_table.h"

ABSL_FLAG(int, max_running_jobs, 8,
          "Jobs the controller runs at once (each holds worker-heavy attempts or a flow); more "
          "wait in its queue (env WORKERPAIR_MAX_RUNNING_JOBS).");
ABSL_FLAG(int, max_queued_jobs, 256,
          "Jobs that may wait in the controller; more are refused with RESOURCE_EXHAUSTED "
          "(env WORKERPAIR_MAX_QUEUED_JOBS).");
ABSL_FLAG(int, max_finished_jobs, 1000,
          "Finished jobs kept for GetJob/ListJobs, oldest dropped first "
          "(env WORKERPAIR_MAX_FINISHED_JOBS).");
ABSL_FLAG(int, job_retention_s, 3600,
          "Seconds a finished job (and its result) is kept (env WORKERPAIR_JOB_RETENTION_S).");
ABSL_FLAG(int, max_job_wait_s, 3600,
          "Seconds a job may wait in the controller's queue when its submit gives no "
          "max_wait_s; then it fails RESOURCE_EXHAUSTED (env WORKERPAIR_MAX_JOB_WAIT_S).");
ABSL_FLAG(std::string, serve_tls_cert, "",
          "PEM certificate chain of the controller's server; enables TLS "
          "(env WORKERPAIR_SERVE_TLS_CERT). Not --tls_cert: that is the client's.");
ABSL_FLAG(std::string, serve_tls_key, "",
          "PEM private key for --serve_tls_cert (env WORKERPAIR_SERVE_TLS_KEY).");
ABSL_FLAG(std::string, serve_tls_client_ca, "",
          "PEM CA that callers' certificates must chain to; enables mutual TLS "
          "(env WORKERPAIR_SERVE_TLS_CLIENT_CA).");
ABSL_FLAG(std::string, serve_auth_token_file, "",
          "File holding the bearer token every call but health must carry; needs TLS "
          "(env WORKERPAIR_SERVE_AUTH_TOKEN_FILE).");

namespace workerpair::controller::cli {

int RunServeCommand(CliContext& context, const Args& args) {
  // absl parses the server flags, as the workers do; argv[0] is the program name.
  std::vector<std::string> words = {"controller serve"};
  // --log_level / --log_json are also global flags (the CLI's own lines), so the global parser
  // took them wherever they stood: they are the server's too.
  if (!context.options().log_level.empty()) words.push_back("--log_level=" + context.options().log_level);
  if (context.options().log_json) words.push_back("--log_json");
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  std::vector<char*> positional = InitProcess(
      static_cast<int>(argv.size() - 1), argv.data(),
      "controller [global flags] serve [server flags]: the controller as a gRPC service "
      "(workerpair.v1.ControllerService)");
  if (positional.size() > 1) {
    return context.Usage(StrCat("serve takes flags only, not '", positional[1], "'"));
  }
  auto positive = [&](int value, const char* flag) -> absl::Status {
    if (value <= 0) return absl::InvalidArgumentError(StrCat("--", flag, " must be positive"));
    return absl::OkStatus();
  };
  for (auto [value, flag] : {std::pair{absl::GetFlag(FLAGS_max_running_jobs), "max_running_jobs"},
                             std::pair{absl::GetFlag(FLAGS_max_queued_jobs), "max_queued_jobs"},
                             std::pair{absl::GetFlag(FLAGS_max_finished_jobs), "max_finished_jobs"},
                             std::pair{absl::GetFlag(FLAGS_job_retention_s), "job_retention_s"},
                             std::pair{absl::GetFlag(FLAGS_max_job_wait_s), "max_job_wait_s"}}) {
    if (absl::Status bad = positive(value, flag); !bad.ok()) return context.Usage(bad);
  }
  JobTableOptions table_options{
      .max_running = static_cast<std::size_t>(absl::GetFlag(FLAGS_max_running_jobs)),
      .max_queued = static_cast<std::size_t>(absl::GetFlag(FLAGS_max_queued_jobs)),
      .max_finished = static_cast<std::size_t>(absl::GetFlag(FLAGS_max_finished_jobs)),
      .retention = absl::Seconds(absl::GetFlag(FLAGS_job_retention_s)),
      .default_max_wait = absl::Seconds(absl::GetFlag(FLAGS_max_job_wait_s))};
  AttachControllerMetrics(MetricsRegistry::Default(), table_options);
  JobTable jobs(std::move(table_options));
  ControllerServiceImpl service(context.light_pool(), context.heavy(), jobs);
  ServerOptions server_options = ServerOptionsFromFlags("controller");
  server_options.security.cert_file = absl::GetFlag(FLAGS_serve_tls_cert);
  server_options.security.key_file = absl::GetFlag(FLAGS_serve_tls_key);
  server_options.security.client_ca_file = absl::GetFlag(FLAGS_serve_tls_client_ca);
  server_options.security.token_file = absl::GetFlag(FLAGS_serve_auth_token_file);
  ServerRunner runner(std::move(server_options));
  runner.AddService(&service, v1::ControllerService::service_full_name());
  if (absl::Status status = runner.Start(); !status.ok()) {
    spdlog::critical("{}", status.ToString());
    return context.Fail(status);
  }
  spdlog::info("controller serving on port {}: {} job(s) at once, queue of {}", runner.port(),
               jobs.options().max_running, jobs.options().max_queued);
  runner.RunUntilSignal([&](absl::Time deadline) {
    // New jobs are refused and queued ones fail as retryable; running ones may finish.
    jobs.Drain();
    if (!jobs.WaitIdle(deadline)) {
      // Their heavy calls are cancelled too, so the replicas' slots free now.
      const std::size_t cancelled = jobs.CancelRunning();
      spdlog::warn("shutdown grace passed with {} job(s) still running: cancelled", cancelled);
      jobs.WaitIdle(absl::Now() + absl::Seconds(5));
    }
  });
  return kExitOk;
}

}  // namespace workerpair::controller::cli
