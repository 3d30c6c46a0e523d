#include "libs/common/concurrency_limiter.h"

#include "absl/status/status.h"
#include "libs/common/str_cat.h"
#include "libs/common/text_preview.h"

namespace workerpair {

ConcurrencyLimiter::Permit::Permit(Permit&& other) noexcept
    : limiter_(other.limiter_), key_(std::move(other.key_)) {
  other.limiter_ = nullptr;
}

ConcurrencyLimiter::Permit& ConcurrencyLimiter::Permit::operator=(Permit&& other) noexcept {
  if (this != &other) {
    Release();
    limiter_ = other.limiter_;
    key_ = std::move(other.key_);
    other.limiter_ = nullptr;
  }
  return *this;
}

ConcurrencyLimiter::Permit::~Permit() { Release(); }

void ConcurrencyLimiter::Permit::Release() {
  if (limiter_ != nullptr) limiter_->Release(key_);
  limiter_ = nullptr;
}

absl::StatusOr<ConcurrencyLimiter::Permit> ConcurrencyLimiter::TryAcquire(std::string_view key,
                                                                          std::string_view what) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = running_.find(key);
  const std::size_t for_key = it == running_.end() ? 0 : it->second;
  if (limits_.max_per_key > 0 && for_key >= limits_.max_per_key) {
    return absl::ResourceExhaustedError(
        StrCat(what, " refused: ", limits_.key_name, " '", TextPreview(key, 64),
               "' already runs ", for_key, " expensive calls, the limit per ", limits_.key_name,
               "; retry when one has finished"));
  }
  if (limits_.max_total > 0 && total_ >= limits_.max_total) {
    return absl::ResourceExhaustedError(
        StrCat(what, " refused: the service already runs ", total_,
               " expensive calls, its limit; retry shortly"));
  }
  if (it == running_.end()) it = running_.emplace(std::string(key), 0).first;
  ++it->second;
  ++total_;
  return Permit(this, std::string(key));
}

void ConcurrencyLimiter::Release(const std::string& key) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = running_.find(key);
  if (it == running_.end()) return;
  if (--it->second == 0) running_.erase(it);
  --total_;
}

std::size_t ConcurrencyLimiter::Running(std::string_view key) const {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = running_.find(key);
  return it == running_.end() ? 0 : it->second;
}

std::size_t ConcurrencyLimiter::RunningTotal() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return total_;
}

}  // namespace workerpair
