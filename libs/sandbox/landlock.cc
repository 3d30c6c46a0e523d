// Landlock rulesets built from a SandboxPolicy, using only the access rights the running ABI
// knows (a newer right on an older kernel makes landlock_create_ruleset fail with EINVAL).
#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "libs/common/str_cat.h"
#include "libs/sandbox/internal.h"

namespace workerpair::sandbox::internal {
namespace {

// Rights newer than Debian 12's <linux/landlock.h> (kernel 6.1, ABI 2).
constexpr std::uint64_t kTruncate = 1ULL << 14;  // ABI 3
constexpr std::uint64_t kIoctlDev = 1ULL << 15;  // ABI 5
constexpr std::uint64_t kNetBindTcp = 1ULL << 0;     // ABI 4
constexpr std::uint64_t kNetConnectTcp = 1ULL << 1;  // ABI 4
constexpr std::uint64_t kScopeAbstractUnixSocket = 1ULL << 0;  // ABI 6
constexpr std::uint64_t kScopeSignal = 1ULL << 1;              // ABI 6

// struct landlock_ruleset_attr as of ABI 6; the kernel takes the prefix we pass.
struct RulesetAttr {
  std::uint64_t handled_access_fs;
  std::uint64_t handled_access_net;
  std::uint64_t scoped;
};

constexpr std::uint64_t kRead = LANDLOCK_ACCESS_FS_READ_FILE;
constexpr std::uint64_t kWrite = LANDLOCK_ACCESS_FS_WRITE_FILE;
constexpr std::uint64_t kExec = LANDLOCK_ACCESS_FS_EXECUTE;
constexpr std::uint64_t kReadDir = LANDLOCK_ACCESS_FS_READ_DIR;

// Every filesystem right ABI `abi` handles.
std::uint64_t HandledFs(int abi) {
  std::uint64_t rights = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;  // ABI 1: bits 0..12
  if (abi >= 2) rights |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) rights |= kTruncate;
  if (abi >= 5) rights |= kIoctlDev;
  return rights;
}

// Rights that apply to a file (not a directory): a rule for a file may hold only these.
constexpr std::uint64_t kFileRights = kExec | kWrite | kRead | kTruncate | kIoctlDev;

int CreateRuleset(const RulesetAttr* attr, std::size_t size, std::uint32_t flags) {
  return static_cast<int>(::syscall(SYS_landlock_create_ruleset, attr, size, flags));
}

// Adds "beneath `path`, `rights`" (narrowed to a file's rights for a file). A path that does
// not exist is skipped.
absl::Status AddPathRule(int ruleset_fd, const std::filesystem::path& path, std::uint64_t rights,
                         std::uint64_t handled) {
  UniqueFd fd(::open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT || errno == ENOTDIR) return absl::OkStatus();
    return absl::InternalError(StrCat("sandbox: cannot open ", path.string(), " for a Landlock rule: ",
                                      ErrnoText(errno)));
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    return absl::InternalError(StrCat("sandbox: cannot stat ", path.string(), ": ", ErrnoText(errno)));
  }
  if (!S_ISDIR(st.st_mode)) rights &= kFileRights;
  landlock_path_beneath_attr rule = {};
  rule.allowed_access = rights & handled;
  rule.parent_fd = fd.get();
  if (rule.allowed_access == 0) return absl::OkStatus();
  if (::syscall(SYS_landlock_add_rule, ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0) {
    return absl::InternalError(StrCat("sandbox: Landlock rule for ", path.string(), " refused: ",
                                      ErrnoText(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

int LandlockAbi() {
  const int abi = CreateRuleset(nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi > 0 ? abi : 0;
}

absl::StatusOr<UniqueFd> BuildLandlockRuleset(const SandboxPolicy& policy, int abi) {
  RulesetAttr attr = {};
  attr.handled_access_fs = HandledFs(abi);
  std::size_t size = sizeof(attr.handled_access_fs);
  if (abi >= 4) {
    // No port rules: with the network denied, no TCP bind or connect at all.
    if (policy.deny_network) attr.handled_access_net = kNetBindTcp | kNetConnectTcp;
    size = offsetof(RulesetAttr, scoped);
  }
  if (abi >= 6) {
    // No abstract unix sockets or signals to processes outside the sandbox.
    attr.scoped = kScopeAbstractUnixSocket | kScopeSignal;
    size = sizeof(attr);
  }
  UniqueFd ruleset(CreateRuleset(&attr, size, 0));
  if (!ruleset.valid()) {
    return absl::InternalError(
        StrCat("sandbox: landlock_create_ruleset (abi ", abi, ") failed: ", ErrnoText(errno)));
  }
  const std::uint64_t handled = attr.handled_access_fs;
  const std::uint64_t read_only = kRead | kReadDir | kExec;
  const std::uint64_t device = kRead | kWrite | kReadDir | kTruncate | kIoctlDev;
  for (const std::filesystem::path& path : policy.read_only) {
    if (absl::Status s = AddPathRule(ruleset.get(), path, read_only, handled); !s.ok()) return s;
  }
  for (const std::filesystem::path& path : policy.devices) {
    if (absl::Status s = AddPathRule(ruleset.get(), path, device, handled); !s.ok()) return s;
  }
  for (const std::filesystem::path& path : policy.read_write) {
    if (absl::Status s = AddPathRule(ruleset.get(), path, handled, handled); !s.ok()) return s;
  }
  return ruleset;
}

int RestrictSelf(int ruleset_fd) {
  return ::syscall(SYS_landlock_restrict_self, ruleset_fd, 0U) == 0 ? 0 : errno;
}

}  // namespace workerpair::sandbox::internal
