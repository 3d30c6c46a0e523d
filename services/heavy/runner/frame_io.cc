#include "services/heavy/runner/frame_io.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "libs/common/str_cat.h"

namespace workerpair::heavy {
namespace {

std::string LengthPrefix(std::size_t size) {
  const auto n = static_cast<std::uint32_t>(size);
  std::string prefix(4, '\0');
  for (int i = 0; i < 4; ++i) prefix[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return prefix;
}

}  // namespace

std::string EncodeFrame(const google::protobuf::MessageLite& message) {
  std::string body;
  message.SerializeToString(&body);
  return LengthPrefix(body.size()) + body;
}

bool WriteRawFrame(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

absl::Status WriteFrame(int fd, const google::protobuf::MessageLite& message) {
  std::string body;
  if (!message.SerializeToString(&body)) return absl::InternalError("cannot serialise a frame");
  if (body.size() > 0xffffffffu) return absl::InternalError("frame too large");
  const std::string prefix = LengthPrefix(body.size());
  if (!WriteRawFrame(fd, prefix.data(), prefix.size()) ||
      !WriteRawFrame(fd, body.data(), body.size())) {
    return absl::UnavailableError(StrCat("the peer is gone: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> FrameReader::Read(google::protobuf::MessageLite* message,
                                       absl::Time deadline) {
  while (true) {
    if (buffer_.size() >= 4) {
      std::uint32_t n = 0;
      for (int i = 0; i < 4; ++i) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(buffer_[i])) << (8 * i);
      if (n > max_frame_bytes_) {
        return absl::ResourceExhaustedError(
            StrCat("a frame of ", n, " bytes is over the cap of ", max_frame_bytes_));
      }
      if (buffer_.size() >= 4 + static_cast<std::size_t>(n)) {
        const bool parsed = message->ParseFromArray(buffer_.data() + 4, static_cast<int>(n));
        buffer_.erase(0, 4 + static_cast<std::size_t>(n));
        if (!parsed) return absl::DataLossError("a frame does not parse");
        return true;
      }
    }
    int timeout_ms = -1;
    if (deadline != absl::InfiniteFuture()) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return false;
      timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
    }
    pollfd pfd{fd_, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(StrCat("poll: ", std::strerror(errno)));
    }
    if (ready == 0) return false;
    char chunk[64 << 10];
    const ssize_t got = ::read(fd_, chunk, sizeof(chunk));
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == ECONNRESET) return absl::UnavailableError("closed");
      return absl::InternalError(StrCat("read: ", std::strerror(errno)));
    }
    if (got == 0) return absl::UnavailableError("closed");
    buffer_.append(chunk, static_cast<std::size_t>(got));
  }
}

}  // namespace workerpair::heavy
