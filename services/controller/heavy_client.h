// HeavyClient: the controller's client for the worker-heavy pool.
//
// A job goes to one replica; if that replica is gone (UNAVAILABLE, a broken stream) or full
// (RESOURCE_EXHAUSTED) the whole payload is sent again to another replica (worker-heavy is
// stateless), with jittered backoff and a bounded number of attempts. Verify runs are split
// across the replicas at once and merged, with the seeds a single replica would have used.
//
// The pool is a list of addresses, or one `dns:///name:port` target that resolves to every pod
// (a Kubernetes headless Service): then one channel balances calls round-robin and a retry is a
// new call that lands on the next pod.
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
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/common/security.h"
#include "services/controller/core/failover.h"
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
  std::vector<std::string> replicas;      // replica of each part, in part order
  int attempts = 0;                       // attempts over all parts
};

struct RenderedViews {
  std::vector<v1::RenderedView> views;
  v1::RenderViewsResult result;
};

// What the caller sees while a job runs: the event and the replica it came from.
struct HeavyProgress {
  std::string replica;
  int attempt = 0;
  std::string summary;  // one human-readable line, e.g. "running 1.2/4.0 s, 36 frames"
};
using ProgressCallback = std::function<void(const HeavyProgress&)>;

struct HeavyClientOptions {
  FailoverPolicy failover;
  // Deadline of one attempt of a job (upload, queue, run, download).
  absl::Duration job_deadline = absl::Minutes(10);
  // Deadline of small calls (Info).
  absl::Duration call_deadline = absl::Seconds(10);
  // Payload chunk size on the wire.
  std::size_t chunk_bytes = 1 << 20;
  ClientSecurityOptions security;
};

class HeavyClient {
 public:
  HeavyClient(std::vector<std::string> targets, HeavyClientOptions options = {});

  // Runs one simulation on some replica, with failover. Errors other than "replica gone or
  // full" come back as is (INVALID_ARGUMENT for a bad scene, ...).
  absl::StatusOr<FailoverOutcome<SimulationRun>> Simulate(const Payload& payload,
                                                          const v1::SimulateOptions& options,
                                                          const ProgressCallback& progress = {});

  // Runs `runs` seeded, jittered runs split across the replicas at once and merges them.
  // Without `jitter_m` each replica uses the manifest's verify.jitter_m (or its default).
  absl::StatusOr<VerifySummary> Verify(const Payload& payload, std::uint32_t runs,
                                       std::uint64_t base_seed, std::optional<double> jitter_m,
                                       const ProgressCallback& progress = {});

  // Compiles the payload's scene on some replica (with failover) without simulating it.
  absl::StatusOr<FailoverOutcome<v1::BuildSceneResponse>> BuildScene(const Payload& payload,
                                                                     bool return_mjcf = false);

  // Renders still views of the scene on some replica, with failover.
  absl::StatusOr<FailoverOutcome<RenderedViews>> RenderViews(
      const Payload& payload, const v1::RenderViewsOptions& options,
      const ProgressCallback& progress = {});

  // Capacity and load of one replica (a target as given, e.g. an address).
  absl::StatusOr<v1::InfoResponse> Info(const std::string& target);

  const std::vector<std::string>& targets() const { return targets_; }

 private:
  // A stub on the (cached) channel to `target`; the channel's error when it cannot be made
  // (e.g. unreadable TLS files).
  absl::StatusOr<std::unique_ptr<v1::Heavy::Stub>> StubFor(const std::string& target);
  absl::StatusOr<SimulationRun> SimulateOnce(const std::string& target, int attempt,
                                             const Payload& payload,
                                             const v1::SimulateOptions& options,
                                             const ProgressCallback& progress);
  absl::StatusOr<v1::VerifyResult> VerifyOnce(const std::string& target, int attempt,
                                              const Payload& payload,
                                              const v1::VerifyHeader& header,
                                              const ProgressCallback& progress);

  absl::StatusOr<RenderedViews> RenderViewsOnce(const std::string& target, int attempt,
                                                const Payload& payload,
                                                const v1::RenderViewsOptions& options,
                                                const ProgressCallback& progress);

  std::vector<std::string> targets_;
  HeavyClientOptions options_;
  ReplicaRotation rotation_;
  std::mutex channels_mu_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
};

}  // namespace workerpair::controller

#endif  // WORKERPAIR_SERVICES_CONTROLLER_HEAVY_CLIENT_H_
