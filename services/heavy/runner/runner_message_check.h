// Validation of what a runner sends, before worker-heavy reads a single field of it.
//
// A runner that has touched a payload is untrusted (a scene may have exploited MuJoCo inside
// it). Its frames are size-capped by frame_io, but a well-framed message can still carry values
// the parent's code never expects: an enum number no name belongs to (proto3 enums are open, so
// parsing keeps it), a huge string, millions of repeated entries, fields of a newer schema. The
// check walks the whole message by reflection, so every field added to runner.proto or to the
// v1 event messages later is covered without anyone remembering to add a line here.
#ifndef WORKERPAIR_SERVICES_HEAVY_RUNNER_RUNNER_MESSAGE_CHECK_H_
#define WORKERPAIR_SERVICES_HEAVY_RUNNER_RUNNER_MESSAGE_CHECK_H_

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace workerpair::heavy {

struct RunnerMessageLimits {
  // A text (string, not bytes) field: names, messages, MJCF diagnostics.
  std::size_t max_string_bytes = 64 * 1024;
  // Entries of one repeated field (bytes fields such as images are capped by the frame size).
  int max_repeated = 100000;
  // Nesting of sub-messages.
  int max_depth = 16;
};

// OK, or INVALID_ARGUMENT naming the first offending field ("simulate.result.fail_reason: 999
// is no FailReason"). Unknown fields, unknown enum numbers, over-long strings and repeated
// fields, too-deep nesting are refused.
absl::Status CheckRunnerMessage(const google::protobuf::Message& message,
                                const RunnerMessageLimits& limits = {});

// The phases a runner may report (JobContext::SetWorkPhase's words).
bool IsKnownRunnerPhase(std::string_view phase);

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_RUNNER_RUNNER_MESSAGE_CHECK_H_
