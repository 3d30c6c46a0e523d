#include "services/heavy/core/intake/payload_assembler.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "libs/common/error_reason.h"
#include "libs/common/sha256.h"

namespace workerpair::heavy::intake {
namespace {

constexpr std::uint64_t kMax = 1 << 20;

// A fresh directory, removed at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "assembler-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

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
  CHECK(whole->bytes() == payload);
  CHECK_FALSE(whole->on_disk());
}

TEST_CASE("An empty payload is INVALID_ARGUMENT at the header") {
  auto assembler = PayloadAssembler::Start(0, Sha256Hex(""), kMax);
  REQUIRE(assembler.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ReasonOf(assembler.status()) == ErrorReason::kPayloadInvalid);
  CHECK(assembler.status().message().find("empty payload") != absl::string_view::npos);
}

TEST_CASE("A declared size over the limit is RESOURCE_EXHAUSTED before any byte arrives") {
  auto assembler = PayloadAssembler::Start(kMax + 1, Sha256Hex("x"), kMax);
  REQUIRE(assembler.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(ReasonOf(assembler.status()) == ErrorReason::kPayloadLimit);
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
  CHECK(ReasonOf(overflow) == ErrorReason::kPayloadInvalid);
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
  CHECK(ReasonOf(result.status()) == ErrorReason::kPayloadInvalid);
  CHECK(result.status().message().find(declared) != absl::string_view::npos);
  CHECK(result.status().message().find(Sha256Hex("abcd")) != absl::string_view::npos);
  // Finish is once only; later chunks are refused.
  CHECK(assembler->Append("x").code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Bytes held count what arrived, never the declared size, and go back with the payload") {
  UploadBudget budget({.max_memory_bytes = 1 << 20, .max_disk_bytes = 1 << 20});
  const std::string payload(300 << 10, 'p');
  {
    auto assembler = PayloadAssembler::Start(payload.size(), Sha256Hex(payload), kMax,
                                             {.budget = &budget});
    REQUIRE(assembler.ok());
    CHECK(budget.held(PayloadStore::kMemory) == 0);  // declared 300 KiB, nothing arrived
    REQUIRE(assembler->Append(payload.substr(0, 1000)).ok());
    CHECK(budget.held(PayloadStore::kMemory) > 0);
    CHECK(budget.held(PayloadStore::kMemory) <= 64 << 10);  // one growth step, not 300 KiB
    REQUIRE(assembler->Append(payload.substr(1000)).ok());
    CHECK(budget.held(PayloadStore::kMemory) == payload.size());  // never past the declared
    auto whole = assembler->Finish();
    REQUIRE(whole.ok());
    CHECK(budget.held(PayloadStore::kMemory) == payload.size());  // the job holds it now
  }
  CHECK(budget.held(PayloadStore::kMemory) == 0);
}

TEST_CASE("An upload past the memory cap is UPLOADS_BUSY, and so is the next one at its header") {
  UploadBudget budget({.max_memory_bytes = 256 << 10, .max_disk_bytes = 1 << 20});
  const std::string payload(200 << 10, 'p');
  auto first = PayloadAssembler::Start(payload.size(), Sha256Hex(payload), kMax,
                                       {.budget = &budget});
  REQUIRE(first.ok());
  REQUIRE(first->Append(payload).ok());
  auto second = PayloadAssembler::Start(payload.size(), Sha256Hex(payload), kMax,
                                        {.budget = &budget});
  REQUIRE(second.ok());  // 200 KiB held, below the cap of 256 KiB: admitted
  absl::Status over = second->Append(payload);
  REQUIRE(over.code() == absl::StatusCode::kResourceExhausted);
  CHECK(ReasonOf(over) == ErrorReason::kUploadsBusy);
  CHECK(RetryElsewhere(over));
  CHECK(over.message().find("max_upload_memory_mb") != absl::string_view::npos);
  REQUIRE(second->Append(payload.substr(0, 50 << 10)).ok());  // what fits still fits
  auto third = PayloadAssembler::Start(10, Sha256Hex("0123456789"), kMax, {.budget = &budget});
  REQUIRE(third.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(ReasonOf(third.status()) == ErrorReason::kUploadsBusy);
  CHECK(budget.refusals() == 2);
  second->Finish().IgnoreError();  // truncated: freed at once
  CHECK(budget.held(PayloadStore::kMemory) == payload.size());
}

TEST_CASE("A payload above the spill threshold arrives in a scratch file and is removed with it") {
  TempDir temp;
  auto scratch = ScratchSpace::Open(temp.path() / "scratch");
  REQUIRE(scratch.ok());
  UploadBudget budget({.max_memory_bytes = 1 << 20, .max_disk_bytes = 1 << 20,
                       .spill_threshold_bytes = 1000});
  std::string payload;
  for (int i = 0; i < 5000; ++i) payload.push_back(static_cast<char>(i * 7));
  std::filesystem::path file;
  {
    auto assembler = PayloadAssembler::Start(payload.size(), Sha256Hex(payload), kMax,
                                             {.budget = &budget, .scratch = scratch->get()});
    REQUIRE(assembler.ok());
    CHECK(assembler->store() == PayloadStore::kDisk);
    CHECK((*scratch)->CountUploadFiles() == 1);
    REQUIRE(assembler->Append(payload.substr(0, 3000)).ok());
    REQUIRE(assembler->Append(payload.substr(3000)).ok());
    CHECK(budget.held(PayloadStore::kDisk) == payload.size());
    CHECK(budget.held(PayloadStore::kMemory) == 0);
    auto whole = assembler->Finish();
    REQUIRE(whole.ok());
    CHECK(whole->on_disk());
    CHECK(whole->bytes() == payload);
    file = whole->file();
    CHECK(std::filesystem::file_size(file) == payload.size());
    // A job can take the file for itself: renamed, not copied.
    const std::filesystem::path moved = (*scratch)->instance_dir() / "moved.tar.gz";
    REQUIRE(whole->MoveTo(moved).ok());
    CHECK_FALSE(std::filesystem::exists(file));
    CHECK(std::filesystem::file_size(moved) == payload.size());
    CHECK(whole->bytes().empty());
    std::filesystem::remove(moved);
  }
  CHECK((*scratch)->CountUploadFiles() == 0);
  CHECK(budget.held(PayloadStore::kDisk) == 0);

  // An upload abandoned half-way leaves no file and holds nothing.
  {
    auto assembler = PayloadAssembler::Start(payload.size(), Sha256Hex(payload), kMax,
                                             {.budget = &budget, .scratch = scratch->get()});
    REQUIRE(assembler.ok());
    REQUIRE(assembler->Append(payload.substr(0, 2000)).ok());
    CHECK((*scratch)->CountUploadFiles() == 1);
  }
  CHECK((*scratch)->CountUploadFiles() == 0);
  CHECK(budget.held(PayloadStore::kDisk) == 0);
}

TEST_CASE("A payload in memory moved to a file frees the memory and keeps the bytes") {
  TempDir temp;
  UploadBudget budget({});
  BudgetHold hold(&budget, PayloadStore::kMemory);
  REQUIRE(hold.Grow(13).ok());
  ReceivedPayload payload = ReceivedPayload::InMemory("archive bytes", std::move(hold));
  CHECK(budget.held(PayloadStore::kMemory) == 13);
  const std::filesystem::path target = temp.path() / "payload.tar.gz";
  REQUIRE(payload.MoveTo(target).ok());
  CHECK(budget.held(PayloadStore::kMemory) == 0);
  CHECK(payload.bytes().empty());
  CHECK(payload.size() == 13);
  CHECK(std::filesystem::file_size(target) == 13);
  CHECK(payload.MoveTo(target).code() == absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace workerpair::heavy::intake
