// External linters (pyflakes, shellcheck, yamllint, ...) chosen by file glob, run as
// sandboxed subprocesses (libs/sandbox RunSandboxed), their `path:line[:column]: message`
// output parsed into diagnostics.
//
// Each run is confined: it may read the workspace (not write it) and the system paths a
// program needs (SystemReadOnlyPaths: /usr, /lib, loader and Python config), nothing else: no
// network, no new processes or programs, memory/CPU/time limits, a clean environment whose HOME
// and XDG_* point at a directory that does not exist, so linter configuration can only come
// from inside the workspace (.yamllint, .shellcheckrc, ...). When a run fails, the diagnostic
// says why in our own words and never repeats the linter's own output, which could quote a
// file it was pointed at (`extends: /etc/group`); only lines parsed as findings on the files
// we passed come back.
//
//   LinterConfig config = DefaultLinterConfig();
//   config.commands["*.lua"] = {"luacheck", "--formatter", "plain"};
//   std::vector<Diagnostic> found = RunExternalLinter(ws.root, config.commands["*.py"],
//                                                     {"src/a.py", "src/b.py"}, config);
//
// The files' workspace-relative paths are appended to the command (or replace an argument that
// is exactly "{files}"); the command runs in the workspace directory. Codes:
//   <linter>/<rule> or <linter>   a finding; severity from "error:"/"warning:"/"note:" or
//                                 "[error]"/"[warning]" prefixes, else warning
//   lint/linter-missing (warning) the linter is not installed: the file was NOT checked
//   lint/linter-timeout (warning) it ran past the timeout and was killed
//   lint/linter-failed  (warning) it failed without output we could parse: a non-zero exit,
//                                 a signal, its CPU or memory limit, a sandbox refusal (it
//                                 tried to read outside the workspace), or it could not start
//   lint/linter-stopped (warning) the call was cancelled or ran out of time meanwhile
//   lint/linter-output-truncated (info) output past the cap was dropped
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_LINT_EXTERNAL_LINTERS_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_LINT_EXTERNAL_LINTERS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/light/core/lint/diagnostics.h"

namespace workerpair::light {

struct LinterConfig {
  // Glob (libs/common/glob.h; "*.py" matches at any depth) -> command argv. A file matching
  // several globs is run through each command.
  std::map<std::string, std::vector<std::string>> commands;
  // Wall-clock limit of one linter run.
  std::chrono::milliseconds timeout{30000};
  // Output kept from one run.
  std::size_t max_output_bytes = 1 << 20;
  // Files passed to one run; more are split over several runs.
  std::size_t max_files_per_run = 100;
  // Kernel limits of one run (setrlimit): private memory (RLIMIT_DATA), CPU seconds
  // (SIGXCPU), open files.
  std::uint64_t memory_bytes = 512ull << 20;
  std::uint64_t cpu_seconds = 30;
  std::uint64_t open_files = 256;
  // A linter may not start processes or other programs (seccomp: no fork, no exec). Tests that
  // run `sh -c 'sleep ...'` as a stand-in linter turn this on.
  bool allow_subprocesses = false;
  // Read-only paths besides SystemReadOnlyPaths(), for a linter installed elsewhere (e.g.
  // /opt/luacheck). Its executable itself is always readable.
  std::vector<std::filesystem::path> extra_read_only;
};

// pyflakes for *.py, `shellcheck -f gcc` for *.sh, `yamllint -f parsable` for *.yaml/*.yml.
// Debian installs pyflakes as `pyflakes3`: that name is used when `pyflakes` is not on PATH
// and `pyflakes3` is.
LinterConfig DefaultLinterConfig();

// The short name used in codes and messages: argv[0]'s base name without trailing digits
// ("/usr/bin/pyflakes3" -> "pyflakes").
std::string LinterName(std::string_view argv0);

// The absolute path of the executable `name` on the service's $PATH (or `name` itself when it
// contains '/' and is executable); nullopt when there is none.
std::optional<std::string> FindExecutable(std::string_view name);

// Runs `command` confined over `files` (workspace-relative) in `root` and returns its findings,
// or lint/linter-* diagnostics for each file when it is missing, times out or fails.
// `should_stop` (e.g. [&] { return budget->Exhausted(); }) is asked while it runs; when it
// returns true the linter is killed and lint/linter-stopped is reported.
std::vector<Diagnostic> RunExternalLinter(const std::filesystem::path& root,
                                          const std::vector<std::string>& command,
                                          const std::vector<std::string>& files,
                                          const LinterConfig& config,
                                          const std::function<bool()>& should_stop = {});

// Parses linter output: each line that starts with "<one of args>:<line>:" becomes a
// diagnostic on the corresponding entry of `files` (args[i] is what was passed for files[i]).
// Other lines (source excerpts, carets, summaries) are ignored.
std::vector<Diagnostic> ParseLinterOutput(std::string_view linter, std::string_view output,
                                          const std::vector<std::string>& files,
                                          const std::vector<std::string>& args);

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_LINT_EXTERNAL_LINTERS_H_
