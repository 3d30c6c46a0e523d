// Running a program as a subprocess without a shell: argv as a vector, a wall-clock timeout
// after which the whole process group is killed, and a cap on the output kept.
//
//   SubprocessOptions options{.cwd = ws.root, .timeout = std::chrono::seconds(30)};
//   WP_ASSIGN_OR_RETURN(SubprocessResult run,
//                       RunSubprocess({"shellcheck", "-f", "gcc", "run.sh"}, options));
//   if (run.timed_out) ...; parse(run.output);
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_LINT_SUBPROCESS_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_LINT_SUBPROCESS_H_

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace workerpair::light {

struct SubprocessOptions {
  // Working directory of the child.
  std::filesystem::path cwd;
  // Wall-clock limit; the child's process group is killed (SIGKILL) when it passes.
  std::chrono::milliseconds timeout{30000};
  // Output (stdout and stderr together) kept; the rest is read and dropped.
  std::size_t max_output_bytes = 1 << 20;
};

struct SubprocessResult {
  // Exit status when the child exited; -1 when it was killed by a signal.
  int exit_code = -1;
  // The signal that ended it, or 0.
  int term_signal = 0;
  bool timed_out = false;
  bool output_truncated = false;
  // stdout and stderr, interleaved as written.
  std::string output;
};

// The absolute path of the executable `name` on $PATH (or `name` itself when it contains '/'
// and is executable); nullopt when there is none.
std::optional<std::string> FindExecutable(std::string_view name);

// Runs argv[0] (looked up on $PATH) with `argv`, stdin from /dev/null, in its own process
// group. NOT_FOUND when argv[0] is not installed, INVALID_ARGUMENT for an empty argv, INTERNAL
// when fork/pipe fail. A non-zero exit or a timeout is a result, not an error.
absl::StatusOr<SubprocessResult> RunSubprocess(const std::vector<std::string>& argv,
                                               const SubprocessOptions& options);

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_LINT_SUBPROCESS_H_
