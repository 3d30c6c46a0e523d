// Validation of everything a caller hands to git before libgit2 sees it: author names and
// emails, commit messages, branch and remote names, and push targets.
//
//   WP_RETURN_IF_ERROR(ValidateAuthor(request.author));        // INVALID_ARGUMENT on "Ann\n"
//   WP_RETURN_IF_ERROR(ValidateCommitMessage(request.message));
//   WP_ASSIGN_OR_RETURN(std::string url, CheckPushTarget(request.url, allowed_prefixes));
//
// Why: libgit2 writes a signature or message with a newline or NUL into the commit object
// as given (a forged header line, or a malformed object that later reads fail on), and an
// allowed-prefix test on an unnormalised push URL lets `A/../outside/bare.git` out of `A/`.
// Everything here runs before the repository is opened, so a refusal writes nothing.
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_GIT_GIT_INPUT_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_GIT_GIT_INPUT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/light/core/git/git_core.h"

namespace workerpair::light {

inline constexpr std::size_t kMaxAuthorFieldBytes = 256;
inline constexpr std::size_t kMaxCommitMessageBytes = 64u << 10;
inline constexpr std::size_t kMaxRefNameBytes = 255;
inline constexpr std::size_t kMaxRemoteUrlBytes = 4096;

// OK when name and email are 1-256 bytes, valid UTF-8, without control characters, '<' or
// '>' (which delimit the email in a commit header) and without leading or trailing spaces.
absl::Status ValidateAuthor(const GitAuthor& author);

// OK when `message` is at most 64 KiB of valid UTF-8 whose only control characters are
// newline and tab (an empty message is for the caller to judge).
absl::Status ValidateCommitMessage(std::string_view message);

// OK when `name` is a branch name git accepts (git_reference_is_valid_name on
// refs/heads/<name>: no "..", "@{", control characters, ...), at most 255 bytes, not
// starting with '-'.
absl::Status ValidateBranchName(std::string_view name);

// OK when `name` is a valid remote name (git_remote_name_is_valid), at most 255 bytes.
absl::Status ValidateRemoteName(std::string_view name);

// The URL to push to, checked against `allowed_prefixes` (empty: any URL is allowed, and it is
// returned as given). Local paths and file:// URLs are compared after normalisation with
// symlinks resolved (std::filesystem::weakly_canonical, the prefixes too), component-wise;
// other URLs (https://, ssh://, host:path) after removing "." and ".." path segments, and
// percent-encoded dots or slashes are refused. INVALID_ARGUMENT for an empty, over-long or
// control-character URL; PERMISSION_DENIED, quoting the caller's URL (never the resolved
// path), when the target lies outside every prefix. The returned URL is what the check
// approved: the normalised path for local targets.
absl::StatusOr<std::string> CheckPushTarget(std::string_view url,
                                            const std::vector<std::string>& allowed_prefixes);

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_GIT_GIT_INPUT_H_
