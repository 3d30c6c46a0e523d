// PayloadAssembler: collects a payload that arrives in chunks and checks it against the size
// and SHA-256 the client declared in its header. With a budget and a scratch space, the bytes
// it keeps are counted in the UploadBudget as they arrive (never the declared size up front),
// and a payload declared above the spill threshold is written to an upload file of the scratch
// space instead of memory.
//
//   WP_ASSIGN_OR_RETURN(PayloadAssembler payload,
//                       PayloadAssembler::Start(header.size_bytes(), header.sha256(), max_bytes,
//                                               {.budget = &budget, .scratch = scratch}));
//   WP_RETURN_IF_ERROR(payload.Append(chunk));   // for every chunk, as it arrives
//   WP_ASSIGN_OR_RETURN(ReceivedPayload archive, payload.Finish());
//
// Codes, reasons (libs/common/error_reason.h), and why:
//   - declared size 0 ("empty payload"), a malformed digest, bytes beyond the declared size, or a
//     stream that ends short of it: INVALID_ARGUMENT, PAYLOAD_INVALID. The client broke its own
//     header; nothing about the server's state would make a retry succeed.
//   - declared size above the server's limit: RESOURCE_EXHAUSTED, PAYLOAD_LIMIT, at the header,
//     before a byte of payload is buffered.
//   - the replica holds as many upload bytes as it may (memory or spill disk): RESOURCE_EXHAUSTED,
//     UPLOADS_BUSY, at the header or at the chunk that would pass the cap; the bytes kept so far
//     are given back when the assembler goes.
//   - all bytes arrived but their SHA-256 differs from the declared one: DATA_LOSS,
//     PAYLOAD_INVALID. The payload is corrupt (in transit or at the sender).
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_INTAKE_PAYLOAD_ASSEMBLER_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_INTAKE_PAYLOAD_ASSEMBLER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/common/sha256.h"
#include "services/heavy/core/intake/received_payload.h"
#include "services/heavy/core/intake/scratch.h"
#include "services/heavy/core/intake/upload_budget.h"

namespace workerpair::heavy::intake {

// Where an assembler keeps the bytes. Without a budget every payload is kept in memory,
// uncounted; without a scratch space nothing spills.
struct PayloadStorage {
  UploadBudget* budget = nullptr;
  ScratchSpace* scratch = nullptr;
};

class PayloadAssembler {
 public:
  // Checks the header. INVALID_ARGUMENT for size 0 or a digest that is not 64 hex characters;
  // RESOURCE_EXHAUSTED (PAYLOAD_LIMIT) when `declared_size` exceeds `max_bytes`;
  // RESOURCE_EXHAUSTED (UPLOADS_BUSY) when the store the payload would use is at its cap;
  // INTERNAL when an upload file cannot be created.
  static absl::StatusOr<PayloadAssembler> Start(std::uint64_t declared_size,
                                                std::string_view declared_sha256,
                                                std::uint64_t max_bytes,
                                                PayloadStorage storage = {});

  PayloadAssembler(PayloadAssembler&&) = default;
  PayloadAssembler& operator=(PayloadAssembler&&) = default;

  // Appends a chunk. INVALID_ARGUMENT when it would take the payload beyond the declared size
  // (nothing of it is kept), or after Finish; RESOURCE_EXHAUSTED (UPLOADS_BUSY) when keeping it
  // would pass the budget's cap or the scratch disk is full.
  absl::Status Append(std::string_view chunk);

  // True once exactly the declared number of bytes arrived.
  bool complete() const { return received_ == declared_size_; }
  std::uint64_t received() const { return received_; }
  std::uint64_t declared_size() const { return declared_size_; }
  // Where the bytes go, and how many of the budget they hold now.
  PayloadStore store() const { return store_; }
  std::uint64_t held_bytes() const { return hold_.bytes(); }

  // Returns the payload (with its share of the budget). INVALID_ARGUMENT when fewer bytes than
  // declared arrived; DATA_LOSS when their SHA-256 is not the declared one; in both cases the
  // bytes are freed at once. Call once.
  absl::StatusOr<ReceivedPayload> Finish();

 private:
  PayloadAssembler(std::uint64_t declared_size, std::string declared_sha256, PayloadStore store,
                   BudgetHold hold, ScratchFile file);
  absl::Status AppendToMemory(std::string_view chunk);
  void Discard();

  std::uint64_t declared_size_;
  std::string declared_sha256_;  // lowercase
  std::uint64_t received_ = 0;
  PayloadStore store_;
  BudgetHold hold_;
  std::string buffer_;  // kMemory
  ScratchFile file_;    // kDisk
  std::unique_ptr<Sha256Hasher> hasher_;
  bool finished_ = false;
};

}  // namespace workerpair::heavy::intake

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_INTAKE_PAYLOAD_ASSEMBLER_H_
