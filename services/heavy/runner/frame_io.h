// Length-prefixed protobuf frames over a stream socket: the wire of the runner protocol
// (proto/workerpair/internal/runner.proto), used by both worker-heavy and its runners.
//
// A frame is a 4-byte little-endian length followed by that many bytes of one serialised
// message. Readers pass the largest frame they accept: a longer declared length is an error and
// nothing of it is read (the peer is then treated as broken), so a runner cannot make its parent
// allocate more than the cap.
//
//   WP_RETURN_IF_ERROR(WriteFrame(fd, message));
//   FrameReader reader(fd, /*max_frame_bytes=*/32 << 20);
//   absl::StatusOr<bool> got = reader.Read(&message, absl::Now() + absl::Milliseconds(50));
//   // true: message filled; false: nothing complete yet by the deadline; error: EOF or broken.
#ifndef WORKERPAIR_SERVICES_HEAVY_RUNNER_FRAME_IO_H_
#define WORKERPAIR_SERVICES_HEAVY_RUNNER_FRAME_IO_H_

#include <cstddef>
#include <string>

#include <google/protobuf/message_lite.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace workerpair::heavy {

// Writes one frame, blocking until all of it is written. UNAVAILABLE when the peer is gone
// (EPIPE/ECONNRESET; SIGPIPE is never raised: MSG_NOSIGNAL), INTERNAL when the message cannot be
// serialised.
absl::Status WriteFrame(int fd, const google::protobuf::MessageLite& message);
// Writes bytes that already are a whole frame (see EncodeFrame), with write(2) only: safe where
// allocating is not (an allocation failure hook).
bool WriteRawFrame(int fd, const char* data, std::size_t size);
// `message` as a frame.
std::string EncodeFrame(const google::protobuf::MessageLite& message);

// Reads frames from one fd; keeps a partial frame across calls.
class FrameReader {
 public:
  FrameReader(int fd, std::size_t max_frame_bytes) : fd_(fd), max_frame_bytes_(max_frame_bytes) {}

  // Reads until one frame is complete or `deadline` passes (InfiniteFuture: block).
  // true: `message` holds the frame; false: the deadline passed first.
  // UNAVAILABLE "closed" at EOF (also mid-frame), RESOURCE_EXHAUSTED for a frame over the cap,
  // DATA_LOSS for bytes that do not parse, INTERNAL for a read error.
  absl::StatusOr<bool> Read(google::protobuf::MessageLite* message, absl::Time deadline);

 private:
  int fd_;
  std::size_t max_frame_bytes_;
  std::string buffer_;
};

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_RUNNER_FRAME_IO_H_
