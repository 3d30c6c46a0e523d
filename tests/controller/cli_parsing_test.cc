// The controller CLI's parsing and printing, in-process: global flags (with an injected
// environment), a command's own options, the progress printer writing to a temporary file, exit
// codes and the small output formats. No servers, no subprocesses.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "libs/common/error_reason.h"
#include "libs/common/str_cat.h"
#include "services/controller/cli/command_args.h"
#include "services/controller/cli/exit_codes.h"
#include "services/controller/cli/global_flags.h"
#include "services/controller/cli/output.h"
#include "services/controller/cli/progress_printer.h"

namespace {

namespace cli = workerpair::controller::cli;
using workerpair::StrCat;
using Strings = std::vector<std::string>;

// An environment holding exactly `variables`.
cli::EnvironmentLookup Environment(std::map<std::string, std::string> variables = {}) {
  return [variables = std::move(variables)](const std::string& name) -> std::optional<std::string> {
    auto found = variables.find(name);
    if (found == variables.end()) return std::nullopt;
    return found->second;
  };
}

cli::ParsedCommandLine ParseOk(const Strings& words,
                               const cli::EnvironmentLookup& environment = Environment()) {
  auto parsed = cli::ParseGlobalFlags(words, environment);
  INFO(parsed.status().ToString());
  REQUIRE(parsed.ok());
  return *std::move(parsed);
}

absl::Status ParseError(const Strings& words,
                        const cli::EnvironmentLookup& environment = Environment()) {
  auto parsed = cli::ParseGlobalFlags(words, environment);
  REQUIRE_FALSE(parsed.ok());
  return parsed.status();
}

std::string Message(const absl::Status& status) { return std::string(status.message()); }

// A fresh directory under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            StrCat("cli_parsing_test_", ::getpid(), "_", counter++);
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string Write(const std::string& name, const std::string& content) const {
    const std::filesystem::path file = path_ / name;
    std::ofstream(file, std::ios::binary) << content;
    return file.string();
  }
  std::string Path(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A tmpfile() for a ProgressPrinter to write to, read back whole.
class CapturedFile {
 public:
  CapturedFile() : file_(std::tmpfile()) { REQUIRE(file_ != nullptr); }
  ~CapturedFile() { std::fclose(file_); }
  std::FILE* get() const { return file_; }
  std::string Contents() const {
    std::fflush(file_);
    const long end = std::ftell(file_);
    std::string out(static_cast<std::size_t>(end), '\0');
    std::rewind(file_);
    const std::size_t read = std::fread(out.data(), 1, out.size(), file_);
    out.resize(read);
    std::fseek(file_, 0, SEEK_END);
    return out;
  }

 private:
  std::FILE* file_;
};

cli::CommandArgs ArgsOk(const Strings& args, const std::vector<cli::OptionSpec>& options) {
  auto parsed = cli::CommandArgs::Parse(args, options);
  INFO(parsed.status().ToString());
  REQUIRE(parsed.ok());
  return *std::move(parsed);
}

// ---------------------------------------------------------------------------------------------
// Global flags

TEST_CASE("Global flags without flags or environment keep the documented defaults",
          "[cli_parsing]") {
  const cli::ParsedCommandLine parsed = ParseOk({"ls", "WS"});
  CHECK(parsed.args == Strings{"ls", "WS"});
  CHECK_FALSE(parsed.help);
  CHECK_FALSE(parsed.options.json);
  CHECK_FALSE(parsed.options.quiet);
  CHECK(parsed.options.light == "127.0.0.1:50051");
  CHECK(parsed.options.heavy_targets == Strings{"127.0.0.1:50052"});
  CHECK_FALSE(parsed.options.light_set);
  CHECK_FALSE(parsed.options.heavy_set);
  CHECK(parsed.options.deadline == absl::ZeroDuration());
  CHECK(parsed.options.attempts == 4);
  CHECK(parsed.options.security.token.empty());
}

TEST_CASE("Global flags are taken from anywhere on the line and the rest stays in order",
          "[cli_parsing]") {
  const cli::ParsedCommandLine parsed =
      ParseOk({"--light=10.0.0.1:1", "ls", "WS", "--json", "--recursive", "--quiet", "DIR"});
  CHECK(parsed.options.json);
  CHECK(parsed.options.quiet);
  CHECK(parsed.options.light == "10.0.0.1:1");
  CHECK(parsed.options.light_set);
  CHECK(parsed.args == Strings{"ls", "WS", "--recursive", "DIR"});
}

TEST_CASE("A global flag's value may be the next word", "[cli_parsing]") {
  const cli::ParsedCommandLine parsed =
      ParseOk({"--light", "h:1", "simulate", "--heavy", "a:2,b:3", "scene", "--attempts", "7",
               "--deadline_s", "2.5"});
  CHECK(parsed.options.light == "h:1");
  CHECK(parsed.options.heavy_targets == Strings{"a:2", "b:3"});
  CHECK(parsed.options.heavy_set);
  CHECK(parsed.options.attempts == 7);
  CHECK(parsed.options.deadline == absl::Milliseconds(2500));
  CHECK(parsed.args == Strings{"simulate", "scene"});
}

TEST_CASE("A single-dash global flag is read like a double-dash one", "[cli_parsing]") {
  const cli::ParsedCommandLine parsed = ParseOk({"-json", "-attempts=2", "ping"});
  CHECK(parsed.options.json);
  CHECK(parsed.options.attempts == 2);
  CHECK(parsed.args == Strings{"ping"});
}

TEST_CASE("Boolean global flags take =true and =false and the --no spelling", "[cli_parsing]") {
  CHECK(ParseOk({"--json=true", "ping"}).options.json);
  CHECK(ParseOk({"--json=1", "ping"}).options.json);
  CHECK_FALSE(ParseOk({"--json=false", "ping"}).options.json);
  CHECK_FALSE(ParseOk({"--json=0", "ping"}).options.json);
  CHECK_FALSE(ParseOk({"--json", "ping", "--nojson"}).options.json);
  CHECK_FALSE(ParseOk({"--quiet", "ping", "--noquiet"}).options.quiet);
  // The last one wins.
  CHECK(ParseOk({"--nojson", "ping", "--json"}).options.json);
}

TEST_CASE("A boolean global flag with a value other than true or false is INVALID_ARGUMENT",
          "[cli_parsing]") {
  const absl::Status status = ParseError({"ping", "--json=maybe"});
  CHECK(absl::IsInvalidArgument(status));
  CHECK_THAT(Message(status), Catch::Contains("--json"));
  CHECK_THAT(Message(status), Catch::Contains("maybe"));
}

TEST_CASE("Global flags --help and -h set help and are removed from the words",
          "[cli_parsing]") {
  for (const std::string flag : {"--help", "-h", "--helpfull"}) {
    INFO(flag);
    const cli::ParsedCommandLine parsed = ParseOk({"ls", flag, "WS"});
    CHECK(parsed.help);
    CHECK(parsed.args == Strings{"ls", "WS"});
  }
  const cli::ParsedCommandLine alone = ParseOk({"--help"});
  CHECK(alone.help);
  CHECK(alone.args.empty());
}

TEST_CASE("Environment variables fill in the global flags", "[cli_parsing]") {
  TempDir dir;
  const std::string token_file = dir.Write("token", "s3cret\nsecond line\n");
  const cli::ParsedCommandLine parsed =
      ParseOk({"info"}, Environment({{"WORKERPAIR_LIGHT", "env-light:1"},
                                     {"WORKERPAIR_HEAVY", "env-a:2, env-b:3"},
                                     {"WORKERPAIR_TLS_CA", "/ca.pem"},
                                     {"WORKERPAIR_TLS_CERT", "/cert.pem"},
                                     {"WORKERPAIR_TLS_KEY", "/key.pem"},
                                     {"WORKERPAIR_TLS_SERVER_NAME", "pair.example"},
                                     {"WORKERPAIR_AUTH_TOKEN_FILE", token_file}}));
  CHECK(parsed.options.light == "env-light:1");
  CHECK(parsed.options.light_set);
  CHECK(parsed.options.heavy_targets == Strings{"env-a:2", "env-b:3"});
  CHECK(parsed.options.heavy_set);
  CHECK(parsed.options.security.ca_file == "/ca.pem");
  CHECK(parsed.options.security.cert_file == "/cert.pem");
  CHECK(parsed.options.security.key_file == "/key.pem");
  CHECK(parsed.options.security.server_name == "pair.example");
  CHECK(parsed.options.security.token == "s3cret");
  CHECK(parsed.args == Strings{"info"});
}

TEST_CASE("The command line wins over the environment", "[cli_parsing]") {
  const cli::ParsedCommandLine parsed =
      ParseOk({"info", "--light=cli-light:1", "--heavy", "cli-heavy:2", "--tls_server_name=cli"},
              Environment({{"WORKERPAIR_LIGHT", "env-light:1"},
                           {"WORKERPAIR_HEAVY", "env-heavy:2"},
                           {"WORKERPAIR_TLS_SERVER_NAME", "env"}}));
  CHECK(parsed.options.light == "cli-light:1");
  CHECK(parsed.options.heavy_targets == Strings{"cli-heavy:2"});
  CHECK(parsed.options.security.server_name == "cli");
}

TEST_CASE("A bad environment value overridden on the command line is no error",
          "[cli_parsing]") {
  const cli::ParsedCommandLine parsed =
      ParseOk({"info", "--heavy=ok:1", "--light=ok:2"},
              Environment({{"WORKERPAIR_HEAVY", " , "}, {"WORKERPAIR_LIGHT", ""}}));
  CHECK(parsed.options.heavy_targets == Strings{"ok:1"});
  CHECK(parsed.options.light == "ok:2");
}

TEST_CASE("A bad environment value not overridden is INVALID_ARGUMENT", "[cli_parsing]") {
  const absl::Status status = ParseError({"info"}, Environment({{"WORKERPAIR_HEAVY", ""}}));
  CHECK(absl::IsInvalidArgument(status));
  CHECK_THAT(Message(status), Catch::Contains("--heavy"));
}

TEST_CASE("Flags without an environment fallback ignore same-named variables", "[cli_parsing]") {
  const cli::ParsedCommandLine parsed =
      ParseOk({"ping"}, Environment({{"WORKERPAIR_ATTEMPTS", "9"},
                                     {"WORKERPAIR_JSON", "true"},
                                     {"WORKERPAIR_DEADLINE_S", "abc"}}));
  CHECK(parsed.options.attempts == 4);
  CHECK_FALSE(parsed.options.json);
  CHECK(parsed.options.deadline == absl::ZeroDuration());
}

TEST_CASE("Global flag --attempts outside 1 to 100 or fractional is INVALID_ARGUMENT naming it",
          "[cli_parsing]") {
  for (const std::string value : {"0", "101", "-1", "abc", "2.5", ""}) {
    INFO("--attempts=" << value);
    const absl::Status status = ParseError({"simulate", StrCat("--attempts=", value)});
    CHECK(absl::IsInvalidArgument(status));
    CHECK_THAT(Message(status), Catch::Contains("--attempts"));
  }
  CHECK(ParseOk({"ping", "--attempts=1"}).options.attempts == 1);
  CHECK(ParseOk({"ping", "--attempts=100"}).options.attempts == 100);
}

TEST_CASE("Global flag --deadline_s not in 0 to 86400 seconds is INVALID_ARGUMENT naming it",
          "[cli_parsing]") {
  for (const std::string value : {"abc", "-1", "86401", "nan", "inf", "5s", ""}) {
    INFO("--deadline_s=" << value);
    const absl::Status status = ParseError({"simulate", StrCat("--deadline_s=", value)});
    CHECK(absl::IsInvalidArgument(status));
    CHECK_THAT(Message(status), Catch::Contains("--deadline_s"));
  }
  CHECK(ParseOk({"ping", "--deadline_s=0"}).options.deadline == absl::ZeroDuration());
  CHECK(ParseOk({"ping", "--deadline_s=86400"}).options.deadline == absl::Hours(24));
  CHECK(ParseOk({"ping", "--deadline_s=5e-1"}).options.deadline == absl::Milliseconds(500));
}

TEST_CASE("An empty --light is INVALID_ARGUMENT", "[cli_parsing]") {
  const absl::Status status = ParseError({"ping", "--light="});
  CHECK(absl::IsInvalidArgument(status));
  CHECK_THAT(Message(status), Catch::Contains("--light"));
}

TEST_CASE("A value flag at the end of the line without its value is INVALID_ARGUMENT",
          "[cli_parsing]") {
  const absl::Status status = ParseError({"ping", "--light"});
  CHECK(absl::IsInvalidArgument(status));
  CHECK_THAT(Message(status), Catch::Contains("--light"));
  CHECK_THAT(Message(status), Catch::Contains("needs a value"));
}

TEST_CASE("An unknown flag before the command is INVALID_ARGUMENT naming it", "[cli_parsing]") {
  const absl::Status status = ParseError({"--bogus=1", "ls"});
  CHECK(absl::IsInvalidArgument(status));
  CHECK_THAT(Message(status), Catch::Contains("--bogus"));
  // --no is only for boolean flags, and takes no value.
  CHECK(absl::IsInvalidArgument(ParseError({"--nolight", "ls"})));
  CHECK(absl::IsInvalidArgument(ParseError({"--nojson=true", "ls"})));
}

TEST_CASE("Unknown flags and negative numbers after the command are left to the command",
          "[cli_parsing]") {
  const cli::ParsedCommandLine parsed =
      ParseOk({"check", "--recursive", "-5", "--glob=*.xml", "--nolight", "-", "x"});
  CHECK(parsed.args == Strings{"check", "--recursive", "-5", "--glob=*.xml", "--nolight", "-",
                               "x"});
}

TEST_CASE("After -- every word goes to the command and -- itself too", "[cli_parsing]") {
  const cli::ParsedCommandLine parsed = ParseOk({"write", "--json", "--", "--quiet", "-h"});
  CHECK(parsed.options.json);
  CHECK_FALSE(parsed.options.quiet);
  CHECK_FALSE(parsed.help);
  CHECK(parsed.args == Strings{"write", "--", "--quiet", "-h"});
}

TEST_CASE("Global flag --auth_token_file reads the first line of the file as the token",
          "[cli_parsing]") {
  TempDir dir;
  const std::string file = dir.Write("token", "abc123\nignored\n");
  CHECK(ParseOk({"ping", "--auth_token_file", file}).options.security.token == "abc123");
  // An empty value on the command line switches the environment's token file off.
  const cli::ParsedCommandLine off = ParseOk(
      {"ping", "--auth_token_file="}, Environment({{"WORKERPAIR_AUTH_TOKEN_FILE", file}}));
  CHECK(off.options.security.token.empty());
}

TEST_CASE("Global flag --auth_token_file that cannot be read is NOT_FOUND naming the file",
          "[cli_parsing]") {
  TempDir dir;
  const std::string missing = dir.Path("no_such_token");
  absl::Status status = ParseError({"ping", StrCat("--auth_token_file=", missing)});
  CHECK(absl::IsNotFound(status));
  CHECK_THAT(Message(status), Catch::Contains(missing));
  CHECK_THAT(Message(status), Catch::Contains("--auth_token_file"));

  const std::string empty = dir.Write("empty", "");
  CHECK(absl::IsNotFound(ParseError({"ping", StrCat("--auth_token_file=", empty)})));

  // From the environment as well.
  status = ParseError({"ping"}, Environment({{"WORKERPAIR_AUTH_TOKEN_FILE", missing}}));
  CHECK(absl::IsNotFound(status));
}

TEST_CASE("ParseHeavyTargets splits a comma list and trims spaces", "[cli_parsing]") {
  auto targets = cli::ParseHeavyTargets("a:1, b:2 ,c:3");
  REQUIRE(targets.ok());
  CHECK(*targets == Strings{"a:1", "b:2", "c:3"});
  targets = cli::ParseHeavyTargets("a:1,,b:2,");
  REQUIRE(targets.ok());
  CHECK(*targets == Strings{"a:1", "b:2"});
  targets = cli::ParseHeavyTargets("only:1");
  REQUIRE(targets.ok());
  CHECK(*targets == Strings{"only:1"});
}

TEST_CASE("ParseHeavyTargets takes one dns target alone", "[cli_parsing]") {
  auto targets = cli::ParseHeavyTargets("dns:///heavy.internal:50052");
  REQUIRE(targets.ok());
  CHECK(*targets == Strings{"dns:///heavy.internal:50052"});
  targets = cli::ParseHeavyTargets(" dns:///heavy:1 ");
  REQUIRE(targets.ok());
  CHECK(*targets == Strings{"dns:///heavy:1"});
}

TEST_CASE("ParseHeavyTargets rejects a dns target mixed with others", "[cli_parsing]") {
  for (const std::string value :
       {"dns:///heavy:1,a:2", "a:2,dns:///heavy:1", "dns:///x:1,dns:///y:2"}) {
    INFO(value);
    auto targets = cli::ParseHeavyTargets(value);
    REQUIRE_FALSE(targets.ok());
    CHECK(absl::IsInvalidArgument(targets.status()));
    CHECK_THAT(Message(targets.status()), Catch::Contains("dns"));
  }
}

TEST_CASE("ParseHeavyTargets rejects an empty list", "[cli_parsing]") {
  for (const std::string value : {"", " ", ",", " , ,"}) {
    INFO("'" << value << "'");
    auto targets = cli::ParseHeavyTargets(value);
    REQUIRE_FALSE(targets.ok());
    CHECK(absl::IsInvalidArgument(targets.status()));
    CHECK_THAT(Message(targets.status()), Catch::Contains("--heavy"));
  }
}

// ---------------------------------------------------------------------------------------------
// CommandArgs

TEST_CASE("CommandArgs separates positional arguments from options in any order",
          "[cli_parsing]") {
  const cli::CommandArgs args = ArgsOk({"WS", "--recursive", "DIR", "--glob=*.xml", "more"},
                                       {{"recursive"}, {"glob", cli::kTakesValue}});
  CHECK(args.positional() == Strings{"WS", "DIR", "more"});
  CHECK(args.size() == 3);
  CHECK(args[0] == "WS");
  CHECK(args[2] == "more");
  CHECK_THROWS(args[3]);
  CHECK(args.Has("recursive"));
  CHECK(args.Bool("recursive"));
  CHECK(args.String("glob") == "*.xml");
}

TEST_CASE("CommandArgs takes a value as --name=value or --name value", "[cli_parsing]") {
  const std::vector<cli::OptionSpec> options = {{"glob", cli::kTakesValue}};
  CHECK(ArgsOk({"--glob=*.stl", "WS"}, options).String("glob") == "*.stl");
  const cli::CommandArgs spaced = ArgsOk({"--glob", "*.stl", "WS"}, options);
  CHECK(spaced.String("glob") == "*.stl");
  CHECK(spaced.positional() == Strings{"WS"});
  // The value after a space is taken as is, even when it looks like a short option or a
  // negative number; one that starts with "--" needs '=' (see the forgotten-value case).
  CHECK(ArgsOk({"--glob=--x"}, options).String("glob") == "--x");
  CHECK(ArgsOk({"--glob", "-3"}, options).String("glob") == "-3");
  // An empty value and a value holding '=' are kept whole.
  CHECK(ArgsOk({"--glob="}, options).String("glob", "fallback").empty());
  CHECK(ArgsOk({"--glob=a=b"}, options).String("glob") == "a=b");
}

TEST_CASE("CommandArgs reads a switch given alone or as =true and =false", "[cli_parsing]") {
  const std::vector<cli::OptionSpec> options = {{"force"}};
  CHECK(ArgsOk({"--force"}, options).Bool("force"));
  CHECK(ArgsOk({"--force=true"}, options).Bool("force"));
  const cli::CommandArgs off = ArgsOk({"--force=false"}, options);
  CHECK_FALSE(off.Bool("force"));
  CHECK(off.Has("force"));
  const cli::CommandArgs absent = ArgsOk({"x"}, options);
  CHECK_FALSE(absent.Bool("force"));
  CHECK_FALSE(absent.Has("force"));
  // The last one wins.
  CHECK_FALSE(ArgsOk({"--force", "--force=false"}, options).Bool("force"));
  // A switch does not swallow the next word.
  CHECK(ArgsOk({"--force", "x"}, options).positional() == Strings{"x"});
}

TEST_CASE("CommandArgs rejects a switch with a value other than true or false", "[cli_parsing]") {
  auto parsed = cli::CommandArgs::Parse({"--force=yes"}, {{"force"}});
  REQUIRE_FALSE(parsed.ok());
  CHECK(absl::IsInvalidArgument(parsed.status()));
  CHECK_THAT(Message(parsed.status()), Catch::Contains("--force"));
}

TEST_CASE("CommandArgs treats every word after -- as positional", "[cli_parsing]") {
  const cli::CommandArgs args =
      ArgsOk({"--force", "a", "--", "--force", "--unknown", "-x", "--"}, {{"force"}});
  CHECK(args.positional() == Strings{"a", "--force", "--unknown", "-x", "--"});
  CHECK(args.Bool("force"));
}

TEST_CASE("CommandArgs keeps single-dash words positional", "[cli_parsing]") {
  const cli::CommandArgs args = ArgsOk({"-", "-5", "-x", "-1.5"}, {});
  CHECK(args.positional() == Strings{"-", "-5", "-x", "-1.5"});
}

TEST_CASE("CommandArgs rejects an unknown option naming it", "[cli_parsing]") {
  auto parsed = cli::CommandArgs::Parse({"WS", "--recursiv"}, {{"recursive"}});
  REQUIRE_FALSE(parsed.ok());
  CHECK(absl::IsInvalidArgument(parsed.status()));
  CHECK_THAT(Message(parsed.status()), Catch::Contains("--recursiv"));
  parsed = cli::CommandArgs::Parse({"--limit=5"}, {{"recursive"}});
  REQUIRE_FALSE(parsed.ok());
  CHECK_THAT(Message(parsed.status()), Catch::Contains("--limit"));
}

TEST_CASE("A value flag followed by another flag is a forgotten value, not the value",
          "[cli_parsing]") {
  const absl::Status status = ParseError({"--light", "--json", "ping"});
  CHECK(absl::IsInvalidArgument(status));
  CHECK_THAT(Message(status), Catch::Contains("--light needs a value"));
  auto parsed = cli::CommandArgs::Parse({"WS", "--message", "--amend"},
                                        {{"message", cli::kTakesValue}, {"amend"}});
  REQUIRE_FALSE(parsed.ok());
  CHECK_THAT(Message(parsed.status()), Catch::Contains("--message needs a value"));
  // A value that starts with "--" is given with '='.
  auto explicit_value = cli::CommandArgs::Parse({"WS", "--message=--amend"},
                                                {{"message", cli::kTakesValue}});
  REQUIRE(explicit_value.ok());
  CHECK(explicit_value->String("message") == "--amend");
}

TEST_CASE("CommandArgs rejects a value option without its value", "[cli_parsing]") {
  auto parsed = cli::CommandArgs::Parse({"WS", "--glob"}, {{"glob", cli::kTakesValue}});
  REQUIRE_FALSE(parsed.ok());
  CHECK(absl::IsInvalidArgument(parsed.status()));
  CHECK_THAT(Message(parsed.status()), Catch::Contains("--glob"));
  CHECK_THAT(Message(parsed.status()), Catch::Contains("needs a value"));
}

TEST_CASE("CommandArgs String is the last value or the fallback", "[cli_parsing]") {
  const std::vector<cli::OptionSpec> options = {{"to", cli::kTakesValue},
                                                {"from", cli::kTakesValue}};
  const cli::CommandArgs args = ArgsOk({"--to=a", "--to", "b"}, options);
  CHECK(args.String("to") == "b");
  CHECK(args.String("from", "default") == "default");
  CHECK(args.String("from").empty());
}

TEST_CASE("CommandArgs Strings keeps every value in order and splits at commas when asked",
          "[cli_parsing]") {
  const std::vector<cli::OptionSpec> options = {{"elevations", cli::kTakesValue}};
  const cli::CommandArgs args =
      ArgsOk({"--elevations=-15,-35", "--elevations", "10", "--elevations=a,,b"}, options);
  CHECK(args.Strings("elevations") == Strings{"-15,-35", "10", "a,,b"});
  CHECK(args.Strings("elevations", /*split_commas=*/true) ==
        Strings{"-15", "-35", "10", "a", "", "b"});
  CHECK(ArgsOk({"--elevations=-15", "--elevations=-35"}, options)
            .Strings("elevations", true) ==
        ArgsOk({"--elevations=-15,-35"}, options).Strings("elevations", true));
  CHECK(args.Strings("missing").empty());
  CHECK(args.Strings("missing", true).empty());
}

TEST_CASE("CommandArgs Uint reads whole numbers and falls back when absent", "[cli_parsing]") {
  const std::vector<cli::OptionSpec> options = {{"runs", cli::kTakesValue}};
  auto runs = ArgsOk({"--runs=12"}, options).Uint("runs", 8);
  REQUIRE(runs.ok());
  CHECK(*runs == 12);
  runs = ArgsOk({}, options).Uint("runs", 8);
  REQUIRE(runs.ok());
  CHECK(*runs == 8);
  auto optional = ArgsOk({}, options).OptionalUint("runs");
  REQUIRE(optional.ok());
  CHECK_FALSE(optional->has_value());
  optional = ArgsOk({"--runs", "0"}, options).OptionalUint("runs");
  REQUIRE(optional.ok());
  CHECK(*optional == std::optional<std::uint64_t>(0));
  runs = ArgsOk({"--runs=18446744073709551615"}, options).Uint("runs", 0);
  REQUIRE(runs.ok());
  CHECK(*runs == 18446744073709551615ULL);
}

TEST_CASE("CommandArgs Uint and OptionalUint reject malformed values naming the option",
          "[cli_parsing]") {
  const std::vector<cli::OptionSpec> options = {{"runs", cli::kTakesValue}};
  for (const std::string value :
       {"", "-1", "+1", "1.5", "abc", "12x", " 3", "3 ", "18446744073709551616"}) {
    INFO("--runs=" << value);
    const cli::CommandArgs args = ArgsOk({StrCat("--runs=", value)}, options);
    auto runs = args.Uint("runs", 8);
    REQUIRE_FALSE(runs.ok());
    CHECK(absl::IsInvalidArgument(runs.status()));
    CHECK_THAT(Message(runs.status()), Catch::StartsWith("--runs must be"));
    auto optional = args.OptionalUint("runs");
    REQUIRE_FALSE(optional.ok());
    CHECK(absl::IsInvalidArgument(optional.status()));
  }
}

TEST_CASE("CommandArgs Double reads decimals and falls back when absent", "[cli_parsing]") {
  const std::vector<cli::OptionSpec> options = {{"jitter_m", cli::kTakesValue}};
  auto value = ArgsOk({"--jitter_m=0.25"}, options).Double("jitter_m", 1);
  REQUIRE(value.ok());
  CHECK(*value == 0.25);
  value = ArgsOk({"--jitter_m", "-1.5"}, options).Double("jitter_m", 1);
  REQUIRE(value.ok());
  CHECK(*value == -1.5);
  value = ArgsOk({"--jitter_m=1e-3"}, options).Double("jitter_m", 1);
  REQUIRE(value.ok());
  CHECK(*value == 0.001);
  value = ArgsOk({}, options).Double("jitter_m", 1);
  REQUIRE(value.ok());
  CHECK(*value == 1);
  auto optional = ArgsOk({}, options).OptionalDouble("jitter_m");
  REQUIRE(optional.ok());
  CHECK_FALSE(optional->has_value());
  optional = ArgsOk({"--jitter_m=+2"}, options).OptionalDouble("jitter_m");
  REQUIRE(optional.ok());
  CHECK(*optional == std::optional<double>(2.0));
}

TEST_CASE("CommandArgs Double and OptionalDouble reject malformed values naming the option",
          "[cli_parsing]") {
  const std::vector<cli::OptionSpec> options = {{"jitter_m", cli::kTakesValue}};
  for (const std::string value : {"", "abc", "1.5m", "nan", "1,5", "3 "}) {
    INFO("--jitter_m=" << value);
    const cli::CommandArgs args = ArgsOk({StrCat("--jitter_m=", value)}, options);
    auto number = args.Double("jitter_m", 1);
    REQUIRE_FALSE(number.ok());
    CHECK(absl::IsInvalidArgument(number.status()));
    CHECK_THAT(Message(number.status()), Catch::StartsWith("--jitter_m must be"));
    auto optional = args.OptionalDouble("jitter_m");
    REQUIRE_FALSE(optional.ok());
    CHECK(absl::IsInvalidArgument(optional.status()));
  }
}

TEST_CASE("ParseUint and ParseDouble accept only a whole number", "[cli_parsing]") {
  CHECK(cli::ParseUint("42") == std::optional<std::uint64_t>(42));
  CHECK_FALSE(cli::ParseUint("").has_value());
  CHECK_FALSE(cli::ParseUint("4 2").has_value());
  CHECK(cli::ParseDouble("2.5") == std::optional<double>(2.5));
  CHECK(cli::ParseDouble("-0") == std::optional<double>(0.0));
  CHECK_FALSE(cli::ParseDouble("").has_value());
  CHECK_FALSE(cli::ParseDouble("2.5.1").has_value());
  CHECK_FALSE(cli::ParseDouble("NaN").has_value());
}

// ---------------------------------------------------------------------------------------------
// ProgressPrinter

using Style = cli::ProgressPrinter::Style;

TEST_CASE("ProgressPrinter with lines style writes Line Status and Bar as plain lines",
          "[cli_parsing]") {
  CapturedFile out;
  {
    cli::ProgressPrinter printer(Style::kLines, out.get());
    CHECK(printer.style() == Style::kLines);
    printer.Line("bundled 3 files");
    printer.Status("queued at 2");
    printer.Bar(1.5, 4.0, "s", "replica r:1");
    printer.Bar(3, 8, "runs", "");
    printer.Bar(0.5, 0, "s", "");
    printer.Finish();
  }
  CHECK(out.Contents() ==
        "bundled 3 files\n"
        "queued at 2\n"
        "1.5/4.0 s  replica r:1\n"
        "3/8 runs\n"
        "0.5/0.0 s\n");
}

TEST_CASE("ProgressPrinter with lines style drops exact repeats but never a permanent line",
          "[cli_parsing]") {
  CapturedFile out;
  {
    cli::ProgressPrinter printer(Style::kLines, out.get());
    printer.Status("started");
    printer.Status("started");
    printer.Bar(1, 4, "runs", "");
    printer.Bar(1, 4, "runs", "");
    printer.Status("started");
    printer.Line("retrying");
    printer.Line("retrying");
    printer.Status("retrying");
  }
  CHECK(out.Contents() ==
        "started\n"
        "1/4 runs\n"
        "started\n"
        "retrying\n"
        "retrying\n");
}

TEST_CASE("ProgressPrinter JobCallback turns simulated summaries into progress lines",
          "[cli_parsing]") {
  CapturedFile out;
  {
    cli::ProgressPrinter printer(Style::kLines, out.get());
    workerpair::controller::ProgressCallback callback = printer.JobCallback();
    callback({"h:1", 1, "accepted as job-7, queue position 2"});
    callback({"h:1", 1, "started"});
    callback({"h:1", 1, "simulated 1.2/4.0 s, 36 frames"});
    callback({"h:1", 1, "simulated 1.2/4.0 s, 36 frames"});
    callback({"h:1", 1, "simulated 2.5/4.0 s, 75 frames"});
  }
  CHECK(out.Contents() ==
        "accepted as job-7, queue position 2  replica h:1\n"
        "started  replica h:1\n"
        "1.2/4.0 s  replica h:1\n"
        "2.5/4.0 s  replica h:1\n");
}

TEST_CASE("ProgressPrinter JobCallback leaves a permanent line when the job fails over",
          "[cli_parsing]") {
  CapturedFile out;
  {
    cli::ProgressPrinter printer(Style::kLines, out.get());
    workerpair::controller::ProgressCallback callback = printer.JobCallback();
    callback({"h:1", 1, "started"});
    callback({"h:1", 1, "simulated 0.5/4.0 s, 15 frames"});
    callback({"h:2", 2, "started"});
    callback({"h:2", 2, "simulated 0.5/4.0 s, 15 frames"});
  }
  CHECK(out.Contents() ==
        "started  replica h:1\n"
        "0.5/4.0 s  replica h:1\n"
        "attempt 2 on replica h:2\n"
        "started  replica h:2\n"
        "0.5/4.0 s  replica h:2\n");
}

TEST_CASE("ProgressPrinter CountCallback in lines style keeps one line per finished item",
          "[cli_parsing]") {
  CapturedFile out;
  {
    cli::ProgressPrinter printer(Style::kLines, out.get());
    workerpair::controller::ProgressCallback callback = printer.CountCallback(2, "runs");
    callback({"h:1", 1, "started"});
    callback({"h:1", 1, "run 0 succeeded"});
    callback({"h:2", 1, "run 1 failed"});
    callback({"h:2", 1, "run 2 succeeded"});  // more than announced: the total grows
  }
  CHECK(out.Contents() ==
        "started  replica h:1\n"
        "1/2 runs: run 0 succeeded  replica h:1\n"
        "2/2 runs: run 1 failed  replica h:2\n"
        "3/3 runs: run 2 succeeded  replica h:2\n");
}

TEST_CASE("ProgressPrinter with style off prints nothing", "[cli_parsing]") {
  CapturedFile out;
  {
    cli::ProgressPrinter printer(Style::kOff, out.get());
    printer.Line("a line");
    printer.Status("a status");
    printer.Bar(1, 2, "s", "note");
    printer.JobCallback()({"h:1", 1, "simulated 1.0/2.0 s, 3 frames"});
    printer.JobCallback()({"h:2", 2, "started"});
    printer.CountCallback(2, "runs")({"h:1", 1, "run 0 succeeded"});
    printer.Finish();
  }
  CHECK(out.Contents().empty());
}

TEST_CASE("StyleForStderr is off when quiet", "[cli_parsing]") {
  CHECK(cli::ProgressPrinter::StyleForStderr(true) == Style::kOff);
  CHECK(cli::ProgressPrinter::StyleForStderr(false) ==
        (::isatty(STDERR_FILENO) ? Style::kBar : Style::kLines));
}

TEST_CASE("ProgressPrinter with bar style redraws one line with a carriage return",
          "[cli_parsing]") {
  CapturedFile out;
  cli::ProgressPrinter printer(Style::kBar, out.get());
  printer.Status("queued at 2");
  CHECK(out.Contents() == "\rqueued at 2");
  printer.Bar(2, 8, "runs", "replica h:1");
  CHECK(out.Contents() == "\rqueued at 2\r[##--------] 2/8 runs  replica h:1");
  // A shorter drawing blanks out what the longer one left.
  printer.Status("ok");
  const std::string blanked = StrCat("\rok", std::string(32, ' '));
  CHECK(out.Contents() == StrCat("\rqueued at 2\r[##--------] 2/8 runs  replica h:1", blanked));
  printer.Finish();
  CHECK(out.Contents() ==
        StrCat("\rqueued at 2\r[##--------] 2/8 runs  replica h:1", blanked, "\n"));
  // Idempotent.
  printer.Finish();
  CHECK(out.Contents() ==
        StrCat("\rqueued at 2\r[##--------] 2/8 runs  replica h:1", blanked, "\n"));
}

TEST_CASE("ProgressPrinter bar style fills the bar in proportion and clamps it",
          "[cli_parsing]") {
  CapturedFile out;
  {
    cli::ProgressPrinter printer(Style::kBar, out.get());
    printer.Bar(0, 4, "s", "");
    printer.Bar(4, 4, "s", "");
    printer.Bar(9, 4, "s", "");
    printer.Bar(1.2, 4.0, "s", "");
    printer.Bar(3, 0, "runs", "");  // no total: only the numbers
  }
  // The last drawing is 14 characters shorter than the one before it: blanked with spaces.
  CHECK(out.Contents() == StrCat("\r[----------] 0/4 s"
                                 "\r[##########] 4/4 s"
                                 "\r[##########] 9/4 s"
                                 "\r[###-------] 1.2/4.0 s"
                                 "\r3/0 runs",
                                 std::string(14, ' '), "\n"));
}

TEST_CASE("ProgressPrinter bar style ends the drawn line before a permanent line",
          "[cli_parsing]") {
  CapturedFile out;
  {
    cli::ProgressPrinter printer(Style::kBar, out.get());
    printer.Line("first");
    printer.Status("drawing");
    printer.Line("second");
    printer.Finish();  // nothing drawn since the line: no extra newline
  }
  CHECK(out.Contents() == "first\n\rdrawing\nsecond\n");
}

TEST_CASE("ProgressPrinter bar style never draws wider than the terminal", "[cli_parsing]") {
  CapturedFile out;
  {
    cli::ProgressPrinter printer(Style::kBar, out.get());
    printer.Status(std::string(1000, 'x'));
  }
  const std::string contents = out.Contents();
  REQUIRE(contents.size() >= 3);
  CHECK(contents.front() == '\r');
  CHECK(contents.back() == '\n');
  const std::size_t drawn = contents.size() - 2;
  CHECK(drawn > 0);
  CHECK(drawn < 1000);
}

TEST_CASE("ProgressPrinter JobCallback in bar style draws the bar and keeps the failover line",
          "[cli_parsing]") {
  CapturedFile out;
  {
    cli::ProgressPrinter printer(Style::kBar, out.get());
    workerpair::controller::ProgressCallback callback = printer.JobCallback();
    callback({"h:1", 1, "simulated 2.5/5.0 s, 75 frames"});
    callback({"h:2", 2, "started"});
  }
  const std::string bar = "[#####-----] 2.5/5.0 s  replica h:1";
  const std::string status = "started  replica h:2";
  CHECK(out.Contents() == StrCat("\r", bar, "\nattempt 2 on replica h:2\n\r", status, "\n"));
}

// ---------------------------------------------------------------------------------------------
// Exit codes and output formats

TEST_CASE("ExitCodeFor maps each status code family to its exit code", "[cli_parsing]") {
  CHECK(cli::ExitCodeFor(absl::OkStatus()) == cli::kExitOk);
  CHECK(cli::ExitCodeFor(absl::NotFoundError("x")) == cli::kExitNotFound);
  CHECK(cli::ExitCodeFor(absl::InvalidArgumentError("x")) == cli::kExitRejected);
  CHECK(cli::ExitCodeFor(absl::AlreadyExistsError("x")) == cli::kExitRejected);
  CHECK(cli::ExitCodeFor(absl::FailedPreconditionError("x")) == cli::kExitRejected);
  CHECK(cli::ExitCodeFor(absl::OutOfRangeError("x")) == cli::kExitRejected);
  CHECK(cli::ExitCodeFor(absl::PermissionDeniedError("x")) == cli::kExitPermissionDenied);
  CHECK(cli::ExitCodeFor(absl::UnauthenticatedError("x")) == cli::kExitPermissionDenied);
  CHECK(cli::ExitCodeFor(absl::UnavailableError("x")) == cli::kExitUnavailable);
  CHECK(cli::ExitCodeFor(absl::ResourceExhaustedError("x")) == cli::kExitUnavailable);
  CHECK(cli::ExitCodeFor(absl::DeadlineExceededError("x")) == cli::kExitUnavailable);
  CHECK(cli::ExitCodeFor(absl::InternalError("x")) == cli::kExitOther);
  CHECK(cli::ExitCodeFor(absl::UnknownError("x")) == cli::kExitOther);
  CHECK(cli::ExitCodeFor(absl::DataLossError("x")) == cli::kExitOther);
  CHECK(cli::ExitCodeFor(absl::CancelledError("x")) == cli::kExitOther);
  CHECK(cli::ExitCodeFor(absl::AbortedError("x")) == cli::kExitOther);
  CHECK(cli::ExitCodeFor(absl::UnimplementedError("x")) == cli::kExitOther);
}

TEST_CASE("Exit codes keep their documented numbers", "[cli_parsing]") {
  CHECK(cli::kExitOk == 0);
  CHECK(cli::kExitOther == 1);
  CHECK(cli::kExitUsage == 2);
  CHECK(cli::kExitNotFound == 3);
  CHECK(cli::kExitRejected == 4);
  CHECK(cli::kExitPermissionDenied == 5);
  CHECK(cli::kExitUnavailable == 6);
  CHECK(cli::kExitMechanismFailed == 7);
}

TEST_CASE("HumanBytes prints bytes below 1 KiB and one decimal above", "[cli_parsing]") {
  CHECK(cli::HumanBytes(0) == "0 B");
  CHECK(cli::HumanBytes(512) == "512 B");
  CHECK(cli::HumanBytes(1023) == "1023 B");
  CHECK(cli::HumanBytes(1024) == "1.0 KiB");
  CHECK(cli::HumanBytes(1536) == "1.5 KiB");
  CHECK(cli::HumanBytes(1024 * 1024) == "1.0 MiB");
  CHECK(cli::HumanBytes(5ULL * 1024 * 1024 * 1024 / 2) == "2.5 GiB");
  CHECK(cli::HumanBytes(3ULL << 40) == "3.0 TiB");
  // TiB is the largest unit.
  CHECK(cli::HumanBytes(2048ULL << 40) == "2048.0 TiB");
}

TEST_CASE("HumanBytes never prints 1024.0 of a unit", "[cli_parsing]") {
  CHECK(cli::HumanBytes(1048575) == "1.0 MiB");          // 1 MiB - 1 B
  CHECK(cli::HumanBytes(1048524) == "1023.9 KiB");       // the largest that stays in KiB
  CHECK(cli::HumanBytes((1ULL << 30) - 1) == "1.0 GiB");
  CHECK(cli::HumanBytes((1ULL << 40) - 1) == "1.0 TiB");
}

TEST_CASE("Fixed prints the given number of decimals", "[cli_parsing]") {
  CHECK(cli::Fixed(2.0, 1) == "2.0");
  CHECK(cli::Fixed(3.14159, 2) == "3.14");
  CHECK(cli::Fixed(2.5, 0) == "2");  // round half to even, as printf does
  CHECK(cli::Fixed(-0.125, 3) == "-0.125");
  CHECK(cli::Fixed(1.0 / 3, 6) == "0.333333");
}

TEST_CASE("ErrorJson has the status code name its message and the exit code", "[cli_parsing]") {
  const nlohmann::json json =
      cli::ErrorJson(absl::NotFoundError("no such workspace 'ws'"), cli::kExitNotFound);
  CHECK(json == nlohmann::json::parse(
                    R"({"error":{"code":"NOT_FOUND","message":"no such workspace 'ws'",)"
                    R"("exitCode":3}})"));
  REQUIRE(json.size() == 1);
  REQUIRE(json.at("error").size() == 3);
  CHECK(json["error"]["code"].is_string());
  CHECK(json["error"]["exitCode"].is_number_integer());

  const nlohmann::json usage =
      cli::ErrorJson(absl::InvalidArgumentError("--attempts must be ..."), cli::kExitUsage);
  CHECK(usage["error"]["code"] == "INVALID_ARGUMENT");
  CHECK(usage["error"]["exitCode"] == 2);
  CHECK(usage["error"]["message"] == "--attempts must be ...");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The heavy pool's flags, messages and exit codes

TEST_CASE("Global flags --wait_s and --resolve_interval_s take seconds, also from the "
          "environment", "[cli_parsing]") {
  const cli::ParsedCommandLine defaults = ParseOk({"ping"});
  CHECK(defaults.options.wait == absl::ZeroDuration());
  CHECK(defaults.options.resolve_interval == absl::ZeroDuration());
  const cli::ParsedCommandLine given =
      ParseOk({"simulate", "scene", "--wait_s=90", "--resolve_interval_s", "2.5"});
  CHECK(given.options.wait == absl::Seconds(90));
  CHECK(given.options.resolve_interval == absl::Milliseconds(2500));
  const cli::ParsedCommandLine from_env = ParseOk(
      {"ping"}, Environment({{"WORKERPAIR_WAIT_S", "60"}, {"WORKERPAIR_RESOLVE_INTERVAL_S", "5"}}));
  CHECK(from_env.options.wait == absl::Seconds(60));
  CHECK(from_env.options.resolve_interval == absl::Seconds(5));
  for (const std::string value : {"0", "-1", "abc", "nan", "604801", ""}) {
    INFO("--wait_s=" << value);
    const absl::Status status = ParseError({"simulate", StrCat("--wait_s=", value)});
    CHECK(absl::IsInvalidArgument(status));
    CHECK_THAT(Message(status), Catch::Contains("--wait_s"));
  }
  for (const std::string value : {"0", "0.01", "abc", "86401"}) {
    INFO("--resolve_interval_s=" << value);
    const absl::Status status = ParseError({"info", StrCat("--resolve_interval_s=", value)});
    CHECK(absl::IsInvalidArgument(status));
    CHECK_THAT(Message(status), Catch::Contains("--resolve_interval_s"));
  }
}

TEST_CASE("A payload over a limit exits as rejected input, a full pool as busy", "[cli_parsing]") {
  using workerpair::ErrorReason;
  using workerpair::WithReason;
  CHECK(cli::ExitCodeFor(WithReason(absl::ResourceExhaustedError("entries"),
                                    ErrorReason::kPayloadLimit)) == cli::kExitRejected);
  CHECK(cli::ExitCodeFor(WithReason(absl::ResourceExhaustedError("memory"),
                                    ErrorReason::kJobMemoryLimit)) == cli::kExitRejected);
  CHECK(cli::ExitCodeFor(WithReason(absl::DeadlineExceededError("wall"),
                                    ErrorReason::kJobTimeLimit)) == cli::kExitRejected);
  CHECK(cli::ExitCodeFor(WithReason(absl::ResourceExhaustedError("full"),
                                    ErrorReason::kReplicaFull)) == cli::kExitUnavailable);
  CHECK(cli::ExitCodeFor(WithReason(absl::UnavailableError("lost"),
                                    ErrorReason::kReplicaLost)) == cli::kExitUnavailable);
  const nlohmann::json error =
      cli::ErrorJson(WithReason(absl::ResourceExhaustedError("entries"), ErrorReason::kPayloadLimit),
                     cli::kExitRejected);
  CHECK(error["error"]["reason"] == "PAYLOAD_LIMIT");
  CHECK(error["error"]["code"] == "RESOURCE_EXHAUSTED");
  CHECK_FALSE(cli::ErrorJson(absl::NotFoundError("x"), 3)["error"].contains("reason"));
}

TEST_CASE("ProgressPrinter shows pool messages without a replica and keeps retry reasons",
          "[cli_parsing]") {
  CapturedFile out;
  {
    cli::ProgressPrinter printer(Style::kLines, out.get());
    workerpair::controller::ProgressCallback callback = printer.JobCallback();
    callback({"", 0, "pool full: 4/4 slots busy, 8 queued, waiting 0.2 s"});
    callback({"h:1", 1, "started"});
    callback({"h:2", 2, "attempt 2 after: replica h:1 went silent"});
    callback({"h:2", 2, "started"});
  }
  CHECK(out.Contents() ==
        "pool full: 4/4 slots busy, 8 queued, waiting 0.2 s\n"
        "started  replica h:1\n"
        "attempt 2 after: replica h:1 went silent  replica h:2\n"
        "started  replica h:2\n");
}
