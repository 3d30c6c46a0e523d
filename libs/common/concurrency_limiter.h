// ConcurrencyLimiter: at most N calls at once per key (a workspace) and M in all, refusing the
// rest at once instead of queueing them, so one caller cannot take every serving thread.
//
//   ConcurrencyLimiter limiter({.max_per_key = 4, .max_total = 48});
//   WP_ASSIGN_OR_RETURN(ConcurrencyLimiter::Permit permit, limiter.TryAcquire("agent-7", "Grep"));
//   ... expensive work ...                    // the slot is released when `permit` goes away
//
// Thread-safe. Keys without running calls take no memory.
#ifndef WORKERPAIR_LIBS_COMMON_CONCURRENCY_LIMITER_H_
#define WORKERPAIR_LIBS_COMMON_CONCURRENCY_LIMITER_H_

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace workerpair {

struct ConcurrencyLimits {
  // Most calls at once for one key; 0 for no limit.
  std::size_t max_per_key = 4;
  // Most calls at once in all; 0 for no limit.
  std::size_t max_total = 0;
  // What a key is, for messages ("workspace 'agent-7' already runs 4 ...").
  std::string key_name = "workspace";
};

class ConcurrencyLimiter {
 public:
  // A held slot; releases it on destruction. Move-only; a default one holds nothing.
  class Permit {
   public:
    Permit() = default;
    Permit(Permit&& other) noexcept;
    Permit& operator=(Permit&& other) noexcept;
    ~Permit();

   private:
    friend class ConcurrencyLimiter;
    Permit(ConcurrencyLimiter* limiter, std::string key)
        : limiter_(limiter), key_(std::move(key)) {}
    void Release();

    ConcurrencyLimiter* limiter_ = nullptr;
    std::string key_;
  };

  explicit ConcurrencyLimiter(ConcurrencyLimits limits) : limits_(std::move(limits)) {}
  ConcurrencyLimiter(const ConcurrencyLimiter&) = delete;
  ConcurrencyLimiter& operator=(const ConcurrencyLimiter&) = delete;

  // A slot for `key`, or RESOURCE_EXHAUSTED naming `what`, the key and the limit when `key`
  // (or the whole process) already runs as many calls as allowed.
  absl::StatusOr<Permit> TryAcquire(std::string_view key, std::string_view what);

  // Calls running now for `key`, and in all.
  std::size_t Running(std::string_view key) const;
  std::size_t RunningTotal() const;

  const ConcurrencyLimits& limits() const { return limits_; }

 private:
  void Release(const std::string& key);

  const ConcurrencyLimits limits_;
  mutable std::mutex mutex_;
  std::map<std::string, std::size_t, std::less<>> running_;
  std::size_t total_ = 0;
};

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_COMMON_CONCURRENCY_LIMITER_H_
