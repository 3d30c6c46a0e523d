#include "services/controller/controller_service.h"

#include "libs/common/error_reason.h"
#include "libs/rpc/grpc_status.h"
#include "libs/common/request_trace.h"
#include "libs/rpc/trace_metadata.h"
#include "libs/common/str_cat.h"
#include "services/controller/controller_jobs.h"

namespace workerpair::controller {
namespace {

// How long one wait for new progress lasts before the call checks whether its caller left.
constexpr absl::Duration kWatchPoll = absl::Milliseconds(500);

double UnixSeconds(absl::Time t) {
  return t == absl::InfinitePast() ? 0.0 : absl::ToDoubleSeconds(t - absl::UnixEpoch());
}

v1::JobState ToProtoState(JobState state) {
  switch (state) {
    case JobState::kQueued: return v1::JOB_STATE_QUEUED;
    case JobState::kRunning: return v1::JOB_STATE_RUNNING;
    case JobState::kSucceeded: return v1::JOB_STATE_SUCCEEDED;
    case JobState::kFailed: return v1::JOB_STATE_FAILED;
    case JobState::kCancelled: return v1::JOB_STATE_CANCELLED;
  }
  return v1::JOB_STATE_UNSPECIFIED;
}

v1::JobProgress ToProtoProgress(const JobProgressLine& line) {
  v1::JobProgress out;
  out.set_sequence(line.sequence);
  out.set_step(line.step);
  out.set_replica(line.replica);
  out.set_attempt(line.attempt);
  out.set_line(line.line);
  out.set_at_s(UnixSeconds(line.at));
  return out;
}

// Sends the job's progress from `from` and then the finished job through `write_progress` /
// `write_finished`, until it finishes or the caller leaves (the job goes on either way).
template <typename WriteProgress, typename WriteFinished>
grpc::Status Follow(JobTable& jobs, grpc::ServerContext* context, const std::string& id,
                    std::uint64_t from, bool include_artifacts, WriteProgress write_progress,
                    WriteFinished write_finished) {
  for (;;) {
    if (context->IsCancelled()) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "the caller left; the job goes on");
    }
    auto watch = jobs.Watch(id, from, absl::Now() + kWatchPoll);
    if (!watch.ok()) return ToGrpcStatus(watch.status());
    for (const JobProgressLine& line : watch->lines) {
      if (!write_progress(ToProtoProgress(line))) {
        return grpc::Status(grpc::StatusCode::CANCELLED, "the caller left; the job goes on");
      }
      from = line.sequence + 1;
    }
    if (watch->finished) {
      write_finished(ToProtoJob(*watch->finished, true, include_artifacts));
      return grpc::Status::OK;
    }
  }
}

JobPriority FromProtoPriority(v1::JobPriority priority) {
  return priority == v1::JOB_PRIORITY_HIGH ? JobPriority::kHigh : JobPriority::kNormal;
}

}  // namespace

v1::Job ToProtoJob(const JobSnapshot& snapshot, bool include_result, bool include_artifacts) {
  v1::Job job;
  job.set_job_id(snapshot.id);
  job.set_kind(snapshot.kind);
  job.set_state(ToProtoState(snapshot.state));
  job.set_priority(snapshot.priority == JobPriority::kHigh ? v1::JOB_PRIORITY_HIGH
                                                           : v1::JOB_PRIORITY_NORMAL);
  job.set_caller(snapshot.caller);
  job.set_submitted_at_s(UnixSeconds(snapshot.submitted_at));
  job.set_started_at_s(UnixSeconds(snapshot.started_at));
  job.set_finished_at_s(UnixSeconds(snapshot.finished_at));
  if (!snapshot.status.ok()) {
    v1::JobError* error = job.mutable_error();
    error->set_code(static_cast<int>(snapshot.status.code()));
    error->set_message(std::string(snapshot.status.message()));
    if (ReasonOf(snapshot.status) != ErrorReason::kUnspecified) {
      error->set_reason(std::string(ErrorReasonName(ReasonOf(snapshot.status))));
    }
  }
  if (include_result) {
    if (auto result = JobResultOf(snapshot.result)) {
      *job.mutable_result() = *result;
      if (!include_artifacts && job.result().has_simulation()) {
        job.mutable_result()->mutable_simulation()->clear_artifacts();
      }
      if (!include_artifacts && job.result().has_render_views()) {
        for (v1::RenderedView& view : *job.mutable_result()->mutable_render_views()->mutable_views()) {
          view.clear_png();
        }
      }
    }
  }
  job.set_progress_events(snapshot.progress_events);
  job.set_queue_position(snapshot.queue_position);
  return job;
}

