// controller: the command-line client of workerpair. Parses the global flags and hands the
// command to its function in services/controller/cli/ (commands.h lists them).
#include <iostream>
#include <string>
#include <vector>

#include "libs/rpc/server_runner.h"
#include "libs/common/str_cat.h"
#include "services/controller/cli/cli_context.h"
#include "services/controller/cli/commands.h"
#include "services/controller/cli/usage.h"

namespace {

namespace cli = workerpair::controller::cli;

struct Command {
  const char* name;
  int (*run)(cli::CliContext&, const cli::Args&);
};

constexpr Command kCommands[] = {
    {"ping", cli::RunPingCommand},         {"ws", cli::RunWorkspaceCommand},
    {"ls", cli::RunListCommand},           {"stat", cli::RunStatCommand},
    {"cat", cli::RunCatCommand},           {"write", cli::RunWriteCommand},
    {"upload", cli::RunUploadCommand},     {"edit", cli::RunEditCommand},
    {"mv", cli::RunMoveCommand},           {"rm", cli::RunRemoveCommand},
    {"grep", cli::RunGrepCommand},         {"git", cli::RunGitCommand},
    {"lint", cli::RunLintCommand},         {"topology", cli::RunTopologyCommand},
    {"bundle", cli::RunBundleCommand},     {"simulate", cli::RunSimulateCommand},
    {"verify", cli::RunVerifyCommand},     {"render", cli::RunRenderCommand},
    {"build", cli::RunBuildCommand},       {"info", cli::RunInfoCommand},
    {"run", cli::RunFlowCommand},          {"demo", cli::RunDemoCommand},
    {"serve", cli::RunServeCommand},
    {"results", cli::RunResultsCommand},
};

// A usage error before any context exists (bad global flag, no command): same shape as
// CliContext's. The whole help only when no command was given: then it is what was missing.
int EarlyUsage(const std::string& problem, bool json, bool whole_usage) {
  if (json) {
    cli::PrintJson(cli::ErrorJson(absl::InvalidArgumentError(problem), cli::kExitUsage));
  }
  std::cerr << "controller: " << problem << "\n\n";
  if (whole_usage && !json) {
    std::cerr << cli::UsageText();
  } else {
    std::cerr << "Run 'controller --help' for the commands and flags.\n";
  }
  return cli::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> words(argv + 1, argv + argc);
  auto parsed = cli::ParseGlobalFlags(words, cli::GetEnvironment);
  if (!parsed.ok()) {
    // The flags could not be read, so look for --json by hand to answer in the asked form.
    bool json = false;
    for (const std::string& word : words) json = json || word == "--json";
    if (absl::IsInvalidArgument(parsed.status())) {
      return EarlyUsage(std::string(parsed.status().message()), json, false);
    }
    const int code = cli::ExitCodeFor(parsed.status());
    if (json) {
      cli::PrintJson(cli::ErrorJson(parsed.status(), code));
    } else {
      std::cerr << "error: " << parsed.status() << "\n";
    }
    return code;
  }
  if (parsed->help || (!parsed->args.empty() && parsed->args[0] == "help")) {
    std::cout << cli::UsageText();
    return cli::kExitOk;
  }
  const bool json = parsed->options.json;
  if (parsed->args.empty()) return EarlyUsage("no command given", json, true);

  // `serve` waits for SIGTERM with sigwait: block it before any thread (gRPC's) exists.
  if (parsed->args[0] == "serve") workerpair::BlockTerminationSignals();
  auto context = cli::CliContext::Create(parsed->options);
  if (!context.ok()) {
    const int code = cli::ExitCodeFor(context.status());
    if (json) {
      cli::PrintJson(cli::ErrorJson(context.status(), code));
    } else {
      std::cerr << "error: " << context.status() << "\n";
    }
    return code;
  }
  const std::string& command = parsed->args[0];
  const cli::Args args(parsed->args.begin() + 1, parsed->args.end());
  for (const Command& entry : kCommands) {
    if (command == entry.name) {
      (*context)->set_command(command);
      return entry.run(**context, args);
    }
  }
  return (*context)->Usage(workerpair::StrCat("unknown command '", command, "'"));
}
