// SHA-256 digests as lowercase hex, through OpenSSL (already linked by gRPC on Debian).
//
//   std::string hex = Sha256Hex(bytes);
//   Sha256Hasher h; h.Update(chunk1); h.Update(chunk2); std::string hex = h.FinishHex();
#ifndef WORKERPAIR_LIBS_COMMON_SHA256_H_
#define WORKERPAIR_LIBS_COMMON_SHA256_H_

#include <memory>
#include <string>
#include <string_view>

namespace workerpair {

// Returns the SHA-256 of `data` as 64 lowercase hex characters.
std::string Sha256Hex(std::string_view data);

// Incremental SHA-256 for data that arrives in chunks (uploads, payload streams).
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(std::string_view data);
  // Returns the digest of everything passed to Update; the hasher is then reset.
  std::string FinishHex();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// True when `hex` has the shape of a SHA-256 hex digest (64 hex characters, any case).
bool IsSha256Hex(std::string_view hex);

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_COMMON_SHA256_H_
