// The `controller` help text: every command, its options, the global flags and exit codes.
//
//   std::cout << UsageText();          // controller --help
//   std::cerr << UsageFor("git");      // the synopsis lines of `git ...` only
#ifndef WORKERPAIR_SERVICES_CONTROLLER_CLI_USAGE_H_
#define WORKERPAIR_SERVICES_CONTROLLER_CLI_USAGE_H_

#include <string>
#include <string_view>

namespace workerpair::controller::cli {

// The whole help text.
std::string_view UsageText();

// The lines of UsageText() that describe `command` (the first word of a synopsis line) with
// their indented continuation lines; the whole text when no line matches.
std::string UsageFor(std::string_view command);

}  // namespace workerpair::controller::cli

#endif  // WORKERPAIR_SERVICES_CONTROLLER_CLI_USAGE_H_
