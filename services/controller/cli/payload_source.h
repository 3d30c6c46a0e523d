// Where a worker-heavy command's payload comes from: a local scene directory (packed here with
// PackDirectory, the same deterministic bundle worker-light makes), a ready .tar.gz file, or a
// worker-light workspace (--from_workspace=WS, bundled by worker-light).
//
//   auto loaded = LoadPayload(context, {"examples/scenes/ramp_goal"}, /*from_workspace=*/"");
//   heavy.Simulate(loaded->payload, options);   // loaded->description: "directory ... (3 files)"
#ifndef WORKERPAIR_SERVICES_CONTROLLER_CLI_PAYLOAD_SOURCE_H_
#define WORKERPAIR_SERVICES_CONTROLLER_CLI_PAYLOAD_SOURCE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/controller/cli/cli_context.h"
#include "services/controller/heavy_client.h"

namespace workerpair::controller::cli {

struct LoadedPayload {
  Payload payload;
  // For people: what was packed, e.g. "directory examples/scenes/ramp_goal (3 files)".
  std::string description;
};

// With an empty `from_workspace`, `sources` must be one local path: a directory or a
// .tar.gz/.tgz file. With a workspace, `sources` are paths in it to bundle (empty: all of it).
// A CliContext::UsageError for a wrong number of sources; INVALID_ARGUMENT for a file that is not .tar.gz; NOT_FOUND for a
// missing path; PackDirectory's and BundleWorkspace's errors as they are.
absl::StatusOr<LoadedPayload> LoadPayload(CliContext& context,
                                          const std::vector<std::string>& sources,
                                          const std::string& from_workspace);

}  // namespace workerpair::controller::cli

#endif  // WORKERPAIR_SERVICES_CONTROLLER_CLI_PAYLOAD_SOURCE_H_
