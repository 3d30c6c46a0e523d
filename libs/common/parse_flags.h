// ParseFlagsHelpOk: absl::ParseCommandLine, except that --help (and --helpfull, --helpshort,
// --help=SUBSTRING, --helppackage) ends the process with exit code 0, as asking for help is not
// a failure. Debian's abseil (20220623) exits 1 after printing help.
//
//   int main(int argc, char** argv) {
//     absl::SetProgramUsageMessage("worker-heavy-runner: ...");
//     std::vector<char*> positional = workerpair::ParseFlagsHelpOk(argc, argv);
//
// Header-only so that binaries that link only absl::flags_parse (worker-heavy-runner) can use it.
#ifndef WORKERPAIR_LIBS_COMMON_PARSE_FLAGS_H_
#define WORKERPAIR_LIBS_COMMON_PARSE_FLAGS_H_

#include <cstdlib>
#include <iostream>
#include <vector>

#include "absl/flags/internal/parse.h"
#include "absl/flags/internal/usage.h"
#include "absl/flags/usage.h"

namespace workerpair {

inline std::vector<char*> ParseFlagsHelpOk(int argc, char** argv) {
  namespace fi = absl::flags_internal;
  // Parse without acting on the usage flags (bad flags still end the process, as before), then
  // act on them here: HandleUsageFlags prints the help and returns 1 (help shown), 0
  // (--version, --only_check_args) or -1 (none given).
  std::vector<char*> positional =
      fi::ParseCommandLineImpl(argc, argv, fi::ArgvListAction::kRemoveParsedArgs,
                               fi::UsageFlagsAction::kIgnoreUsage,
                               fi::OnUndefinedFlag::kAbortIfUndefined);
  const int usage = fi::HandleUsageFlags(std::cout, absl::ProgramUsageMessage());
  if (usage != -1) {
    std::cout.flush();
    std::exit(0);
  }
  return positional;
}

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_COMMON_PARSE_FLAGS_H_
