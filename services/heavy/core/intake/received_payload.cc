#include "services/heavy/core/intake/received_payload.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <utility>

#include "libs/common/str_cat.h"

namespace workerpair::heavy::intake {

ReceivedPayload ReceivedPayload::InMemory(std::string bytes, BudgetHold hold) {
  ReceivedPayload payload;
  payload.size_ = bytes.size();
  payload.memory_ = std::move(bytes);
  payload.hold_ = std::move(hold);
  return payload;
}

absl::StatusOr<ReceivedPayload> ReceivedPayload::OnDisk(ScratchFile file, BudgetHold hold) {
  ReceivedPayload payload;
  payload.on_disk_ = true;
  payload.size_ = file.size();
  if (payload.size_ > 0) {
    void* mapped = ::mmap(nullptr, payload.size_, PROT_READ, MAP_PRIVATE, file.fd(), 0);
    if (mapped == MAP_FAILED) {
      return absl::InternalError(
          StrCat("cannot map the received payload file (errno ", errno, ")"));
    }
    payload.mapped_ = static_cast<const char*>(mapped);
  }
  payload.file_ = std::move(file);
  payload.hold_ = std::move(hold);
  return payload;
}

ReceivedPayload::~ReceivedPayload() { Unmap(); }

ReceivedPayload::ReceivedPayload(ReceivedPayload&& other) noexcept
    : memory_(std::move(other.memory_)),
      file_(std::move(other.file_)),
      mapped_(std::exchange(other.mapped_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      on_disk_(other.on_disk_),
      moved_(other.moved_),
      hold_(std::move(other.hold_)) {}

ReceivedPayload& ReceivedPayload::operator=(ReceivedPayload&& other) noexcept {
  if (this != &other) {
    Unmap();
    memory_ = std::move(other.memory_);
    file_ = std::move(other.file_);
    mapped_ = std::exchange(other.mapped_, nullptr);
    size_ = std::exchange(other.size_, 0);
    on_disk_ = other.on_disk_;
    moved_ = other.moved_;
    hold_ = std::move(other.hold_);
  }
  return *this;
}

void ReceivedPayload::Unmap() {
  if (mapped_ != nullptr) ::munmap(const_cast<char*>(mapped_), size_);
  mapped_ = nullptr;
}

std::string_view ReceivedPayload::bytes() const {
  if (moved_) return {};
  if (on_disk_) return mapped_ == nullptr ? std::string_view() : std::string_view(mapped_, size_);
  return memory_;
}

absl::Status WriteNewPayloadFile(const std::filesystem::path& destination, std::string_view bytes) {
  const int fd =
      ::open(destination.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::InternalError(StrCat("cannot create the payload file (errno ", errno, ")"));
  }
  std::string_view rest = bytes;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      ::unlink(destination.c_str());
      return absl::InternalError(StrCat("cannot write the payload file (errno ", error, ")"));
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  ::close(fd);
  return absl::OkStatus();
}

absl::Status ReceivedPayload::MoveTo(const std::filesystem::path& destination) {
  if (moved_) return absl::FailedPreconditionError("the payload was already moved");
  if (on_disk_) {
    if (::rename(file_.path().c_str(), destination.c_str()) != 0) {
      // Another filesystem: copy from the mapping, then drop the spill file.
      if (errno != EXDEV) {
        return absl::InternalError(
            StrCat("cannot move the received payload (errno ", errno, ")"));
      }
      if (absl::Status status = WriteNewPayloadFile(destination, bytes()); !status.ok()) return status;
      file_.Remove();
    } else {
      file_.Release();
    }
    Unmap();
    moved_ = true;
    return absl::OkStatus();
  }
  if (absl::Status status = WriteNewPayloadFile(destination, memory_); !status.ok()) return status;
  std::string().swap(memory_);
  hold_.Reset();  // the memory is free now; the file is the job's, counted by its own limits
  moved_ = true;
  return absl::OkStatus();
}

}  // namespace workerpair::heavy::intake
