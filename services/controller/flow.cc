#include "services/controller/flow.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <optional>
#include <set>

#include <spdlog/spdlog.h>

#include "libs/common/job_log.h"
#include "libs/common/request_trace.h"
#include "libs/common/status_macros.h"
#include "libs/common/str_cat.h"
#include "libs/scene/manifest.h"
#include "libs/scene/scene_names.h"
#include "services/controller/proto_json.h"

namespace workerpair::controller {
namespace {

constexpr char kResultsDir[] = "results";

bool ValidRunName(const std::string& name) {
  if (name.empty() || name.size() > 100 || name[0] == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

std::string DefaultRunName(const std::string& payload_sha256) {
  const absl::Time now = absl::Now();
  return StrCat("run-", absl::FormatTime("%Y%m%d-%H%M%S", now, absl::UTCTimeZone()), "-",
                absl::ToUnixMillis(now) % 1000, "-", payload_sha256.substr(0, 8));
}

// The manifest's assembly parts as topology parts; empty when the manifest names an MJCF scene.
std::vector<v1::TopologyPart> AssemblyParts(const scene::Manifest& manifest) {
  std::vector<v1::TopologyPart> parts;
  if (!manifest.assembly) return parts;
  for (const scene::AssemblyPart& entry : manifest.assembly->parts) {
    v1::TopologyPart part;
    part.set_name(entry.name);
    part.set_path(entry.mesh);
    v1::TopologyVec3* position = part.mutable_pose()->mutable_position();
    position->set_x(entry.pos[0]);
    position->set_y(entry.pos[1]);
    position->set_z(entry.pos[2]);
    v1::TopologyVec3* euler = part.mutable_pose()->mutable_euler_degrees();
    euler->set_x(entry.euler_deg[0]);
    euler->set_y(entry.euler_deg[1]);
    euler->set_z(entry.euler_deg[2]);
    parts.push_back(std::move(part));
  }
  return parts;
}

class FlowRunner {
 public:
  FlowRunner(LightClient& light, HeavyClient& heavy, const FlowRequest& request,
             const FlowProgressCallback& progress)
      : light_(light), heavy_(heavy), request_(request), progress_(progress) {}

  FlowReport Run() {
    // The caller's trace (a CLI's --request_id, a ControllerService job's), else a new one;
    // every call below carries it (the channels' TraceClientInterceptorFactory).
    const RequestTrace* caller = CurrentRequestTrace();
    RequestTrace trace = caller != nullptr ? *caller : NewRequestTrace({}, request_.workspace);
    if (trace.workspace.empty()) trace.workspace = request_.workspace;
    const ScopedRequestTrace scope(trace);
    report_.request_id = trace.request_id;
    report_.trace_id = trace.trace_id;
    log_.emplace(JobLog::Identity{.service = "controller", .trace = trace, .kind = "flow"});
    log_->Info("started", {{"mode", request_.mode == FlowMode::kVerify ? "verify" : "simulate"},
                           {"run_name", request_.run_name}});
    FlowReport report = RunSteps();
    std::string heavy_jobs;
    for (const std::string& id : report.heavy_job_ids) heavy_jobs += heavy_jobs.empty() ? id : "," + id;
    log_->Finished(report.status, {{"failed_step", report.failed_step},
                                   {"run_name", report.run_name},
                                   {"succeeded", report.succeeded() ? "true" : "false"},
                                   {"heavy_job_ids", heavy_jobs},
                                   {"results_dir", report.results_dir}});
    return report;
  }

 private:
  FlowReport RunSteps() {
    if (!request_.run_name.empty() && !ValidRunName(request_.run_name)) {
      report_.status = absl::InvalidArgumentError(
          StrCat("run name '", request_.run_name,
                 "' must be 1-100 characters of [A-Za-z0-9._-], not starting with '.'"));
      report_.failed_step = "start";
      return std::move(report_);
    }
    report_.run_name = request_.run_name;
    const bool verify = request_.mode == FlowMode::kVerify;
    Step("write", [&] { return WriteFiles(); }) && Step("lint", [&] { return Lint(); }) &&
        Step("topology", [&] { return Topology(); }) &&
        Step("commit", [&] { return CommitScene(); }) &&
        Step("bundle", [&] { return BundleScene(); }) &&
        Step("build", [&] { return Build(); }) &&
        Step(verify ? "verify" : "simulate", [&] { return verify ? Verify() : Simulate(); }) &&
        Step("results", [&] { return WriteResults(); }) &&
        Step("commit-results", [&] { return CommitResults(); });
    return std::move(report_);
  }

 private:
  // Times one step and records it; false (and the flow stops) when it fails.
  bool Step(const std::string& name, const std::function<absl::StatusOr<std::string>()>& body) {
    current_step_ = name;
    Report(FlowProgress::Phase::kStarted, "started");
    const absl::Time start = absl::Now();
    absl::StatusOr<std::string> summary =
        request_.cancel != nullptr && request_.cancel->cancelled()
            ? absl::StatusOr<std::string>(CancelledByCaller())
            : body();
    FlowStep step{name, absl::Now() - start, "", absl::OkStatus()};
    if (summary.ok()) {
      step.summary = *summary;
    } else {
      step.status = summary.status();
      step.summary = std::string(summary.status().message());
      report_.status = summary.status();
      report_.failed_step = name;
    }
    Report(summary.ok() ? FlowProgress::Phase::kFinished : FlowProgress::Phase::kFailed,
           step.summary);
    if (log_) {
      std::vector<JobLogField> fields{
          {"step", name},
          {"seconds", JobLogValue::Number(absl::ToDoubleSeconds(step.elapsed))},
          {"summary", step.summary}};
      for (JobLogField& field : StatusFields(step.status)) fields.push_back(std::move(field));
      log_->Log(step.status.ok() ? spdlog::level::info : spdlog::level::warn, "step", fields);
    }
    report_.steps.push_back(std::move(step));
    return summary.ok();
  }

  void Report(FlowProgress::Phase phase, const std::string& line) {
    if (progress_) progress_({current_step_, phase, line});
  }

  v1::GitAuthor Author() const {
    v1::GitAuthor author;
    author.set_name(request_.author_name);
    author.set_email(request_.author_email);
    return author;
  }

  absl::StatusOr<v1::GitStatusResponse> GitStatus() {
    v1::GitStatusRequest request;
    request.set_workspace(request_.workspace);
    return light_.Call(light_.git(), &v1::LightGitService::Stub::GitStatus, request);
  }

  absl::StatusOr<std::string> Commit(const std::string& message,
                                     const std::vector<std::string>& paths) {
    v1::GitCommitRequest request;
    request.set_workspace(request_.workspace);
    *request.mutable_author() = Author();
    request.set_message(message);
    for (const std::string& path : paths) request.add_paths(path);
    auto committed = light_.Call(light_.git(), &v1::LightGitService::Stub::GitCommit, request);
    if (!committed.ok()) return committed.status();
    return committed->hash();
  }

  // Makes sure the workspace exists and is a repository, snapshots uncommitted work the new
  // files could overwrite, then writes them.
  absl::StatusOr<std::string> WriteFiles() {
    auto created = light_.CreateWorkspace(request_.workspace, /*exist_ok=*/true);
    if (!created.ok()) return created.status();
    v1::GitInitRequest init;
    init.set_workspace(request_.workspace);
    auto initialized = light_.Call(light_.git(), &v1::LightGitService::Stub::GitInit, init);
    if (!initialized.ok()) return initialized.status();
    if (request_.files.empty()) {
      return StrCat(*created ? "created workspace '" : "workspace '", request_.workspace,
                    "', no files to write");
    }
    auto status = GitStatus();
    if (!status.ok()) return status.status();
    if (status->merging()) {
      return absl::FailedPreconditionError(
          StrCat("workspace '", request_.workspace,
                 "' is in the middle of a merge; finish or abort it before running the flow"));
    }
    std::string snapshot;
    if (status->dirty()) {
      auto hash = Commit("Snapshot of uncommitted work before a controller run", {});
      if (!hash.ok()) return hash.status();
      snapshot = StrCat(" (uncommitted work saved first as ", hash->substr(0, 12), ")");
    }
    std::uint64_t bytes = 0;
    for (const auto& [path, content] : request_.files) {
      auto written = light_.WriteFile(request_.workspace, path, content, /*overwrite=*/true);
      if (!written.ok()) return written.status();
      bytes += content.size();
    }
    return StrCat("wrote ", request_.files.size(), " file(s), ", bytes, " bytes", snapshot);
  }

  absl::StatusOr<std::string> Lint() {
    v1::LintWorkspaceRequest request;
    request.set_workspace(request_.workspace);
    request.set_skip_external(request_.skip_external_linters);
    auto response = light_.Call(light_.lint(), &v1::LightLintService::Stub::LintWorkspace, request);
    if (!response.ok()) return response.status();
    const v1::LintResult* linted = &response->result();
    for (const v1::Diagnostic& diagnostic : linted->diagnostics()) {
      if (diagnostic.severity() == v1::SEVERITY_INFO) continue;
      report_.diagnostics.push_back(diagnostic);
    }
    const std::string counts =
        StrCat(linted->files_checked(), " file(s) checked, ", linted->error_count(),
               " error(s), ", linted->warning_count(), " warning(s)");
    if (linted->error_count() > 0) {
      const v1::Diagnostic* first = nullptr;
      for (const v1::Diagnostic& diagnostic : report_.diagnostics) {
        if (diagnostic.severity() == v1::SEVERITY_ERROR) {
          first = &diagnostic;
          break;
        }
      }
      return absl::InvalidArgumentError(
          StrCat("lint: ", counts,
                 first ? StrCat("; first: ", first->path(), ":", first->line(), ":",
                                first->column(), ": ", first->message())
                       : std::string()));
    }
    return counts;
  }

  // Assembly manifests: every part must be a sound mesh inside the limits, without
  // interference. MJCF scenes: every mesh in the scene must be readable; holes are reported.
  absl::StatusOr<std::string> Topology() {
    v1::ReadFileRequest read;
    read.set_workspace(request_.workspace);
    read.set_path(std::string(scene::kManifestFileName));
    auto manifest_file = light_.ReadFile(read);
    if (!manifest_file.ok()) {
      if (manifest_file.status().code() == absl::StatusCode::kNotFound) {
        return absl::FailedPreconditionError(
            StrCat("workspace '", request_.workspace,
                   "' has no manifest.json at its root; see docs/MANIFEST.md"));
      }
      return manifest_file.status();
    }
    // The scene contract's parser, with the limits the linter used: a manifest lint passed
    // parses here too; one that does not (lint skipped its file) stops the flow with its error.
    WP_ASSIGN_OR_RETURN(const scene::Manifest manifest,
                        scene::ParseManifest(manifest_file->content(), SceneLimits{}));
    manifest_seed_ = manifest.simulation.seed;
    std::vector<v1::TopologyPart> parts = AssemblyParts(manifest);
    if (!parts.empty()) {
      v1::ValidateAssemblyRequest request;
      request.set_workspace(request_.workspace);
      for (v1::TopologyPart& part : parts) *request.add_parts() = std::move(part);
      auto validated =
          light_.Call(light_.topology(), &v1::LightTopologyService::Stub::ValidateAssembly, request);
      if (!validated.ok()) return validated.status();
      report_.topology_findings.assign(validated->findings().begin(), validated->findings().end());
      for (const v1::TopologyFinding& finding : validated->findings()) {
        if (finding.error()) {
          return absl::InvalidArgumentError(StrCat("topology: ", finding.code(), ": ",
                                                   finding.message()));
        }
      }
      return StrCat(request.parts_size(), " assembly part(s) valid, ", validated->interferences_size(),
                    " overlap(s) within the threshold");
    }
    auto listed = light_.ListFiles(request_.workspace, "", /*recursive=*/true, "");
    if (!listed.ok()) return listed.status();
    int meshes = 0;
    int open = 0;
    for (const v1::FileInfo& entry : listed->entries()) {
      if (entry.type() == v1::FILE_TYPE_DIRECTORY || !scene::IsMeshFileName(entry.path())) {
        continue;
      }
      if (entry.path().rfind(StrCat(kResultsDir, "/"), 0) == 0) continue;
      v1::AnalyzeMeshRequest request;
      request.set_workspace(request_.workspace);
      request.set_path(entry.path());
      auto analyzed =
          light_.Call(light_.topology(), &v1::LightTopologyService::Stub::AnalyzeMesh, request);
      if (!analyzed.ok()) return analyzed.status();
      ++meshes;
      if (!analyzed->watertight()) {
        ++open;
        v1::TopologyFinding finding;
        finding.set_code("topology/not-watertight");
        finding.set_part(entry.path());
        finding.set_message(StrCat(entry.path(), " has ", analyzed->boundary_edge_count(),
                                   " boundary edge(s); MuJoCo collides with its convex hull"));
        report_.topology_findings.push_back(std::move(finding));
      }
    }
    return StrCat(meshes, " mesh(es) analysed, ", open, " not watertight");
  }

  absl::StatusOr<std::string> CommitScene() {
    auto status = GitStatus();
    if (!status.ok()) return status.status();
    if (!status->dirty() && !status->unborn()) {
      report_.scene_commit = status->head();
      return StrCat("nothing changed; scene is ", status->head().substr(0, 12));
    }
    auto hash = Commit(request_.files.empty() ? "Scene checked by the controller"
                                              : "Scene written and checked by the controller",
                       {});
    if (!hash.ok()) return hash.status();
    report_.scene_commit = *hash;
    return StrCat("committed ", hash->substr(0, 12));
  }

  // Bundles the workspace root except results/ (and git's own files).
  absl::StatusOr<std::string> BundleScene() {
    auto listed = light_.ListFiles(request_.workspace, "", /*recursive=*/false, "");
    if (!listed.ok()) return listed.status();
    v1::BundleWorkspaceRequest request;
    request.set_workspace(request_.workspace);
    for (const v1::FileInfo& entry : listed->entries()) {
      if (entry.path() == kResultsDir || entry.path() == ".git") continue;
      request.add_paths(entry.path());
    }
    auto bundle = light_.BundleWorkspace(request);
    if (!bundle.ok()) return bundle.status();
    payload_.bytes = std::move(bundle->bytes);
    payload_.sha256 = bundle->summary.sha256();
    if (log_) log_->SetPayloadSha256(payload_.sha256);
    report_.payload_sha256 = payload_.sha256;
    report_.payload_bytes = payload_.bytes.size();
    if (report_.run_name.empty()) report_.run_name = DefaultRunName(payload_.sha256);
    report_.results_dir = StrCat(kResultsDir, "/", report_.run_name);
    return StrCat(bundle->summary.file_count(), " file(s), ", payload_.bytes.size(),
                  " bytes gzipped, sha256 ", payload_.sha256.substr(0, 12));
  }

  absl::StatusOr<std::string> Build() {
    auto built = heavy_.BuildScene(payload_, false, HeavyProgress(), request_.cancel);
    if (!built.ok()) return built.status();
    report_.build = built->value;
    const v1::ModelStats& stats = built->value.stats();
    return StrCat("scene compiles on ", built->replica, ": ", stats.bodies(), " bodies, ",
                  stats.joints(), " joints, ", stats.geoms(), " geoms (",
                  FixedDecimals(built->value.compile_ms(), 1), " ms)");
  }

  ProgressCallback HeavyProgress() {
    return [this](const workerpair::controller::HeavyProgress& event) {
      if (!event.job_id.empty()) {
        std::lock_guard lock(job_ids_mu_);  // verify parts report from their own threads
        std::vector<std::string>& ids = report_.heavy_job_ids;
        if (std::find(ids.begin(), ids.end(), event.job_id) == ids.end()) {
          ids.push_back(event.job_id);
        }
      }
      if (!progress_) return;
      progress_({current_step_, FlowProgress::Phase::kUpdate,
                 StrCat(event.replica,
                        event.attempt > 1 ? StrCat(" (attempt ", event.attempt, ")") : std::string(),
                        ": ", event.summary),
                 &event});
    };
  }

  absl::StatusOr<std::string> Simulate() {
    auto run = heavy_.Simulate(payload_, request_.simulate, HeavyProgress(), request_.cancel);
    if (!run.ok()) return run.status();
    report_.replicas = {run->replica};
    report_.attempts = run->attempts;
    report_.simulate_result = run->value.result;
    artifacts_ = std::move(run->value.artifacts);
    const v1::SimulateResult& result = *report_.simulate_result;
    if (log_) {
      log_->Info("outcome", {{"outcome", v1::Outcome_Name(result.outcome())},
                             {"fail_reason", v1::FailReason_Name(result.fail_reason())},
                             {"replica", run->replica},
                             {"attempts", JobLogValue::Number(run->attempts)}});
    }
    return StrCat(v1::Outcome_Name(result.outcome()),
                  result.fail_reason() != v1::FAIL_REASON_UNSPECIFIED
                      ? StrCat(" (", v1::FailReason_Name(result.fail_reason()), ")")
                      : std::string(),
                  " after ", FixedDecimals(result.metrics().sim_time_s(), 2), " s simulated on ",
                  run->replica, ", ", run->attempts, " attempt(s)");
  }

  absl::StatusOr<std::string> Verify() {
    auto summary = heavy_.Verify(payload_, request_.verify_runs,
                                 request_.base_seed.value_or(manifest_seed_),
                                 request_.jitter_m, HeavyProgress(), request_.cancel);
    if (!summary.ok()) return summary.status();
    report_.replicas = summary->replicas;
    report_.attempts = summary->attempts;
    report_.verify_result = summary->result;
    if (log_) {
      log_->Info("outcome", {{"runs", JobLogValue::Number(summary->result.runs_size())},
                             {"successes", JobLogValue::Number(summary->result.successes())},
                             {"attempts", JobLogValue::Number(summary->attempts)}});
    }
    std::set<std::string> distinct(summary->replicas.begin(), summary->replicas.end());
    return StrCat(summary->result.successes(), "/", summary->result.runs_size(),
                  " runs succeeded on ", distinct.size(), " replica(s)");
  }

  // results/<run>/: the artifacts (worker-heavy's result.json among them; a verify's merged
  // result is written as result.json here) and flow.json (this report), uploaded together:
  // all or none.
  absl::StatusOr<std::string> WriteResults() {
    if (report_.verify_result) {
      v1::VerifyReport verify;
      verify.set_request_id(report_.request_id);
      verify.set_trace_id(report_.trace_id);
      for (const std::string& id : report_.heavy_job_ids) verify.add_heavy_job_ids(id);
      *verify.mutable_result() = *report_.verify_result;
      WP_ASSIGN_OR_RETURN(std::string json,
                          ProtoJsonText(verify, /*pretty=*/true));
      artifacts_["result.json"] = Artifact{"application/json", std::move(json)};
    }
    std::vector<std::pair<std::string, std::string>> files;
    std::uint64_t bytes = 0;
    for (auto& [name, artifact] : artifacts_) {
      bytes += artifact.data.size();
      files.emplace_back(StrCat(report_.results_dir, "/", name), std::move(artifact.data));
    }
    artifacts_.clear();
    const std::string flow_json_path = StrCat(report_.results_dir, "/flow.json");
    for (const auto& [path, data] : files) report_.result_files.push_back(path);
    report_.result_files.push_back(flow_json_path);
    std::string flow_json = FlowReportToJson(report_);
    bytes += flow_json.size();
    files.emplace_back(flow_json_path, std::move(flow_json));
    auto uploaded = light_.UploadFiles(request_.workspace, files, /*overwrite=*/false);
    if (!uploaded.ok()) {
      report_.result_files.clear();
      return uploaded.status();
    }
    if (log_) {
      log_->Info("artifacts", {{"results_dir", report_.results_dir},
                               {"files", JobLogValue::Number(files.size())},
                               {"bytes", JobLogValue::Number(bytes)}});
    }
    return StrCat("wrote ", files.size(), " file(s), ", bytes, " bytes, to ",
                  report_.results_dir);
  }

  absl::StatusOr<std::string> CommitResults() {
    auto hash = Commit(StrCat("Results of ", report_.run_name, ": ", ResultHeadline()),
                       {report_.results_dir});
    if (!hash.ok()) return hash.status();
    report_.results_commit = *hash;
    return StrCat("committed ", hash->substr(0, 12));
  }

  std::string ResultHeadline() const {
    if (report_.simulate_result) return v1::Outcome_Name(report_.simulate_result->outcome());
    if (report_.verify_result) {
      return StrCat(report_.verify_result->successes(), "/", report_.verify_result->runs_size(),
                    " verify runs succeeded");
    }
    return "no result";
  }

  LightClient& light_;
  HeavyClient& heavy_;
  const FlowRequest& request_;
  const FlowProgressCallback& progress_;
  FlowReport report_;
  std::string current_step_;
  Payload payload_;
  std::uint64_t manifest_seed_ = 0;
  std::map<std::string, Artifact> artifacts_;
  std::optional<JobLog> log_;  // the flow's job-phase lines
  std::mutex job_ids_mu_;      // guards report_.heavy_job_ids while heavy calls run
};

}  // namespace

bool FlowReport::succeeded() const {
  if (!status.ok()) return false;
  if (simulate_result) return simulate_result->outcome() == v1::OUTCOME_SUCCESS;
  if (verify_result) {
    return verify_result->runs_size() > 0 &&
           verify_result->successes() == static_cast<std::uint32_t>(verify_result->runs_size());
  }
  return false;
}

FlowReport RunFlow(LightClient& light, HeavyClient& heavy, const FlowRequest& request,
                   const FlowProgressCallback& progress) {
  return FlowRunner(light, heavy, request, progress).Run();
}

}  // namespace workerpair::controller
