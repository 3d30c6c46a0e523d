// HeavyClient: the controller's client for the worker-heavy pool.
//
// A job goes to one replica, chosen by load (services/controller/core/router.h: the less
// loaded of two random healthy replicas). What happens when it fails follows the retry rule
// (core/failover.h, heavy.proto): a payload error comes back after that one attempt; a full or
// draining replica sends the job to another one, or, when every replica is full, makes it wait
// for a slot (progress says "pool full: ..."); a lost replica (a broken stream, a stream silent
// for longer than `silent_intervals` heartbeat intervals, no connection within
// `connect_timeout`) is ejected for a while and the job runs elsewhere, payload sent again
// (worker-heavy is stateless). Verify runs are split across the replicas at once and merged
// with the seeds one replica would have used; runs a lost replica had streamed back are kept
// and only the others run again, with the same seeds.
//
// Cancel: every job call takes an optional Cancellation; once cancelled, the attempt running
// is cancelled on the wire (TryCancel: worker-heavy then kills its runner and frees the slot),
// a wait for capacity ends, and the call returns CANCELLED.
//
// A dns:/// pool that resolves to nothing (scaled to zero) is waited on like a full pool,
// re-resolved at each wait, until a replica appears or the total deadline passes.
//
// Two deadlines: `total_deadline` is what the caller is willing to wait for the whole job,
// waiting for capacity and every retry included; `attempt_deadline` caps one attempt on one
// replica (upload, queue, run, download). An attempt gets the smaller of the two.
//
// The pool is a list of addresses, or one `dns:///name:port` target (a Kubernetes headless
// Service) that the client re-resolves every `resolve_interval` itself (heavy_pool.h), with one
// channel per resolved address.
//
//   HeavyClient heavy({"10.0.0.5:50052", "10.0.0.6:50052"});
//   auto run = heavy.Simulate(payload, options, [](const HeavyProgress& p) { ... });
//   run->value.result.outcome(); run->replica; run->attempts;
#ifndef WORKERPAIR_SERVICES_CONTROLLER_HEAVY_CLIENT_H_
#define WORKERPAIR_SERVICES_CONTROLLER_HEAVY_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/rpc/client_channel.h"
#include "services/controller/core/cancellation.h"
#include "services/controller/core/failover.h"
#include "services/controller/heavy_pool.h"
#include "workerpair/v1/heavy.grpc.pb.h"

namespace workerpair::controller {

// A simulation payload: the gzipped tar and its SHA-256 (hex).
struct Payload {
  std::string bytes;
  std::string sha256;
};

// A file a job produced.
struct Artifact {
  std::string media_type;
  std::string data;
};

struct SimulationRun {
  v1::SimulateResult result;
  std::map<std::string, Artifact> artifacts;
};

struct VerifySummary {
  v1::VerifyResult result;                // merged over every replica, runs by index
  std::vector<std::string> replicas;      // replica that finished each part, in part order
  int attempts = 0;                       // attempts over all parts
  // Runs received from an attempt whose replica was lost before the attempt ended: kept, not
  // run again.
  std::uint32_t kept_runs = 0;
};

struct RenderedViews {
  std::vector<v1::RenderedView> views;
  v1::RenderViewsResult result;
};

// What the caller sees while a job runs: the event and the replica it came from. Messages
// about the pool as a whole ("pool full: 4/4 slots busy, 8 queued, waiting 2 s") have an empty
// `replica`.
struct HeavyProgress {
  std::string replica;
  int attempt = 0;
  std::string summary;  // one human-readable line, e.g. "simulated 1.2/4.0 s, 36 frames"
  // The job waits for capacity: every replica is full, or the pool has none yet (a dns:///
  // pool scaled to zero). Cleared by the next event from a replica.
  bool waiting_for_capacity = false;
  // The replica's job id (JobAccepted.job_id) once it accepted this attempt's job.
  std::string job_id;
};
using ProgressCallback = std::function<void(const HeavyProgress&)>;

// When a replica counts as lost.
struct LivenessOptions {
  // A replica whose channel does not connect within this is lost for that attempt (and
  // ejected), instead of costing gRPC's 20 s connect timeout on every call.
  absl::Duration connect_timeout = absl::Seconds(5);
  // After the payload is sent, the replica must accept the job (its first event) within this.
  absl::Duration first_event_timeout = absl::Seconds(5);
  // The heartbeat interval assumed before the replica announces its own
  // (JobAccepted.heartbeat_interval_ms), e.g. while the payload uploads.
  absl::Duration default_heartbeat_interval = absl::Seconds(5);
  // A job stream silent for longer than this many heartbeat intervals is a lost replica.
  int silent_intervals = 4;
};

struct HeavyClientOptions {
  // Attempts lost to failed replicas (max_attempts) and the backoffs between attempts.
  FailoverPolicy failover;
  // The caller's total wait for one job: queueing for capacity and every retry included. A job
  // still waiting for a slot when it passes is RESOURCE_EXHAUSTED (REPLICA_FULL).
  absl::Duration total_deadline = absl::Minutes(30);
  // Limit of one attempt of a job on one replica (upload, queue, run, download): a job that
  // runs longer is DEADLINE_EXCEEDED and is not retried.
  absl::Duration attempt_deadline = absl::Minutes(10);
  // Deadline of small calls (Info).
  absl::Duration call_deadline = absl::Seconds(10);
  LivenessOptions liveness;
  // How often a dns:/// pool is resolved again, so new pods get work.
  absl::Duration resolve_interval = absl::Seconds(30);
  // How long failed replicas are skipped.
  EjectionPolicy ejection;
  // Payload chunk size on the wire.
  std::size_t chunk_bytes = 1 << 20;
  ClientSecurityOptions security;
};

class HeavyClient {
 public:
  HeavyClient(std::vector<std::string> targets, HeavyClientOptions options = {});

