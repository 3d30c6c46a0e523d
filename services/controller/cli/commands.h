// The `controller` commands: one function per top-level command word, dispatched by
// controller_main.cc.
//
// Every function gets the words AFTER its command word (for `controller git log WS`,
// RunGitCommand gets {"log", "WS"}), global flags already removed, and returns the process exit
// code (exit_codes.h). Options are parsed with CommandArgs; errors end with context.Fail() and
// bad command lines with context.Usage().
//
//   int code = RunListCommand(context, {"agent-7", "meshes", "--recursive"});
#ifndef WORKERPAIR_SERVICES_CONTROLLER_CLI_COMMANDS_H_
#define WORKERPAIR_SERVICES_CONTROLLER_CLI_COMMANDS_H_

#include <string>
#include <vector>

#include "services/controller/cli/cli_context.h"
#include "services/controller/cli/command_args.h"

namespace workerpair::controller::cli {

using Args = std::vector<std::string>;

// files_commands.cc: worker-light workspaces and files.
int RunPingCommand(CliContext& context, const Args& args);       // ping
int RunWorkspaceCommand(CliContext& context, const Args& args);  // ws create|list|delete
int RunListCommand(CliContext& context, const Args& args);       // ls
int RunStatCommand(CliContext& context, const Args& args);       // stat
int RunCatCommand(CliContext& context, const Args& args);        // cat
int RunWriteCommand(CliContext& context, const Args& args);      // write
int RunUploadCommand(CliContext& context, const Args& args);     // upload
int RunEditCommand(CliContext& context, const Args& args);       // edit
int RunMoveCommand(CliContext& context, const Args& args);       // mv
int RunRemoveCommand(CliContext& context, const Args& args);     // rm
int RunGrepCommand(CliContext& context, const Args& args);       // grep

// git_commands.cc: git in a workspace (git init|status|diff|commit|log|branch|checkout|merge|
// resolve|abort-merge|complete-merge|push).
int RunGitCommand(CliContext& context, const Args& args);

// check_commands.cc: lint and mesh topology.
int RunLintCommand(CliContext& context, const Args& args);      // lint file|workspace
int RunTopologyCommand(CliContext& context, const Args& args);  // topology analyze|face|edge|assembly

// bundle_commands.cc: the workspace bundle to a local .tar.gz.
int RunBundleCommand(CliContext& context, const Args& args);

// heavy_commands.cc: worker-heavy jobs on a local directory, a .tar.gz or a workspace bundle.
int RunSimulateCommand(CliContext& context, const Args& args);
int RunVerifyCommand(CliContext& context, const Args& args);
int RunRenderCommand(CliContext& context, const Args& args);
int RunBuildCommand(CliContext& context, const Args& args);
int RunInfoCommand(CliContext& context, const Args& args);

// flow_commands.cc: the end-to-end flow (`run`) and the self-contained demo (`demo`).
int RunFlowCommand(CliContext& context, const std::vector<std::string>& args);
int RunDemoCommand(CliContext& context, const std::vector<std::string>& args);

// serve_command.cc: the controller as a gRPC service (controller.proto).
int RunServeCommand(CliContext& context, const Args& args);

// results_commands.cc: a run's results folder downloaded from its workspace, or its runs listed.
int RunResultsCommand(CliContext& context, const Args& args);

}  // namespace workerpair::controller::cli

#endif  // WORKERPAIR_SERVICES_CONTROLLER_CLI_COMMANDS_H_