absl::StatusOr<JobSnapshot> ControllerServiceImpl::Submit(const grpc::ServerContext& context,
                                                          const v1::JobSpec& spec,
                                                          const std::string& caller,
                                                          v1::JobPriority priority,
                                                          double max_wait_s) {
  if (!(max_wait_s >= 0) || max_wait_s > 7 * 24 * 3600) {
    return absl::InvalidArgumentError(StrCat("max_wait_s is ", max_wait_s,
                                             "; give 0 (the server's limit) to one week"));
  }
  WP_ASSIGN_OR_RETURN(JobWork traceless, MakeJobWork(spec, light_, heavy_));
  JobWork work = [trace = TraceFromServerMetadata(context.client_metadata()),
                  inner = std::move(traceless)](JobControl& control) {
    const ScopedRequestTrace scope(trace);  // the job's thread works for this caller's request
    return inner(control);
  };
  return jobs_.Submit(JobKind(spec), caller, FromProtoPriority(priority), std::move(work),
                      max_wait_s > 0 ? absl::Seconds(max_wait_s) : absl::InfiniteDuration());
}

grpc::Status ControllerServiceImpl::RunFlow(grpc::ServerContext* context,
                                            const v1::RunFlowRequest* request,
                                            grpc::ServerWriter<v1::RunFlowResponse>* writer) {
  v1::JobSpec spec;
  *spec.mutable_flow() = request->flow();
  auto job = Submit(*context, spec, request->caller(), request->priority(), request->max_wait_s());
  if (!job.ok()) return ToGrpcStatus(job.status());
  v1::RunFlowResponse first;
  *first.mutable_submitted() = ToProtoJob(*job, false, false);
  writer->Write(first);
  return Follow(
      jobs_, context, job->id, 0, false,
      [&](v1::JobProgress progress) {
        v1::RunFlowResponse out;
        *out.mutable_progress() = std::move(progress);
        return writer->Write(out);
      },
      [&](v1::Job finished) {
        v1::RunFlowResponse out;
        *out.mutable_finished() = std::move(finished);
        writer->Write(out);
      });
}

grpc::Status ControllerServiceImpl::RunSimulation(
    grpc::ServerContext* context, const v1::RunSimulationRequest* request,
    grpc::ServerWriter<v1::RunSimulationResponse>* writer) {
  v1::JobSpec spec;
  *spec.mutable_simulation() = request->simulation();
  auto job = Submit(*context, spec, request->caller(), request->priority(), request->max_wait_s());
  if (!job.ok()) return ToGrpcStatus(job.status());
  v1::RunSimulationResponse first;
  *first.mutable_submitted() = ToProtoJob(*job, false, false);
  writer->Write(first);
  return Follow(
      jobs_, context, job->id, 0, request->include_artifacts(),
      [&](v1::JobProgress progress) {
        v1::RunSimulationResponse out;
        *out.mutable_progress() = std::move(progress);
        return writer->Write(out);
      },
      [&](v1::Job finished) {
        v1::RunSimulationResponse out;
        *out.mutable_finished() = std::move(finished);
        writer->Write(out);
      });
}

grpc::Status ControllerServiceImpl::SubmitJob(grpc::ServerContext* context,
                                              const v1::SubmitJobRequest* request,
                                              v1::SubmitJobResponse* response) {
  auto job = Submit(*context, request->spec(), request->caller(), request->priority(),
                    request->max_wait_s());
  if (!job.ok()) return ToGrpcStatus(job.status());
  *response->mutable_job() = ToProtoJob(*job, false, false);
  return grpc::Status::OK;
}

grpc::Status ControllerServiceImpl::WatchJob(grpc::ServerContext* context,
                                             const v1::WatchJobRequest* request,
                                             grpc::ServerWriter<v1::WatchJobResponse>* writer) {
  return Follow(
      jobs_, context, request->job_id(), request->from_sequence(), request->include_artifacts(),
      [&](v1::JobProgress progress) {
        v1::WatchJobResponse out;
        *out.mutable_progress() = std::move(progress);
        return writer->Write(out);
      },
      [&](v1::Job finished) {
        v1::WatchJobResponse out;
        *out.mutable_finished() = std::move(finished);
        writer->Write(out);
      });
}

