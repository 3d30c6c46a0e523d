#include "services/heavy/core/intake/payload_assembler.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>

#include "libs/common/sha256.h"

namespace workerpair::heavy {
namespace {

constexpr std::uint64_t kMax = 1 << 20;

TEST_CASE("A payload sent in chunks comes back whole when size and digest match") {
  const std::string payload = "0123456789abcdefghij";
  std::string digest = Sha256Hex(payload);
  // Either case of hex is accepted.
  std::transform(digest.begin(), digest.end(), digest.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  auto assembler = PayloadAssembler::Start(payload.size(), digest, kMax);
  REQUIRE(assembler.ok());
  REQUIRE(assembler->Append(payload.substr(0, 7)).ok());
  CHECK_FALSE(assembler->complete());
  REQUIRE(assembler->Append(payload.substr(7)).ok());
  CHECK(assembler->complete());
  CHECK(assembler->received() == payload.size());
  auto whole = assembler->Finish();
  REQUIRE(whole.ok());
  CHECK(*whole == payload);
}

TEST_CASE("An empty payload is INVALID_ARGUMENT at the header") {
  auto assembler = PayloadAssembler::Start(0, Sha256Hex(""), kMax);
  REQUIRE(assembler.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(assembler.status().message().find("empty payload") != absl::string_view::npos);
}

TEST_CASE("A declared size over the limit is RESOURCE_EXHAUSTED before any byte arrives") {
  auto assembler = PayloadAssembler::Start(kMax + 1, Sha256Hex("x"), kMax);
  REQUIRE(assembler.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(assembler.status().message().find("1048576") != absl::string_view::npos);
}

TEST_CASE("A malformed digest is INVALID_ARGUMENT") {
  CHECK(PayloadAssembler::Start(10, "abc", kMax).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(PayloadAssembler::Start(10, std::string(64, 'g'), kMax).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Bytes beyond the declared size are INVALID_ARGUMENT on the chunk that overflows") {
  auto assembler = PayloadAssembler::Start(10, Sha256Hex("0123456789"), kMax);
  REQUIRE(assembler.ok());
  REQUIRE(assembler->Append("01234").ok());
  absl::Status overflow = assembler->Append("56789X");
  REQUIRE(overflow.code() == absl::StatusCode::kInvalidArgument);
  CHECK(overflow.message().find("more bytes than the declared 10") != absl::string_view::npos);
  CHECK(assembler->received() == 5);  // the overflowing chunk was not kept
}

TEST_CASE("A stream that ends short of the declared size is INVALID_ARGUMENT") {
  auto assembler = PayloadAssembler::Start(10, Sha256Hex("0123456789"), kMax);
  REQUIRE(assembler.ok());
  REQUIRE(assembler->Append("0123").ok());
  auto result = assembler->Finish();
  REQUIRE(result.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(result.status().message().find("truncated") != absl::string_view::npos);
  CHECK(result.status().message().find("4 of the declared 10") != absl::string_view::npos);
}

TEST_CASE("A digest mismatch is DATA_LOSS and names both digests") {
  const std::string declared = Sha256Hex("something else");
  auto assembler = PayloadAssembler::Start(4, declared, kMax);
  REQUIRE(assembler.ok());
  REQUIRE(assembler->Append("abcd").ok());
  auto result = assembler->Finish();
  REQUIRE(result.status().code() == absl::StatusCode::kDataLoss);
  CHECK(result.status().message().find(declared) != absl::string_view::npos);
  CHECK(result.status().message().find(Sha256Hex("abcd")) != absl::string_view::npos);
  // Finish is once only; later chunks are refused.
  CHECK(assembler->Append("x").code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace workerpair::heavy
