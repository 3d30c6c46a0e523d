// PayloadAssembler: collects a payload that arrives in chunks and checks it against the size
// and SHA-256 the client declared in its header.
//
//   WP_ASSIGN_OR_RETURN(PayloadAssembler payload,
//                       PayloadAssembler::Start(header.size_bytes(), header.sha256(), max_bytes));
//   WP_RETURN_IF_ERROR(payload.Append(chunk));   // for every chunk, as it arrives
//   WP_ASSIGN_OR_RETURN(std::string archive, payload.Finish());
//
// Codes, and why:
//   - declared size 0 ("empty payload"), a malformed digest, bytes beyond the declared size, or a
//     stream that ends short of it: INVALID_ARGUMENT. The client broke its own header; nothing
//     about the server's state would make a retry succeed.
//   - declared size above the server's limit: RESOURCE_EXHAUSTED, at the header, before a byte
//     of payload is buffered (another replica may be configured with a larger limit).
//   - all bytes arrived but their SHA-256 differs from the declared one: DATA_LOSS. The payload
//     is corrupt (in transit or at the sender); this is distinct from a malformed request, so a
//     controller can tell "the bytes were damaged, re-send them" from "fix your request".
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_INTAKE_PAYLOAD_ASSEMBLER_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_INTAKE_PAYLOAD_ASSEMBLER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/common/sha256.h"

namespace workerpair::heavy {

class PayloadAssembler {
 public:
  // Checks the header. INVALID_ARGUMENT for size 0 or a digest that is not 64 hex characters;
  // RESOURCE_EXHAUSTED when `declared_size` exceeds `max_bytes`.
  static absl::StatusOr<PayloadAssembler> Start(std::uint64_t declared_size,
                                                std::string_view declared_sha256,
                                                std::uint64_t max_bytes);

  PayloadAssembler(PayloadAssembler&&) = default;
  PayloadAssembler& operator=(PayloadAssembler&&) = default;

  // Appends a chunk. INVALID_ARGUMENT when it would take the payload beyond the declared size
  // (nothing of it is kept), or after Finish.
  absl::Status Append(std::string_view chunk);

  // True once exactly the declared number of bytes arrived.
  bool complete() const { return received_ == declared_size_; }
  std::uint64_t received() const { return received_; }
  std::uint64_t declared_size() const { return declared_size_; }

  // Returns the payload. INVALID_ARGUMENT when fewer bytes than declared arrived; DATA_LOSS
  // when their SHA-256 is not the declared one. Call once.
  absl::StatusOr<std::string> Finish();

 private:
  PayloadAssembler(std::uint64_t declared_size, std::string declared_sha256);

  std::uint64_t declared_size_;
  std::string declared_sha256_;  // lowercase
  std::uint64_t received_ = 0;
  std::string buffer_;
  std::unique_ptr<Sha256Hasher> hasher_;
  bool finished_ = false;
};

}  // namespace workerpair::heavy

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_INTAKE_PAYLOAD_ASSEMBLER_H_
