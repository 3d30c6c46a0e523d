#include "services/controller/cli/global_flags.h"

#include <cstdlib>
#include <fstream>

#include "libs/common/request_trace.h"
#include "libs/common/str_cat.h"
#include "services/controller/cli/command_args.h"

namespace workerpair::controller::cli {
namespace {

// Raw values as given (environment, then command line); converted once all are in, so the
// last --flag wins and a bad environment value overridden on the command line is no error.
struct RawFlags {
  std::optional<std::string> light_statefulset, light_replicas, light_service;
  std::optional<std::string> json, quiet, light, heavy, tls_ca, tls_cert, tls_key,
      tls_server_name, auth_token_file, deadline_s, attempts, wait_s, resolve_interval_s,
      request_id, log_level, log_json;
};

struct FlagDef {
  const char* name;
  const char* env;  // nullptr: no environment fallback
  bool is_bool;
  std::optional<std::string> RawFlags::*field;
};

constexpr FlagDef kFlags[] = {
    {"json", nullptr, true, &RawFlags::json},
    {"quiet", nullptr, true, &RawFlags::quiet},
    {"light", "WORKERPAIR_LIGHT", false, &RawFlags::light},
    {"light_statefulset", "WORKERPAIR_LIGHT_STATEFULSET", false, &RawFlags::light_statefulset},
    {"light_replicas", "WORKERPAIR_LIGHT_REPLICAS", false, &RawFlags::light_replicas},
    {"light_service", "WORKERPAIR_LIGHT_SERVICE", false, &RawFlags::light_service},
    {"heavy", "WORKERPAIR_HEAVY", false, &RawFlags::heavy},
    {"tls_ca", "WORKERPAIR_TLS_CA", false, &RawFlags::tls_ca},
    {"tls_cert", "WORKERPAIR_TLS_CERT", false, &RawFlags::tls_cert},
    {"tls_key", "WORKERPAIR_TLS_KEY", false, &RawFlags::tls_key},
    {"tls_server_name", "WORKERPAIR_TLS_SERVER_NAME", false, &RawFlags::tls_server_name},
    {"auth_token_file", "WORKERPAIR_AUTH_TOKEN_FILE", false, &RawFlags::auth_token_file},
    {"deadline_s", nullptr, false, &RawFlags::deadline_s},
    {"attempts", nullptr, false, &RawFlags::attempts},
    {"wait_s", "WORKERPAIR_WAIT_S", false, &RawFlags::wait_s},
    {"resolve_interval_s", "WORKERPAIR_RESOLVE_INTERVAL_S", false, &RawFlags::resolve_interval_s},
    {"request_id", "WORKERPAIR_REQUEST_ID", false, &RawFlags::request_id},
    {"log_level", nullptr, false, &RawFlags::log_level},
    {"log_json", nullptr, true, &RawFlags::log_json},
};

const FlagDef* FindFlag(const std::string& name) {
  for (const FlagDef& flag : kFlags) {
    if (name == flag.name) return &flag;
  }
  return nullptr;
}

absl::StatusOr<bool> ParseBool(const std::string& name, const std::string& value) {
  if (value == "true" || value == "1") return true;
  if (value == "false" || value == "0") return false;
  return absl::InvalidArgumentError(StrCat("--", name, " takes true or false, not '", value, "'"));
}

absl::Status Convert(const RawFlags& raw, GlobalOptions& options) {
  if (raw.json) {
    auto value = ParseBool("json", *raw.json);
    if (!value.ok()) return value.status();
    options.json = *value;
  }
  if (raw.quiet) {
    auto value = ParseBool("quiet", *raw.quiet);
    if (!value.ok()) return value.status();
    options.quiet = *value;
  }
  if (raw.request_id) {
    if (!ValidRequestId(*raw.request_id)) {
      return absl::InvalidArgumentError(
          StrCat("--request_id must be 1-128 characters of [A-Za-z0-9._:/-], not '",
                 *raw.request_id, "'"));
    }
    options.request_id = *raw.request_id;
  }
  if (raw.log_level) options.log_level = *raw.log_level;
  if (raw.log_json) {
    auto value = ParseBool("log_json", *raw.log_json);
    if (!value.ok()) return value.status();
    options.log_json = *value;
  }
  if (raw.light && raw.light_statefulset) {
    return absl::InvalidArgumentError(
        "give the worker-light pods as --light=A[,B...] or as --light_statefulset, not both");
  }
  if (raw.light) {
    if (raw.light->empty()) return absl::InvalidArgumentError("--light is empty");
    auto targets = ParseLightTargets(*raw.light);
    if (!targets.ok()) return targets.status();
    options.light_targets = *std::move(targets);
    options.light = options.light_targets.front().address;
    options.light_set = true;
  }
  if (raw.light_statefulset) {
    std::optional<std::uint64_t> replicas =
        raw.light_replicas ? ParseUint(*raw.light_replicas) : std::nullopt;
    if (!replicas || *replicas > 1000) {
      return absl::InvalidArgumentError(
          "--light_statefulset needs --light_replicas=N (the StatefulSet's replicas, 1-1000)");
    }
    auto targets = StatefulSetTargets(*raw.light_statefulset, static_cast<int>(*replicas),
                                      raw.light_service.value_or(""));
    if (!targets.ok()) return targets.status();
    options.light_targets = *std::move(targets);
    options.light = options.light_targets.front().address;
    options.light_set = true;
  }
  if (raw.heavy) {
    auto targets = ParseHeavyTargets(*raw.heavy);
    if (!targets.ok()) return targets.status();
    options.heavy_targets = *std::move(targets);
    options.heavy_set = true;
  }
  if (raw.tls_ca) options.security.ca_file = *raw.tls_ca;
  if (raw.tls_cert) options.security.cert_file = *raw.tls_cert;
  if (raw.tls_key) options.security.key_file = *raw.tls_key;
  if (raw.tls_server_name) options.security.server_name = *raw.tls_server_name;
  if (raw.deadline_s) {
    std::optional<double> seconds = ParseDouble(*raw.deadline_s);
    if (!seconds || *seconds < 0 || *seconds > 86400) {
      return absl::InvalidArgumentError(StrCat(
          "--deadline_s must be a number of seconds in [0, 86400], not '", *raw.deadline_s, "'"));
    }
    options.deadline = absl::Seconds(*seconds);
  }
  if (raw.wait_s) {
    std::optional<double> seconds = ParseDouble(*raw.wait_s);
    if (!seconds || *seconds <= 0 || *seconds > 7 * 86400) {
      return absl::InvalidArgumentError(StrCat(
          "--wait_s must be a number of seconds in (0, 604800], not '", *raw.wait_s, "'"));
    }
    options.wait = absl::Seconds(*seconds);
  }
  if (raw.resolve_interval_s) {
    std::optional<double> seconds = ParseDouble(*raw.resolve_interval_s);
    if (!seconds || *seconds < 0.1 || *seconds > 86400) {
      return absl::InvalidArgumentError(
          StrCat("--resolve_interval_s must be a number of seconds in [0.1, 86400], not '",
                 *raw.resolve_interval_s, "'"));
    }
    options.resolve_interval = absl::Seconds(*seconds);
  }
  if (raw.attempts) {
    std::optional<std::uint64_t> attempts = ParseUint(*raw.attempts);
    if (!attempts || *attempts < 1 || *attempts > 100) {
      return absl::InvalidArgumentError(
          StrCat("--attempts must be a whole number in [1, 100], not '", *raw.attempts, "'"));
    }
    options.attempts = static_cast<int>(*attempts);
  }
  if (raw.auth_token_file && !raw.auth_token_file->empty()) {
    std::ifstream in(*raw.auth_token_file);
    if (!in || !std::getline(in, options.security.token) || options.security.token.empty()) {
      return absl::NotFoundError(
          StrCat("cannot read a token from '", *raw.auth_token_file, "' (--auth_token_file)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::optional<std::string> GetEnvironment(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

absl::StatusOr<std::vector<std::string>> ParseHeavyTargets(const std::string& value) {
  std::vector<std::string> targets;
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t comma = value.find(',', start);
    if (comma == std::string::npos) comma = value.size();
    std::string target = value.substr(start, comma - start);
    while (!target.empty() && target.front() == ' ') target.erase(target.begin());
    while (!target.empty() && target.back() == ' ') target.pop_back();
    if (!target.empty()) targets.push_back(std::move(target));
    start = comma + 1;
  }
  if (targets.empty()) return absl::InvalidArgumentError("--heavy names no replica");
  for (const std::string& target : targets) {
    // A dns:/// target already is the whole pool (round-robin over its addresses).
    if (target.rfind("dns:", 0) == 0 && targets.size() > 1) {
      return absl::InvalidArgumentError(
          StrCat("--heavy: the dns target '", target, "' must be the only one"));
    }
  }
  return targets;
}

absl::StatusOr<ParsedCommandLine> ParseGlobalFlags(const std::vector<std::string>& words,
                                                   const EnvironmentLookup& environment) {
  RawFlags raw;
  for (const FlagDef& flag : kFlags) {
    if (flag.env == nullptr) continue;
    if (std::optional<std::string> value = environment(flag.env)) raw.*flag.field = *value;
  }
  ParsedCommandLine parsed;
  bool options_ended = false;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (options_ended || word.size() < 2 || word[0] != '-') {
      parsed.args.push_back(word);
      continue;
    }
    if (word == "--") {
      // The command sees "--" too: its own options end there as well.
      options_ended = true;
      parsed.args.push_back(word);
      continue;
    }
    if (word == "-h" || word == "--help" || word == "--helpfull") {
      parsed.help = true;
      continue;
    }
    const std::size_t dashes = word.compare(0, 2, "--") == 0 ? 2 : 1;
    const std::size_t equals = word.find('=');
    std::string name = word.substr(dashes, equals == std::string::npos ? std::string::npos
                                                                        : equals - dashes);
    const FlagDef* flag = FindFlag(name);
    std::string negated_value;
    if (flag == nullptr && name.rfind("no", 0) == 0) {
      // absl's --nojson spelling, kept for scripts written against the old flags.
      flag = FindFlag(name.substr(2));
      if (flag != nullptr && (!flag->is_bool || equals != std::string::npos)) flag = nullptr;
      if (flag != nullptr) negated_value = "false";
    }
    if (flag == nullptr) {
      if (parsed.args.empty()) {
        return absl::InvalidArgumentError(
            StrCat("unknown global flag ", word.substr(0, equals),
                   " (a command's own options go after the command)"));
      }
      parsed.args.push_back(word);  // the command's option, or a negative number
      continue;
    }
    std::string value;
    if (!negated_value.empty()) {
      value = negated_value;
    } else if (equals != std::string::npos) {
      value = word.substr(equals + 1);
    } else if (flag->is_bool) {
      value = "true";
    } else if (i + 1 < words.size() && words[i + 1].rfind("--", 0) != 0) {
      // `--light --json` is a forgotten value, not a light address called "--json".
      value = words[++i];
    } else {
      return absl::InvalidArgumentError(StrCat(
          "--", flag->name, " needs a value (--", flag->name, "=VALUE when it starts with '--')"));
    }
    raw.*flag->field = value;
  }
  absl::Status converted = Convert(raw, parsed.options);
  if (!converted.ok()) return converted;
  return parsed;
}

}  // namespace workerpair::controller::cli
