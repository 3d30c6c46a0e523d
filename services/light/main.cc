// worker-light: agent workspaces over gRPC: files, git, lint, topology and bundle.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/marshalling.h"
#include "libs/rpc/process_flags.h"
#include "libs/rpc/server_runner.h"
#include "libs/sandbox/sandbox.h"
#include "services/light/core/files/workspace_files.h"
#include "services/light/core/files/workspace_store.h"
#include "services/light/core/lint/linter.h"
#include "services/light/light_files_service.h"
#include "services/light/light_git_service.h"
#include "services/light/light_bundle_service.h"
#include "services/light/light_call_policy.h"
#include "services/light/light_lint_service.h"
#include "services/light/core/topology/topology_analyzer.h"
#include "services/light/light_topology_service.h"
#include "services/light/workspace_metrics.h"

ABSL_FLAG(std::string, root, "/var/lib/workerpair/workspaces",
          "Directory holding the workspaces, created if missing (env WORKERPAIR_ROOT).");
ABSL_FLAG(int, max_read_mb, 16,
          "Largest content one read returns, in MiB (env WORKERPAIR_MAX_READ_MB).");
ABSL_FLAG(int, max_write_mb, 32,
          "Largest file a write, edit or upload may produce, in MiB (env WORKERPAIR_MAX_WRITE_MB).");
ABSL_FLAG(int, max_upload_mb, 256,
          "Largest total of one upload stream, in MiB (env WORKERPAIR_MAX_UPLOAD_MB).");
ABSL_FLAG(int, max_list_entries, 10000,
          "Most entries one list returns (env WORKERPAIR_MAX_LIST_ENTRIES).");
ABSL_FLAG(std::vector<std::string>, git_push_allowed_prefixes, {},
          "Comma-separated URL prefixes GitPush may target; empty allows any "
          "(env WORKERPAIR_GIT_PUSH_ALLOWED_PREFIXES).");
ABSL_FLAG(int, max_grep_results, 1000,
          "Most matches one grep returns (env WORKERPAIR_MAX_GREP_RESULTS).");
ABSL_FLAG(int, call_time_limit_s, 120,
          "Longest an expensive call (grep, lint, topology, bundle, git) may run, in seconds, "
          "whatever its client's deadline (env WORKERPAIR_CALL_TIME_LIMIT_S).");
ABSL_FLAG(int, max_expensive_calls_per_workspace, 4,
          "Expensive calls one workspace may run at once; more are RESOURCE_EXHAUSTED; 0: no cap "
          "(env WORKERPAIR_MAX_EXPENSIVE_CALLS_PER_WORKSPACE).");
ABSL_FLAG(int, max_expensive_calls, 48,
          "Expensive calls the service runs at once in all, below --max_rpc_threads so cheap "
          "calls always find a thread; 0: no cap (env WORKERPAIR_MAX_EXPENSIVE_CALLS).");
ABSL_FLAG(int, linter_timeout_s, 30,
          "Wall-clock limit of one sandboxed external linter run, in seconds "
          "(env WORKERPAIR_LINTER_TIMEOUT_S).");
ABSL_FLAG(int, linter_memory_mb, 512,
          "Private memory (RLIMIT_DATA) of one external linter run, in MiB "
          "(env WORKERPAIR_LINTER_MEMORY_MB).");
ABSL_FLAG(int, linter_cpu_s, 30,
          "CPU time (RLIMIT_CPU) of one external linter run, in seconds "
          "(env WORKERPAIR_LINTER_CPU_S).");

