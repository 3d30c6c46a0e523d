// Errors that name a file outside the payload.
//
// A runner's sandbox (Landlock) refuses every file outside its own directory, so a scene that
// points MuJoCo at one (through <include>, a mesh, texture, hfield or skin file, or
// meshdir/texturedir/assetdir, however the XML is written) fails to compile with a message that
// names that file ("could not open file '/etc/passwd'", "XML Error ... /etc/hostname", ...).
// Passing such a message on would tell the caller which host files exist or what they contain,
// so every error that names a path outside the payload becomes one fixed PERMISSION_DENIED
// SANDBOX_DENIED message, the same for a file that exists and one that does not. The
// reference scan in scene_loader.cc stays the early, friendly error; this is the backstop
// behind the sandbox, which is the guarantee.
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_JOB_OUTSIDE_REFERENCE_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_JOB_OUTSIDE_REFERENCE_H_

#include <filesystem>
#include <string_view>

#include "absl/status/status.h"

namespace workerpair::heavy::job {

// The message every outside reference gets.
inline constexpr std::string_view kOutsideReferenceMessage =
    "the scene refers to a file outside its payload; only files inside the payload can be read";

// True when `message` names a path (a quoted name or a word with a '/') that, resolved
// against `payload_root` (messages have the root stripped, so names are payload-relative),
// leaves `payload_root`: absolute paths elsewhere, `..` climbing out.
bool NamesPathOutside(std::string_view message, const std::filesystem::path& payload_root);

// `status` unchanged, or PERMISSION_DENIED SANDBOX_DENIED kOutsideReferenceMessage when its
// message names a path outside `payload_root`.
absl::Status MaskOutsideReferences(absl::Status status,
                                   const std::filesystem::path& payload_root);

}  // namespace workerpair::heavy::job

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_JOB_OUTSIDE_REFERENCE_H_
