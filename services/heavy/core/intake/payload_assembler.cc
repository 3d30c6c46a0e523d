#include "services/heavy/core/intake/payload_assembler.h"

#include <algorithm>
#include <cctype>

#include "libs/common/str_cat.h"

namespace workerpair::heavy {

absl::StatusOr<PayloadAssembler> PayloadAssembler::Start(std::uint64_t declared_size,
                                                         std::string_view declared_sha256,
                                                         std::uint64_t max_bytes) {
  if (declared_size == 0) {
    return absl::InvalidArgumentError("empty payload: the header declares a size of 0 bytes");
  }
  if (declared_size > max_bytes) {
    return absl::ResourceExhaustedError(StrCat("payload of ", declared_size,
                                               " bytes exceeds this replica's limit of ",
                                               max_bytes, " bytes (max_payload_mb)"));
  }
  if (!IsSha256Hex(declared_sha256)) {
    return absl::InvalidArgumentError(
        StrCat("payload sha256 must be 64 hex characters, got '",
               declared_sha256.substr(0, 80), "'"));
  }
  std::string lower(declared_sha256);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return PayloadAssembler(declared_size, std::move(lower));
}

PayloadAssembler::PayloadAssembler(std::uint64_t declared_size, std::string declared_sha256)
    : declared_size_(declared_size),
      declared_sha256_(std::move(declared_sha256)),
      hasher_(std::make_unique<Sha256Hasher>()) {
  buffer_.reserve(declared_size_);
}

absl::Status PayloadAssembler::Append(std::string_view chunk) {
  if (finished_) return absl::InvalidArgumentError("payload chunk after the payload was complete");
  if (chunk.size() > declared_size_ - received_) {
    return absl::InvalidArgumentError(
        StrCat("payload has more bytes than the declared ", declared_size_, ": a chunk of ",
               chunk.size(), " bytes arrived after ", received_, " bytes"));
  }
  hasher_->Update(chunk);
  buffer_.append(chunk);
  received_ += chunk.size();
  return absl::OkStatus();
}

absl::StatusOr<std::string> PayloadAssembler::Finish() {
  if (finished_) return absl::InvalidArgumentError("payload already finished");
  finished_ = true;
  if (received_ < declared_size_) {
    return absl::InvalidArgumentError(StrCat("payload truncated: the stream ended after ",
                                             received_, " of the declared ", declared_size_,
                                             " bytes"));
  }
  const std::string actual = hasher_->FinishHex();
  if (actual != declared_sha256_) {
    return absl::DataLossError(StrCat("payload sha256 mismatch: declared ", declared_sha256_,
                                      ", received bytes hash to ", actual));
  }
  return std::move(buffer_);
}

}  // namespace workerpair::heavy
