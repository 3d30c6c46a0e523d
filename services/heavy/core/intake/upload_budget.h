// UploadBudget: the payload bytes a replica holds, in memory and spilled to its scratch disk,
// for uploads in flight and for received payloads whose jobs have not finished, each against a
// cap, so that no pattern of uploads can exhaust the replica.
//
// Only bytes that arrived are counted (a declared size is never reserved): a client that
// declares 250 MB and sends nothing holds nothing. An upload is refused at its header while
// the store it would use is at its cap, and a chunk that would take the store past its cap ends
// the upload; both are RESOURCE_EXHAUSTED with reason UPLOADS_BUSY, which the retry rule sends
// elsewhere (or here, later).
//
//   UploadBudget budget({.max_memory_bytes = 256 << 20, .max_disk_bytes = 2ull << 30});
//   WP_RETURN_IF_ERROR(budget.Admit(PayloadStore::kMemory));        // at the header
//   BudgetHold hold(&budget, PayloadStore::kMemory);
//   WP_RETURN_IF_ERROR(hold.Grow(chunk.size()));                    // before keeping a chunk
//   // ~BudgetHold gives the bytes back
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_INTAKE_UPLOAD_BUDGET_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_INTAKE_UPLOAD_BUDGET_H_

#include <atomic>
#include <cstdint>
#include <mutex>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace workerpair::heavy::intake {

struct UploadLimits {
  // Payload bytes held in memory at once, all uploads and waiting payloads together.
  std::uint64_t max_memory_bytes = 256ull << 20;
  // Payload bytes held in spill files on the scratch disk at once.
  std::uint64_t max_disk_bytes = 2048ull << 20;
  // A payload whose declared size is above this is received into a file on the scratch disk
  // instead of memory.
  std::uint64_t spill_threshold_bytes = 16ull << 20;
  // An upload that receives no message for this long is ended and its bytes freed; a call
  // whose client takes no event for this long (it stopped reading) is cancelled.
  absl::Duration idle_timeout = absl::Seconds(30);
};

// Where a payload's bytes are kept while it arrives and until its job ends.
enum class PayloadStore { kMemory, kDisk };

// The store for a payload of `declared_size` bytes: disk above the spill threshold.
PayloadStore StoreFor(std::uint64_t declared_size, const UploadLimits& limits);

// Thread-safe counters of the bytes held, per store, against the caps.
class UploadBudget {
 public:
  explicit UploadBudget(UploadLimits limits) : limits_(limits) {}
  UploadBudget(const UploadBudget&) = delete;
  UploadBudget& operator=(const UploadBudget&) = delete;

  // OK when a new upload may start in `store` (it holds less than its cap); else
  // RESOURCE_EXHAUSTED with reason UPLOADS_BUSY, counted as a refusal.
  absl::Status Admit(PayloadStore store);
  // Counts `bytes` more in `store`. RESOURCE_EXHAUSTED with reason UPLOADS_BUSY (nothing taken,
  // counted as a refusal) when that would pass the cap.
  absl::Status Take(PayloadStore store, std::uint64_t bytes);
  // Counts as much of `preferred` bytes as fits under the cap, at least `minimum`; returns the
  // bytes taken. UPLOADS_BUSY as Take when not even `minimum` fits.
  absl::StatusOr<std::uint64_t> TakeUpTo(PayloadStore store, std::uint64_t minimum,
                                         std::uint64_t preferred);
  // Gives back bytes taken before.
  void Give(PayloadStore store, std::uint64_t bytes);

  std::uint64_t held(PayloadStore store) const;
  // Uploads refused or ended because a store was at its cap, since start.
  std::uint64_t refusals() const { return refusals_.load(); }
  const UploadLimits& limits() const { return limits_; }

 private:
  std::uint64_t CapOf(PayloadStore store) const;
  absl::Status Busy(PayloadStore store, std::uint64_t held, std::uint64_t wanted);

  const UploadLimits limits_;
  mutable std::mutex mu_;
  std::uint64_t memory_held_ = 0;  // guarded by mu_
  std::uint64_t disk_held_ = 0;    // guarded by mu_
  std::atomic<std::uint64_t> refusals_{0};
};

// Bytes one payload holds in one store; gives them back when destroyed. Move-only. A hold
// without a budget (default, or nullptr) counts but never refuses.
class BudgetHold {
 public:
  BudgetHold() = default;
  BudgetHold(UploadBudget* budget, PayloadStore store) : budget_(budget), store_(store) {}
  ~BudgetHold() { Reset(); }
  BudgetHold(BudgetHold&& other) noexcept;
  BudgetHold& operator=(BudgetHold&& other) noexcept;
  BudgetHold(const BudgetHold&) = delete;
  BudgetHold& operator=(const BudgetHold&) = delete;

  // Takes `bytes` more from the budget (UploadBudget::Take's errors).
  absl::Status Grow(std::uint64_t bytes);
  // Grows the hold to `preferred` bytes, or as far as the cap allows but at least to `minimum`
  // (UploadBudget::TakeUpTo). Returns the hold's new size.
  absl::StatusOr<std::uint64_t> GrowTo(std::uint64_t minimum, std::uint64_t preferred);
  // Gives everything back now.
  void Reset();
  std::uint64_t bytes() const { return bytes_; }
  PayloadStore store() const { return store_; }

 private:
  UploadBudget* budget_ = nullptr;
  PayloadStore store_ = PayloadStore::kMemory;
  std::uint64_t bytes_ = 0;
};

}  // namespace workerpair::heavy::intake

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_INTAKE_UPLOAD_BUDGET_H_