grpc::Status ControllerServiceImpl::GetJob(grpc::ServerContext*, const v1::GetJobRequest* request,
                                           v1::GetJobResponse* response) {
  auto job = jobs_.Get(request->job_id());
  if (!job.ok()) return ToGrpcStatus(job.status());
  *response->mutable_job() = ToProtoJob(*job, true, request->include_artifacts());
  return grpc::Status::OK;
}

grpc::Status ControllerServiceImpl::CancelJob(grpc::ServerContext*,
                                              const v1::CancelJobRequest* request,
                                              v1::CancelJobResponse* response) {
  auto job = jobs_.Cancel(request->job_id());
  if (!job.ok()) return ToGrpcStatus(job.status());
  *response->mutable_job() = ToProtoJob(*job, false, false);
  return grpc::Status::OK;
}

grpc::Status ControllerServiceImpl::ListJobs(grpc::ServerContext*,
                                             const v1::ListJobsRequest* request,
                                             v1::ListJobsResponse* response) {
  const std::size_t limit =
      request->limit() == 0 ? 100 : std::min<std::size_t>(request->limit(), 1000);
  for (const JobSnapshot& job : jobs_.List(limit, request->caller())) {
    *response->add_jobs() = ToProtoJob(job, false, false);
  }
  return grpc::Status::OK;
}

grpc::Status ControllerServiceImpl::GetPoolStatus(grpc::ServerContext*,
                                                  const v1::GetPoolStatusRequest*,
                                                  v1::GetPoolStatusResponse* response) {
  const absl::Time now = absl::Now();
  for (const ReplicaStatus& replica : heavy_.pool().router().Status()) {
    v1::HeavyReplicaStatus* out = response->add_heavy();
    out->set_address(replica.address);
    v1::ReplicaState state = v1::REPLICA_STATE_HEALTHY;
    if (replica.load) {
      v1::ReplicaLoad* load = out->mutable_load();
      load->set_slots(replica.load->slots);
      load->set_running(replica.load->running);
      load->set_queued(replica.load->queued);
      load->set_queue_capacity(replica.load->queue_capacity);
      load->set_draining(replica.load->draining);
      if (replica.load->draining) {
        state = v1::REPLICA_STATE_DRAINING;
      } else if (replica.load->running >= replica.load->slots &&
                 replica.load->queued >= replica.load->queue_capacity) {
        state = v1::REPLICA_STATE_FULL;
      }
    }
    if (replica.ejected && state != v1::REPLICA_STATE_DRAINING) state = v1::REPLICA_STATE_EJECTED;
    out->set_state(state);
    out->set_in_flight(static_cast<std::uint32_t>(replica.in_flight));
    out->set_consecutive_failures(static_cast<std::uint32_t>(replica.consecutive_failures));
    out->set_lost_total(static_cast<std::uint32_t>(replica.lost_total));
    out->set_connect_failed_total(static_cast<std::uint32_t>(replica.connect_failed_total));
    if (replica.last_failure_at != absl::InfinitePast()) {
      out->set_last_failure_age_s(absl::ToDoubleSeconds(now - replica.last_failure_at));
    }
    if (replica.ejected) out->set_ejected_for_s(absl::ToDoubleSeconds(replica.ejected_until - now));
  }
  for (std::size_t i = 0; i < light_.size(); ++i) {
    v1::LightTargetStatus* out = response->add_light();
    out->set_name(light_.targets()[i].name);
    out->set_address(light_.targets()[i].address);
    absl::Status ping = light_.At(i).Ping();
    out->set_reachable(ping.ok());
    if (!ping.ok()) out->set_error(ping.ToString());
  }
  const JobStats stats = jobs_.Stats();
  v1::JobStatistics* out = response->mutable_jobs();
  out->set_queued(stats.queued);
  out->set_running(stats.running);
  out->set_submitted_total(stats.submitted_total);
  out->set_succeeded_total(stats.succeeded_total);
  out->set_failed_total(stats.failed_total);
  out->set_cancelled_total(stats.cancelled_total);
  out->set_rejected_total(stats.rejected_total);
  out->set_max_running(static_cast<std::uint32_t>(jobs_.options().max_running));
  out->set_max_queued(static_cast<std::uint32_t>(jobs_.options().max_queued));
  std::uint32_t waiting = 0;
  for (const auto& [kind, demand] : jobs_.Demand()) waiting += demand.waiting;
  out->set_waiting_for_capacity(waiting);
  return grpc::Status::OK;
}

}  // namespace workerpair::controller
