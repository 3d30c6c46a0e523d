#include "services/heavy/event_session.h"

namespace workerpair::heavy {

grpc::Status UploadIdleStatus(absl::Duration timeout) {
  // DEADLINE_EXCEEDED: the upload's own time limit passed. No reason is attached: a stalled
  // sender is neither this replica's fault nor the payload's.
  return grpc::Status(
      grpc::StatusCode::DEADLINE_EXCEEDED,
      StrCat("no upload message for ", absl::FormatDuration(timeout),
             " (upload_idle_timeout_s): the upload was ended and its bytes freed"));
}

}  // namespace workerpair::heavy
