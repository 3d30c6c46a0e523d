#include "services/controller/cli/command_args.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "libs/common/str_cat.h"

namespace workerpair::controller::cli {

std::optional<double> ParseDouble(const std::string& text) {
  if (text.empty()) return std::nullopt;
  // strtod rather than from_chars: it also reads "1e-3", "+2" and "inf" the way users type them.
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || std::isnan(value)) return std::nullopt;
  return value;
}

std::optional<std::uint64_t> ParseUint(const std::string& text) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

absl::StatusOr<CommandArgs> CommandArgs::Parse(const std::vector<std::string>& args,
                                               const std::vector<OptionSpec>& options) {
  CommandArgs parsed;
  bool options_ended = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    // Single-dash words stay positional: "-" (stdin) and negative numbers are arguments.
    if (options_ended || word.size() < 3 || word.compare(0, 2, "--") != 0) {
      if (!options_ended && word == "--") {
        options_ended = true;
        continue;
      }
      parsed.positional_.push_back(word);
      continue;
    }
    const std::size_t equals = word.find('=');
    const std::string name = word.substr(2, equals == std::string::npos ? std::string::npos
                                                                          : equals - 2);
    const OptionSpec* spec = nullptr;
    for (const OptionSpec& option : options) {
      if (option.name == name) spec = &option;
    }
    if (spec == nullptr) {
      return absl::InvalidArgumentError(StrCat("unknown option --", name));
    }
    if (spec->takes_value) {
      if (equals != std::string::npos) {
        parsed.values_[name].push_back(word.substr(equals + 1));
      } else if (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0) {
        parsed.values_[name].push_back(args[++i]);
      } else {
        // A following "--option" is a forgotten value; a value that starts with "--" is
        // given as --name=VALUE.
        return absl::InvalidArgumentError(
            StrCat("--", name, " needs a value (--", name, "=VALUE when it starts with '--')"));
      }
      continue;
    }
    std::string value = equals == std::string::npos ? "true" : word.substr(equals + 1);
    if (value != "true" && value != "false") {
      return absl::InvalidArgumentError(
          StrCat("--", name, " is a switch: give it alone or as --", name, "=true|false"));
    }
    parsed.values_[name] = {value};
  }
  return parsed;
}

bool CommandArgs::Bool(const std::string& name) const { return String(name, "false") == "true"; }

std::string CommandArgs::String(const std::string& name, const std::string& fallback) const {
  auto found = values_.find(name);
  if (found == values_.end() || found->second.empty()) return fallback;
  return found->second.back();
}

std::vector<std::string> CommandArgs::Strings(const std::string& name, bool split_commas) const {
  std::vector<std::string> out;
  auto found = values_.find(name);
  if (found == values_.end()) return out;
  for (const std::string& value : found->second) {
    if (!split_commas) {
      out.push_back(value);
      continue;
    }
    std::size_t start = 0;
    while (true) {
      const std::size_t comma = value.find(',', start);
      out.push_back(value.substr(start, comma == std::string::npos ? std::string::npos
                                                                    : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

absl::StatusOr<std::optional<double>> CommandArgs::OptionalDouble(const std::string& name) const {
  if (!Has(name)) return std::optional<double>();
  const std::string text = String(name);
  std::optional<double> value = ParseDouble(text);
  if (!value) return absl::InvalidArgumentError(StrCat("--", name, " must be a number, not '",
                                                       text, "'"));
  return value;
}

absl::StatusOr<double> CommandArgs::Double(const std::string& name, double fallback) const {
  auto value = OptionalDouble(name);
  if (!value.ok()) return value.status();
  return value->value_or(fallback);
}

absl::StatusOr<std::optional<std::uint64_t>> CommandArgs::OptionalUint(
    const std::string& name) const {
  if (!Has(name)) return std::optional<std::uint64_t>();
  const std::string text = String(name);
  std::optional<std::uint64_t> value = ParseUint(text);
  if (!value) {
    return absl::InvalidArgumentError(
        StrCat("--", name, " must be a whole number >= 0, not '", text, "'"));
  }
  return value;
}

absl::StatusOr<std::uint64_t> CommandArgs::Uint(const std::string& name,
                                                std::uint64_t fallback) const {
  auto value = OptionalUint(name);
  if (!value.ok()) return value.status();
  return value->value_or(fallback);
}

}  // namespace workerpair::controller::cli
