// The one rule for workspace names, shared by worker-light (which creates the directories) and
// anything that accepts a name before sending it there.
//
//   WP_RETURN_IF_ERROR(CheckWorkspaceName("agent-7"));   // OK
//   CheckWorkspaceName("-rf");                          // INVALID_ARGUMENT
//
// Pattern: ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ (docs/USAGE.md). A name is one path component
// that can never be taken for a command-line option ('-'), a hidden or special directory ('.',
// '..', the service's own ".deleting-*") or anything but itself in a shell or a URL.
// Header-only.
#ifndef WORKERPAIR_LIBS_COMMON_WORKSPACE_NAME_H_
#define WORKERPAIR_LIBS_COMMON_WORKSPACE_NAME_H_

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"
#include "libs/common/str_cat.h"
#include "libs/common/text_preview.h"

namespace workerpair {

inline constexpr std::string_view kWorkspaceNamePattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";
inline constexpr std::size_t kMaxWorkspaceNameBytes = 64;

// OK when `name` matches kWorkspaceNamePattern; INVALID_ARGUMENT saying what is wrong otherwise.
inline absl::Status CheckWorkspaceName(std::string_view name) {
  const auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  const auto refuse = [&](std::string_view why) {
    return absl::InvalidArgumentError(StrCat("workspace name '", TextPreview(name, 64), "' ", why,
                                             " (names match ", kWorkspaceNamePattern, ")"));
  };
  if (name.empty()) return absl::InvalidArgumentError("workspace name is empty");
  if (name.size() > kMaxWorkspaceNameBytes) {
    return refuse(StrCat("is ", name.size(), " characters, over the limit of ",
                         kMaxWorkspaceNameBytes));
  }
  if (!alnum(name.front())) return refuse("must start with a letter or a digit");
  for (char c : name) {
    if (!alnum(c) && c != '.' && c != '_' && c != '-') {
      return refuse("has a character outside [A-Za-z0-9._-]");
    }
  }
  return absl::OkStatus();
}

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_COMMON_WORKSPACE_NAME_H_
