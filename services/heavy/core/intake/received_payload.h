// ReceivedPayload: a payload that arrived whole and matched its declared SHA-256, kept in
// memory (small payloads) or in an upload file of the scratch space (large ones, spilled as
// they arrived so that they never sat in the heap). Its bytes stay counted in the UploadBudget
// until the object is destroyed, which also removes the file.
//
//   absl::StatusOr<ReceivedPayload> payload = assembler.Finish();
//   WP_ASSIGN_OR_RETURN(UnpackReport report, UnpackPayload(*payload, dir, limits));
//   // or, for a job that wants the archive as a file of its own:
//   WP_RETURN_IF_ERROR(payload->MoveTo(dir.path() / "payload.tar.gz"));
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_INTAKE_RECEIVED_PAYLOAD_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_INTAKE_RECEIVED_PAYLOAD_H_

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/heavy/core/intake/scratch.h"
#include "services/heavy/core/intake/upload_budget.h"

namespace workerpair::heavy::intake {

class ReceivedPayload {
 public:
  ReceivedPayload() = default;
  // A payload held in memory; `hold` is what it holds of the budget.
  static ReceivedPayload InMemory(std::string bytes, BudgetHold hold = {});
  // A payload in `file` (all of its bytes); the file is mapped read-only for bytes().
  // INTERNAL when it cannot be mapped.
  static absl::StatusOr<ReceivedPayload> OnDisk(ScratchFile file, BudgetHold hold = {});

  ~ReceivedPayload();
  ReceivedPayload(ReceivedPayload&& other) noexcept;
  ReceivedPayload& operator=(ReceivedPayload&& other) noexcept;
  ReceivedPayload(const ReceivedPayload&) = delete;
  ReceivedPayload& operator=(const ReceivedPayload&) = delete;

  std::uint64_t size() const { return size_; }
  bool on_disk() const { return on_disk_; }
  // The file that holds the payload; empty when it is in memory or was moved away.
  const std::filesystem::path& file() const { return file_.path(); }
  // The archive's bytes: the string, or the file's read-only mapping (page cache, not heap).
  // Empty after MoveTo.
  std::string_view bytes() const;
  // Puts the archive at `destination` (a path that must not exist yet, on the scratch
  // filesystem for a rename): a spilled payload is renamed there (its disk bytes stay counted
  // until this object goes), one in memory is written and its memory freed and given back to
  // the budget. Afterwards bytes() is empty and the file at `destination` belongs to the
  // caller. INTERNAL on a filesystem error, FAILED_PRECONDITION when already moved.
  absl::Status MoveTo(const std::filesystem::path& destination);

 private:
  void Unmap();

  std::string memory_;
  ScratchFile file_;
  const char* mapped_ = nullptr;
  std::uint64_t size_ = 0;
  bool on_disk_ = false;
  bool moved_ = false;
  BudgetHold hold_;
};

// Writes `bytes` to a new file `destination` (O_EXCL, 0600); removes it again on error.
absl::Status WriteNewPayloadFile(const std::filesystem::path& destination, std::string_view bytes);

}  // namespace workerpair::heavy::intake

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_INTAKE_RECEIVED_PAYLOAD_H_
