#include "services/heavy/heavy_service.h"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

namespace workerpair::heavy {
namespace {

// A "Key:   123 kB" line of /proc/meminfo, in bytes.
std::uint64_t MeminfoBytes(const std::string& key) {
  std::ifstream in("/proc/meminfo");
  std::string name;
  std::uint64_t value = 0;
  std::string unit;
  while (in >> name >> value) {
    std::getline(in, unit);
    if (name == key + ":") return value * 1024;
  }
  return 0;
}

std::uint64_t ProcessRssBytes() {
  std::ifstream in("/proc/self/statm");
  std::uint64_t pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace

HeavyService::HeavyService(admission::Scheduler* scheduler, intake::ScratchSpace* scratch,
                           RunnerPool* runners, const HeavyConfig* config)
    : scheduler_(scheduler),
      runners_(runners),
      config_(config),
      env_{config, runners},
      hub_(config->intake.uploads, config->heartbeat_interval, scratch, config->payload_cache_bytes) {}

grpc::ServerBidiReactor<v1::SimulateRequest, v1::SimulateResponse>* HeavyService::Simulate(
    grpc::CallbackServerContext* context) {
  PayloadCallSpec<v1::SimulateRequest, v1::SimulateResponse> spec;
  spec.kind = "simulate";
  const SceneLimits* limits = &config_->scene;
  spec.check_header = [limits](const v1::SimulateRequest& header) {
    return CheckSimulateOptions(header.header().options(), *limits);
  };
  const JobEnv env = env_;
  spec.run = [env](admission::JobContext& job, const v1::SimulateRequest& header,
                   intake::JobPayload& payload, const EmitFn<v1::SimulateResponse>& emit) {
    return RunSimulate(job, header, payload, env, emit);
  };
  return new PayloadStreamReactor<v1::SimulateRequest, v1::SimulateResponse>(context, CallEnv(),
                                                                          std::move(spec));
}

grpc::ServerBidiReactor<v1::VerifyRequest, v1::VerifyResponse>* HeavyService::Verify(
    grpc::CallbackServerContext* context) {
  PayloadCallSpec<v1::VerifyRequest, v1::VerifyResponse> spec;
  spec.kind = "verify";
  const HeavyConfig* config = config_;
  spec.check_header = [config](const v1::VerifyRequest& header) {
    return CheckVerifyHeader(header.header(), *config);
  };
  const JobEnv env = env_;
  spec.run = [env](admission::JobContext& job, const v1::VerifyRequest& header,
                   intake::JobPayload& payload, const EmitFn<v1::VerifyResponse>& emit) {
    return RunVerify(job, header, payload, env, emit);
  };
  return new PayloadStreamReactor<v1::VerifyRequest, v1::VerifyResponse>(context, CallEnv(),
                                                                      std::move(spec));
}

grpc::ServerBidiReactor<v1::RenderViewsRequest, v1::RenderViewsResponse>* HeavyService::RenderViews(
    grpc::CallbackServerContext* context) {
  PayloadCallSpec<v1::RenderViewsRequest, v1::RenderViewsResponse> spec;
  spec.kind = "render_views";
  const SceneLimits* limits = &config_->scene;
  spec.check_header = [limits](const v1::RenderViewsRequest& header) {
    return CheckRenderViewsHeader(header.header(), *limits);
  };
  const JobEnv env = env_;
  spec.run = [env](admission::JobContext& job, const v1::RenderViewsRequest& header,
                   intake::JobPayload& payload, const EmitFn<v1::RenderViewsResponse>& emit) {
    return RunRenderViews(job, header, payload, env, emit);
  };
  return new PayloadStreamReactor<v1::RenderViewsRequest, v1::RenderViewsResponse>(
      context, CallEnv(), std::move(spec));
}

grpc::ServerReadReactor<v1::BuildSceneRequest>* HeavyService::BuildScene(
    grpc::CallbackServerContext* context, v1::BuildSceneResponse* response) {
  const JobEnv env = env_;
  return new BuildSceneReactor(
      context, response, CallEnv(),
      [env](admission::JobContext& job, const v1::BuildSceneRequest& header,
            intake::JobPayload& payload) {
        return RunBuildScene(job, header, payload, env);
      });
}

grpc::ServerUnaryReactor* HeavyService::Info(grpc::CallbackServerContext* context,
                                             const v1::InfoRequest*, v1::InfoResponse* response) {
  const admission::SchedulerStats stats = scheduler_->Stats();
  response->set_slots(static_cast<std::uint32_t>(stats.slots));
  response->set_running(static_cast<std::uint32_t>(stats.running));
  response->set_queued(static_cast<std::uint32_t>(stats.queued));
  response->set_queue_capacity(static_cast<std::uint32_t>(stats.queue_capacity));
  response->set_draining(stats.draining);
  response->set_cpu_count(std::thread::hardware_concurrency());
  double load[3] = {0, 0, 0};
  if (::getloadavg(load, 3) == 3) {
    for (double value : load) response->add_load_average(value);
  }
  response->set_memory_total_bytes(MeminfoBytes("MemTotal"));
  response->set_memory_available_bytes(MeminfoBytes("MemAvailable"));
  response->set_process_rss_bytes(ProcessRssBytes());
  const RunnerPoolStats runners = runners_->Stats();
  response->set_gl_renderer(runners.gl_renderer);
  response->set_gl_platform(runners.gl_platform);
  response->set_runners_alive(static_cast<std::uint32_t>(runners.alive));
  response->set_runners_busy(static_cast<std::uint32_t>(runners.busy));
  for (int reason = 0; reason < kRestartReasonCount; ++reason) {
    (*response->mutable_runner_restarts())[std::string(
        RestartReasonName(static_cast<RestartReason>(reason)))] = runners.restarts[reason];
  }
  response->set_sandbox(runners.sandbox);
  for (const std::string& warning : runners.sandbox_warnings) response->add_sandbox_warnings(warning);
  for (const RunnerSnapshot& runner : runners.per_runner) {
    v1::RunnerSummary* summary = response->add_runners();
    summary->set_index(static_cast<std::uint32_t>(runner.index));
    summary->set_state(runner.state);
    summary->set_gl_renderer(runner.gl_renderer);
    summary->set_jobs_run(runner.jobs_run);
    summary->set_rss_bytes(runner.rss_bytes);
    for (const std::string& digest : runner.cached_scenes) summary->add_cached_scenes(digest);
  }
  const intake::PayloadCacheStats cache = hub_.cache()->Stats();
  v1::PayloadCacheStats* payloads = response->mutable_payload_cache();
  payloads->set_entries(static_cast<std::uint32_t>(cache.entries));
  payloads->set_bytes(cache.bytes);
  payloads->set_capacity_bytes(cache.capacity_bytes);
  payloads->set_hits(cache.hits);
  payloads->set_misses(cache.misses);
  payloads->set_insertions(cache.insertions);
  payloads->set_evictions(cache.evictions);
  payloads->set_chunks_received(hub_.chunks_received());
  response->mutable_scene_cache()->set_compiles(runners.scene_compiles);
  response->mutable_scene_cache()->set_reuses(runners.scene_reuses);
  response->mutable_scene_cache()->set_shared_loads(runners.scene_loads);
  response->mutable_scene_cache()->set_shared_entries(runners.shared_scenes.entries);
  response->mutable_scene_cache()->set_shared_bytes(runners.shared_scenes.bytes);
  response->mutable_scene_cache()->set_shared_capacity_bytes(runners.shared_scenes.capacity_bytes);
  response->mutable_scene_cache()->set_shared_declined(runners.shared_scenes.declined);
  response->set_jobs_accepted(stats.accepted);
  response->set_jobs_rejected(stats.rejected);
  response->set_jobs_succeeded(stats.succeeded);
  response->set_jobs_failed(stats.failed);
  response->set_jobs_cancelled(stats.cancelled);
  response->set_uptime_s(absl::ToDoubleSeconds(absl::Now() - started_));
  for (const admission::JobSnapshot& job : scheduler_->Jobs()) {
    v1::JobSummary* summary = response->add_jobs();
    summary->set_job_id(job.id);
    summary->set_kind(job.kind);
    summary->set_state(job.running ? "running" : "queued");
    summary->set_age_ms(static_cast<std::uint64_t>(absl::ToInt64Milliseconds(job.age)));
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

void HeavyService::Drain(absl::Time deadline) {
  const admission::SchedulerStats before = scheduler_->Stats();
  spdlog::info("draining: {} running, {} queued; grace until {}", before.running, before.queued,
               absl::FormatTime(deadline));
  const int cancelled = scheduler_->Drain(deadline);
  // Let the final statuses (UNAVAILABLE for what was cut short) reach the callers before the
  // server cancels what is left.
  const bool quiet = calls_.WaitNone(std::max(deadline, absl::Now()) + absl::Seconds(2));
  spdlog::info("drained: {} job(s) cut short with UNAVAILABLE; {} call(s) still open", cancelled,
               quiet ? 0 : calls_.live());
}

}  // namespace workerpair::heavy
