// CommandArgs: the arguments of one `controller` subcommand, split into positional arguments and
// the subcommand's own --options.
//
// Subcommand options are not global flags: each command declares the options it takes, so two
// commands (or two files) never collide on a flag name, and an option given to the wrong command
// is a usage error instead of being silently ignored. Global flags (--json, --light, ...) are
// taken out first by ParseGlobalFlags and never reach here (see global_flags.h).
//
//   auto parsed = CommandArgs::Parse(args, {{"recursive"}, {"glob", kTakesValue}});
//   if (!parsed.ok()) return context.Usage(std::string(parsed.status().message()));
//   bool recursive = parsed->Bool("recursive");
//   std::string glob = parsed->String("glob");
//   auto runs = parsed->Uint("runs", 8);   // INVALID_ARGUMENT "--runs must be ..."
#ifndef WORKERPAIR_SERVICES_CONTROLLER_CLI_COMMAND_ARGS_H_
#define WORKERPAIR_SERVICES_CONTROLLER_CLI_COMMAND_ARGS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace workerpair::controller::cli {

inline constexpr bool kTakesValue = true;

// One option a command accepts: --name (a switch) or --name=VALUE / --name VALUE.
struct OptionSpec {
  std::string name;
  bool takes_value = false;
};

class CommandArgs {
 public:
  // Splits `args` (the words after the command, e.g. {"WS", "DIR", "--recursive"}). Options may
  // come anywhere; "--" ends them (every later word is positional, even "-x"). A switch also
  // takes --name=true/false. A value option may be repeated (see Strings()).
  // INVALID_ARGUMENT naming the option: unknown, a value option without a value, a switch with
  // a value other than true/false.
  static absl::StatusOr<CommandArgs> Parse(const std::vector<std::string>& args,
                                           const std::vector<OptionSpec>& options);

  const std::vector<std::string>& positional() const { return positional_; }
  std::size_t size() const { return positional_.size(); }
  const std::string& operator[](std::size_t index) const { return positional_.at(index); }

  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  // A switch: true when given (and not =false).
  bool Bool(const std::string& name) const;
  // The last value of a value option, or `fallback` when absent.
  std::string String(const std::string& name, const std::string& fallback = "") const;
  // Every value of a repeated option, in order; a value holding commas is split at them when
  // `split_commas` ("--elevations=-15,-35" == "--elevations=-15 --elevations=-35").
  std::vector<std::string> Strings(const std::string& name, bool split_commas = false) const;

  // Numbers: `fallback` when absent; INVALID_ARGUMENT "--NAME must be ..." when malformed.
  absl::StatusOr<double> Double(const std::string& name, double fallback) const;
  absl::StatusOr<std::optional<double>> OptionalDouble(const std::string& name) const;
  absl::StatusOr<std::uint64_t> Uint(const std::string& name, std::uint64_t fallback) const;
  absl::StatusOr<std::optional<std::uint64_t>> OptionalUint(const std::string& name) const;

 private:
  std::vector<std::string> positional_;
  std::map<std::string, std::vector<std::string>> values_;
};

// Parses a decimal number (the whole of `text`); nullopt when it is not one.
std::optional<double> ParseDouble(const std::string& text);
std::optional<std::uint64_t> ParseUint(const std::string& text);

}  // namespace workerpair::controller::cli

#endif  // WORKERPAIR_SERVICES_CONTROLLER_CLI_COMMAND_ARGS_H_
