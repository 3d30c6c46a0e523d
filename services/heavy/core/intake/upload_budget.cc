#include "services/heavy/core/intake/upload_budget.h"

#include <algorithm>
#include <utility>

#include "libs/common/error_reason.h"
#include "libs/common/str_cat.h"

namespace workerpair::heavy::intake {

PayloadStore StoreFor(std::uint64_t declared_size, const UploadLimits& limits) {
  return declared_size > limits.spill_threshold_bytes ? PayloadStore::kDisk
                                                      : PayloadStore::kMemory;
}

std::uint64_t UploadBudget::CapOf(PayloadStore store) const {
  return store == PayloadStore::kMemory ? limits_.max_memory_bytes : limits_.max_disk_bytes;
}

absl::Status UploadBudget::Busy(PayloadStore store, std::uint64_t held, std::uint64_t wanted) {
  refusals_.fetch_add(1);
  const bool memory = store == PayloadStore::kMemory;
  const std::string where = memory ? "in memory" : "on its scratch disk";
  const std::string cap = StrCat(CapOf(store), " bytes (",
                                 memory ? "max_upload_memory_mb" : "max_upload_disk_mb", ")");
  const std::string what =
      wanted == 0 ? StrCat("this replica holds ", held, " bytes of uploads ", where,
                           ", its cap of ", cap)
                  : StrCat("this replica holds ", held, " bytes of uploads ", where, "; ",
                           wanted, " more would pass its cap of ", cap);
  return WithReason(absl::ResourceExhaustedError(
                        StrCat(what, "; try another replica or again later")),
                    ErrorReason::kUploadsBusy);
}

absl::Status UploadBudget::Admit(PayloadStore store) {
  std::uint64_t held = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    held = store == PayloadStore::kMemory ? memory_held_ : disk_held_;
    if (held < CapOf(store)) return absl::OkStatus();
  }
  return Busy(store, held, 0);
}

absl::Status UploadBudget::Take(PayloadStore store, std::uint64_t bytes) {
  std::uint64_t held = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::uint64_t& counter = store == PayloadStore::kMemory ? memory_held_ : disk_held_;
    held = counter;
    if (bytes <= CapOf(store) && counter <= CapOf(store) - bytes) {
      counter += bytes;
      return absl::OkStatus();
    }
  }
  return Busy(store, held, bytes);
}

absl::StatusOr<std::uint64_t> UploadBudget::TakeUpTo(PayloadStore store, std::uint64_t minimum,
                                                     std::uint64_t preferred) {
  std::uint64_t held = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::uint64_t& counter = store == PayloadStore::kMemory ? memory_held_ : disk_held_;
    held = counter;
    const std::uint64_t room = counter >= CapOf(store) ? 0 : CapOf(store) - counter;
    if (minimum <= room) {
      const std::uint64_t taken = std::min(std::max(minimum, preferred), room);
      counter += taken;
      return taken;
    }
  }
  return Busy(store, held, minimum);
}

void UploadBudget::Give(PayloadStore store, std::uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  std::uint64_t& counter = store == PayloadStore::kMemory ? memory_held_ : disk_held_;
  counter = bytes > counter ? 0 : counter - bytes;
}

std::uint64_t UploadBudget::held(PayloadStore store) const {
  std::lock_guard<std::mutex> lock(mu_);
  return store == PayloadStore::kMemory ? memory_held_ : disk_held_;
}

BudgetHold::BudgetHold(BudgetHold&& other) noexcept
    : budget_(std::exchange(other.budget_, nullptr)),
      store_(other.store_),
      bytes_(std::exchange(other.bytes_, 0)) {}

BudgetHold& BudgetHold::operator=(BudgetHold&& other) noexcept {
  if (this != &other) {
    Reset();
    budget_ = std::exchange(other.budget_, nullptr);
    store_ = other.store_;
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

absl::Status BudgetHold::Grow(std::uint64_t bytes) {
  if (budget_ != nullptr) {
    if (absl::Status status = budget_->Take(store_, bytes); !status.ok()) return status;
  }
  bytes_ += bytes;
  return absl::OkStatus();
}

absl::StatusOr<std::uint64_t> BudgetHold::GrowTo(std::uint64_t minimum, std::uint64_t preferred) {
  if (minimum <= bytes_) return bytes_;
  if (budget_ == nullptr) {
    bytes_ = std::max(minimum, preferred);
    return bytes_;
  }
  absl::StatusOr<std::uint64_t> taken =
      budget_->TakeUpTo(store_, minimum - bytes_, std::max(minimum, preferred) - bytes_);
  if (!taken.ok()) return taken.status();
  bytes_ += *taken;
  return bytes_;
}

void BudgetHold::Reset() {
  if (budget_ != nullptr && bytes_ > 0) budget_->Give(store_, bytes_);
  bytes_ = 0;
}

}  // namespace workerpair::heavy::intake