  // Runs one simulation on some replica, with failover. Payload errors come back as is
  // (INVALID_ARGUMENT / PAYLOAD_INVALID for a bad scene, RESOURCE_EXHAUSTED / PAYLOAD_LIMIT for
  // a payload over a limit, ...), with their reason attached (libs/common/error_reason.h).
  absl::StatusOr<FailoverOutcome<SimulationRun>> Simulate(const Payload& payload,
                                                          const v1::SimulateOptions& options,
                                                          const ProgressCallback& progress = {},
                                                          Cancellation* cancel = nullptr);

  // Runs `runs` seeded, jittered runs split across the replicas at once and merges them.
  // Without `jitter_m` each replica uses the manifest's verify.jitter_m (or its default).
  absl::StatusOr<VerifySummary> Verify(const Payload& payload, std::uint32_t runs,
                                       std::uint64_t base_seed, std::optional<double> jitter_m,
                                       const ProgressCallback& progress = {},
                                       Cancellation* cancel = nullptr);

  // Compiles the payload's scene on some replica (with failover) without simulating it.
  absl::StatusOr<FailoverOutcome<v1::BuildSceneResponse>> BuildScene(
      const Payload& payload, bool return_mjcf = false, const ProgressCallback& progress = {},
      Cancellation* cancel = nullptr);

  // Renders still views of the scene on some replica, with failover.
  absl::StatusOr<FailoverOutcome<RenderedViews>> RenderViews(
      const Payload& payload, const v1::RenderViewsOptions& options,
      const ProgressCallback& progress = {}, Cancellation* cancel = nullptr);

  // Capacity and load of one replica (an address, or any gRPC target).
  absl::StatusOr<v1::InfoResponse> Info(const std::string& target);

  // The targets as given.
  const std::vector<std::string>& targets() const { return pool_.targets(); }
  // The replicas they stand for now (a dns:/// target: its resolved addresses).
  std::vector<std::string> replicas() const { return pool_.replicas(); }
  HeavyPool& pool() { return pool_; }

 private:
  struct VerifyPart;

  // Runs `attempt_fn` with failover over the pool, within options_.total_deadline. With
  // `prefer_holder` the replica that last ran a job on `payload` comes first when it has room
  // (it holds the payload: nothing is uploaded or compiled again); the one that ran this job
  // is noted.
  template <typename T>
  absl::StatusOr<FailoverOutcome<T>> RunJob(
      const std::function<absl::StatusOr<T>(const AttemptContext&)>& attempt_fn,
      const Payload& payload, const ProgressCallback& progress, Cancellation* cancel,
      bool prefer_holder = true);
  // A dns:/// pool with no replica: waits (re-resolving) until one appears. OK when the pool
  // has replicas; UNAVAILABLE at `deadline`, CANCELLED when cancelled.
  absl::Status WaitForReplicas(absl::Time deadline, const ProgressCallback& progress,
                               Cancellation* cancel);
  absl::StatusOr<std::unique_ptr<v1::HeavyService::Stub>> ConnectedStub(const AttemptContext& attempt);
  absl::StatusOr<SimulationRun> SimulateOnce(const AttemptContext& attempt, const Payload& payload,
                                             const v1::SimulateOptions& options,
                                             const ProgressCallback& progress,
                                             Cancellation* cancel);
  // One Verify stream for runs [first, first + count) of the batch; each run is stored in
  // `part` as it arrives.
  absl::Status VerifyRange(const AttemptContext& attempt, const Payload& payload,
                           std::uint32_t first, std::uint32_t count, VerifyPart& part,
                           const ProgressCallback& progress, Cancellation* cancel);
  absl::StatusOr<RenderedViews> RenderViewsOnce(const AttemptContext& attempt,
                                                const Payload& payload,
                                                const v1::RenderViewsOptions& options,
                                                const ProgressCallback& progress,
                                                Cancellation* cancel);
  // Refreshes stale load figures (Info) and reports "pool full: ...".
  void ReportCapacityWait(const CapacityWait& wait, const ProgressCallback& progress);

  HeavyClientOptions options_;
  HeavyPool pool_;
};

}  // namespace workerpair::controller

#endif  // WORKERPAIR_SERVICES_CONTROLLER_HEAVY_CLIENT_H_
