#include "services/heavy/core/intake/payload_assembler.h"

#include <algorithm>
#include <cctype>

#include "libs/common/error_reason.h"
#include "libs/common/str_cat.h"

namespace workerpair::heavy::intake {
namespace {

// The smallest step an in-memory buffer grows by, so tiny chunks do not reallocate each time.
constexpr std::uint64_t kMinGrowthBytes = 64 << 10;

absl::Status Invalid(absl::Status status) {
  return WithReason(std::move(status), ErrorReason::kPayloadInvalid);
}

}  // namespace

absl::StatusOr<PayloadAssembler> PayloadAssembler::Start(std::uint64_t declared_size,
                                                         std::string_view declared_sha256,
                                                         std::uint64_t max_bytes,
                                                         PayloadStorage storage) {
  if (declared_size == 0) {
    return Invalid(
        absl::InvalidArgumentError("empty payload: the header declares a size of 0 bytes"));
  }
  if (declared_size > max_bytes) {
    return WithReason(absl::ResourceExhaustedError(StrCat("payload of ", declared_size,
                                                          " bytes exceeds this replica's limit of ",
                                                          max_bytes, " bytes (max_payload_mb)")),
                      ErrorReason::kPayloadLimit);
  }
  if (!IsSha256Hex(declared_sha256)) {
    return Invalid(absl::InvalidArgumentError(
        StrCat("payload sha256 must be 64 hex characters, got '",
               declared_sha256.substr(0, 80), "'")));
  }
  std::string lower(declared_sha256);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });

  PayloadStore store = PayloadStore::kMemory;
  if (storage.budget != nullptr) {
    if (storage.scratch != nullptr) store = StoreFor(declared_size, storage.budget->limits());
    if (absl::Status status = storage.budget->Admit(store); !status.ok()) return status;
  }
  ScratchFile file;
  if (store == PayloadStore::kDisk) {
    absl::StatusOr<ScratchFile> created = storage.scratch->CreateUploadFile();
    if (!created.ok()) return created.status();
    file = std::move(*created);
  }
  return PayloadAssembler(declared_size, std::move(lower), store,
                          BudgetHold(storage.budget, store), std::move(file));
}

PayloadAssembler::PayloadAssembler(std::uint64_t declared_size, std::string declared_sha256,
                                   PayloadStore store, BudgetHold hold, ScratchFile file)
    : declared_size_(declared_size),
      declared_sha256_(std::move(declared_sha256)),
      store_(store),
      hold_(std::move(hold)),
      file_(std::move(file)),
      hasher_(std::make_unique<Sha256Hasher>()) {}

absl::Status PayloadAssembler::AppendToMemory(std::string_view chunk) {
  // Grow the buffer ourselves (doubling, never past the declared size) so that what the budget
  // counts is the memory really held, and a declared size is never reserved up front.
  const std::uint64_t needed = buffer_.size() + chunk.size();
  if (needed > hold_.bytes()) {
    const std::uint64_t doubled = std::max<std::uint64_t>(2 * hold_.bytes(), kMinGrowthBytes);
    const std::uint64_t target = std::min(declared_size_, std::max(needed, doubled));
    // Near the cap the hold grows only as far as it may, but at least by this chunk.
    absl::StatusOr<std::uint64_t> granted = hold_.GrowTo(needed, target);
    if (!granted.ok()) return granted.status();
    buffer_.reserve(*granted);
  }
  buffer_.append(chunk);
  return absl::OkStatus();
}

absl::Status PayloadAssembler::Append(std::string_view chunk) {
  if (finished_) {
    return Invalid(absl::InvalidArgumentError("payload chunk after the payload was complete"));
  }
  if (chunk.size() > declared_size_ - received_) {
    return Invalid(absl::InvalidArgumentError(
        StrCat("payload has more bytes than the declared ", declared_size_, ": a chunk of ",
               chunk.size(), " bytes arrived after ", received_, " bytes")));
  }
  if (store_ == PayloadStore::kMemory) {
    if (absl::Status status = AppendToMemory(chunk); !status.ok()) return status;
  } else {
    if (absl::Status status = hold_.Grow(chunk.size()); !status.ok()) return status;
    if (absl::Status status = file_.Append(chunk); !status.ok()) {
      // A full scratch disk is this replica's trouble, not the payload's.
      if (!absl::IsResourceExhausted(status)) return status;
      return WithReason(absl::ResourceExhaustedError(StrCat(
                            std::string(status.message()), "; try another replica or again later")),
                        ErrorReason::kUploadsBusy);
    }
  }
  hasher_->Update(chunk);
  received_ += chunk.size();
  return absl::OkStatus();
}

void PayloadAssembler::Discard() {
  std::string().swap(buffer_);
  file_.Remove();
  hold_.Reset();
}

absl::StatusOr<ReceivedPayload> PayloadAssembler::Finish() {
  if (finished_) return Invalid(absl::InvalidArgumentError("payload already finished"));
  finished_ = true;
  if (received_ < declared_size_) {
    Discard();
    return Invalid(absl::InvalidArgumentError(StrCat("payload truncated: the stream ended after ",
                                                     received_, " of the declared ",
                                                     declared_size_, " bytes")));
  }
  const std::string actual = hasher_->FinishHex();
  if (actual != declared_sha256_) {
    Discard();
    return Invalid(absl::DataLossError(StrCat("payload sha256 mismatch: declared ",
                                              declared_sha256_, ", received bytes hash to ",
                                              actual)));
  }
  if (store_ == PayloadStore::kMemory) {
    return ReceivedPayload::InMemory(std::move(buffer_), std::move(hold_));
  }
  return ReceivedPayload::OnDisk(std::move(file_), std::move(hold_));
}

}  // namespace workerpair::heavy::intake