namespace {

// The lint core's options; the external linters' limits from the flags (at least 1 each).
workerpair::light::LintOptions LintOptionsFromFlags() {
  workerpair::light::LintOptions options;
  workerpair::light::LinterConfig& linters = options.linters;
  linters.timeout = std::chrono::seconds(std::max(1, absl::GetFlag(FLAGS_linter_timeout_s)));
  linters.memory_bytes = static_cast<std::uint64_t>(std::max(1, absl::GetFlag(FLAGS_linter_memory_mb)))
                         << 20;
  linters.cpu_seconds = static_cast<std::uint64_t>(std::max(1, absl::GetFlag(FLAGS_linter_cpu_s)));
  return options;
}

workerpair::light::FileLimits FileLimitsFromFlags() {
  workerpair::light::FileLimits limits;
  limits.max_read_bytes = static_cast<std::uint64_t>(absl::GetFlag(FLAGS_max_read_mb)) << 20;
  limits.max_write_bytes = static_cast<std::uint64_t>(absl::GetFlag(FLAGS_max_write_mb)) << 20;
  limits.max_upload_bytes = static_cast<std::uint64_t>(absl::GetFlag(FLAGS_max_upload_mb)) << 20;
  limits.max_list_entries = static_cast<std::uint32_t>(absl::GetFlag(FLAGS_max_list_entries));
  limits.max_grep_results = static_cast<std::uint32_t>(absl::GetFlag(FLAGS_max_grep_results));
  return limits;
}

workerpair::light::LightCallLimits CallLimitsFromFlags() {
  workerpair::light::LightCallLimits limits;
  limits.time_limit = absl::Seconds(std::max(1, absl::GetFlag(FLAGS_call_time_limit_s)));
  limits.max_per_workspace = static_cast<std::size_t>(
      std::max(0, absl::GetFlag(FLAGS_max_expensive_calls_per_workspace)));
  limits.max_total =
      static_cast<std::size_t>(std::max(0, absl::GetFlag(FLAGS_max_expensive_calls)));
  return limits;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace workerpair;
  BlockTerminationSignals();
  InitProcess(argc, argv,
              "worker-light: agent workspaces (files, git, lint, topology, bundle) over gRPC.\n"
              "Usage: worker-light --root=DIR [--listen=HOST:PORT] [flags]");

  auto store = light::WorkspaceStore::Open(absl::GetFlag(FLAGS_root));
  if (!store.ok()) {
    spdlog::critical("cannot open workspace root: {}", store.status().ToString());
    return EXIT_FAILURE;
  }
  light::WorkspaceFiles files(FileLimitsFromFlags());
  light::LightCallPolicy call_policy(CallLimitsFromFlags());
  light::LightFilesService files_service(store->get(), &files, &call_policy);
  light::Linter linter(LintOptionsFromFlags());
  // External linters run only sandboxed (services/light/core/lint/external_linters.h): say at
  // start whether this kernel lets them run at all.
  const sandbox::SandboxReport linter_sandbox = sandbox::ProbeSandbox();
  if (linter_sandbox.landlock && linter_sandbox.seccomp) {
    spdlog::info("external linters run sandboxed: {}", linter_sandbox.Describe());
  } else {
    spdlog::error("external linters will NOT run (lint/linter-failed): this kernel cannot "
                  "sandbox them: {}", linter_sandbox.Describe());
  }
  for (const std::string& warning : linter_sandbox.warnings) spdlog::warn("sandbox: {}", warning);
  light::LightLintService lint_service(store->get(), &linter, &call_policy);
  light::GitOptions git_options;
  git_options.allowed_remote_prefixes = absl::GetFlag(FLAGS_git_push_allowed_prefixes);
  light::GitCore git(git_options);
  light::LightGitService git_service(store->get(), &git, &call_policy);
  light::LightBundleService bundle_service(store->get(), &call_policy);
  light::TopologyAnalyzer topology(light::TopologyOptions{});
  light::LightTopologyService topology_service(store->get(), &topology, &call_policy);

  ServerRunner runner(ServerOptionsFromFlags("worker-light"));
  runner.AddService(&files_service, v1::LightFilesService::service_full_name());
  runner.AddService(&lint_service, v1::LightLintService::service_full_name());
  runner.AddService(&git_service, v1::LightGitService::service_full_name());
  runner.AddService(&bundle_service, v1::LightBundleService::service_full_name());
  runner.AddService(&topology_service, v1::LightTopologyService::service_full_name());
  light::RegisterWorkspaceMetrics(store->get(), &MetricsRegistry::Default());
  if (absl::Status status = runner.Start(); !status.ok()) {
    spdlog::critical("{}", status.ToString());
    return EXIT_FAILURE;
  }
  spdlog::info("workspaces in {}", (*store)->root().string());
  runner.RunUntilSignal();
  return EXIT_SUCCESS;
}
