#include "services/light/core/lint/external_linters.h"

#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <system_error>

#include "absl/status/status.h"
#include "libs/common/str_cat.h"
#include "libs/sandbox/sandbox.h"

namespace workerpair::light {
namespace {

constexpr std::string_view kFilesPlaceholder = "{files}";

// The linter's whole environment. HOME and XDG_* name a directory that does not exist (and
// that the sandbox would not let it read anyway), so user-level configuration never applies:
// only the workspace's own (.yamllint, .shellcheckrc, setup.cfg, ...).
const std::vector<std::string>& LinterEnvironment() {
  static const std::vector<std::string> kEnvironment = {
      "PATH=/usr/local/bin:/usr/bin:/bin",
      "HOME=/nonexistent",
      "XDG_CONFIG_HOME=/nonexistent",
      "XDG_CACHE_HOME=/nonexistent",
      "XDG_DATA_HOME=/nonexistent",
      "XDG_STATE_HOME=/nonexistent",
      "XDG_CONFIG_DIRS=/nonexistent",
      "TMPDIR=/nonexistent",
      "LANG=C.UTF-8",
      "LC_ALL=C.UTF-8",
      "PYTHONDONTWRITEBYTECODE=1",
      "PYTHONNOUSERSITE=1",
      "PYTHONHASHSEED=0",
  };
  return kEnvironment;
}

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

bool Mentions(std::string_view text, std::initializer_list<std::string_view> needles) {
  for (std::string_view needle : needles) {
    if (text.find(needle) != std::string_view::npos) return true;
  }
  return false;
}

// Why a run that produced no findings failed, in our words. The linter's own output is only
// classified, never repeated: it may quote a file outside the workspace. A file that could not
// be read and one that does not exist get the same words, so that the message does not tell
// which host files exist.
std::string FailureReason(const sandbox::SandboxedResult& run, const LinterConfig& config) {
  if (!run.setup_error.empty()) {
    return StrCat("could not be started in its sandbox (", run.setup_error, ")");
  }
  const bool over_cpu = config.cpu_seconds != 0 &&
                        run.cpu_time >= absl::Seconds(0.9 * static_cast<double>(config.cpu_seconds));
  if (run.term_signal == SIGXCPU || (run.term_signal == SIGKILL && over_cpu)) {
    return StrCat("used more than its ", config.cpu_seconds, " s of CPU time and was stopped");
  }
  if (run.term_signal == SIGKILL) {
    return "was killed from outside (SIGKILL; e.g. by the kernel's out-of-memory killer)";
  }
  if (run.term_signal != 0) {
    const char* name = ::sigabbrev_np(run.term_signal);
    return StrCat("was killed by signal ", run.term_signal, name != nullptr ? StrCat(" (SIG", name, ")") : "");
  }
  const std::string_view err = run.stderr_data;
  if (Mentions(err, {"MemoryError", "out of memory", "Out of memory", "Cannot allocate memory",
                     "bad_alloc", "Heap exhausted", "heap overflow"})) {
    return StrCat("ran out of its ", config.memory_bytes >> 20, " MiB memory limit (exit ",
                  run.exit_code, ")");
  }
  if (Mentions(err, {"PermissionError", "Permission denied", "permission denied",
                     "FileNotFoundError", "No such file", "does not exist"})) {
    return StrCat("was refused by its sandbox or could not read a file it needed (exit ",
                  run.exit_code, "); linters may read only files inside the workspace and have no "
                  "network, so a configuration that extends, sources or includes a path outside "
                  "the workspace fails");
  }
  return StrCat("failed (exit ", run.exit_code,
                ") without findings we could read; its output is not shown, since it may quote "
                "files outside the workspace");
}

// Leading decimal digits of `text`, consumed; -1 when there are none.
int TakeNumber(std::string_view* text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || value < 0) return -1;
  text->remove_prefix(static_cast<std::size_t>(end - text->data()));
  return value;
}

std::string_view TrimSpace(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

// Severity prefixes: gcc style ("warning: ") and yamllint's parsable style ("[warning] ").
Severity TakeSeverity(std::string_view* message) {
  static constexpr std::pair<std::string_view, Severity> kPrefixes[] = {
      {"error: ", Severity::kError},     {"fatal error: ", Severity::kError},
      {"warning: ", Severity::kWarning}, {"note: ", Severity::kInfo},
      {"info: ", Severity::kInfo},       {"style: ", Severity::kInfo},
      {"[error] ", Severity::kError},    {"[warning] ", Severity::kWarning},
      {"[info] ", Severity::kInfo},
  };
  for (const auto& [prefix, severity] : kPrefixes) {
    if (message->starts_with(prefix)) {
      message->remove_prefix(prefix.size());
      return severity;
    }
  }
  return Severity::kWarning;
}

// A trailing rule id: shellcheck's " [SC2086]" or yamllint's " (key-duplicates)".
std::string TakeRule(std::string_view* message) {
  if (message->size() < 3) return "";
  const char close = message->back();
  const char open = close == ']' ? '[' : close == ')' ? '(' : '\0';
  if (open == '\0') return "";
  const std::size_t start = message->rfind(open);
  if (start == std::string_view::npos || start == 0 || (*message)[start - 1] != ' ') return "";
  const std::string_view rule = message->substr(start + 1, message->size() - start - 2);
  const bool plain = !rule.empty() && std::all_of(rule.begin(), rule.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
  if (!plain) return "";
  std::string taken(rule);
  *message = TrimSpace(message->substr(0, start));
  return taken;
}

// What is passed on the command line for a workspace-relative file.
std::string FileArgument(const std::string& file) {
  return file.starts_with('-') ? StrCat("./", file) : file;
}

// Adds the same diagnostic to every file.
void ForEachFile(const std::vector<std::string>& files, std::string_view code, Severity severity,
                 const std::string& message, std::vector<Diagnostic>* out) {
  for (const std::string& file : files) {
    out->push_back(Diagnostic{file, 0, 0, std::string(code), severity, message});
  }
}

}  // namespace

std::string LinterName(std::string_view argv0) {
  const std::size_t slash = argv0.rfind('/');
  std::string_view name = slash == std::string_view::npos ? argv0 : argv0.substr(slash + 1);
  while (name.size() > 1 && std::isdigit(static_cast<unsigned char>(name.back()))) {
    name.remove_suffix(1);
  }
  return std::string(name);
}

LinterConfig DefaultLinterConfig() {
  LinterConfig config;
  std::string pyflakes = "pyflakes";
  if (!FindExecutable(pyflakes) && FindExecutable("pyflakes3")) pyflakes = "pyflakes3";
  config.commands["*.py"] = {pyflakes};
  config.commands["*.sh"] = {"shellcheck", "-f", "gcc"};
  config.commands["*.yaml"] = {"yamllint", "-f", "parsable"};
  config.commands["*.yml"] = {"yamllint", "-f", "parsable"};
  return config;
}

std::vector<Diagnostic> ParseLinterOutput(std::string_view linter, std::string_view output,
                                          const std::vector<std::string>& files,
                                          const std::vector<std::string>& args) {
  std::vector<Diagnostic> found;
  for (std::size_t begin = 0; begin < output.size();) {
    std::size_t end = output.find('\n', begin);
    if (end == std::string_view::npos) end = output.size();
    const std::string_view line = output.substr(begin, end - begin);
    begin = end + 1;
    // The longest argument the line starts with, followed by ':' (paths may hold ':').
    std::size_t match = args.size();
    for (std::size_t i = 0; i < args.size(); ++i) {
      if (line.size() > args[i].size() && line.starts_with(args[i]) &&
          line[args[i].size()] == ':' &&
          (match == args.size() || args[i].size() > args[match].size())) {
        match = i;
      }
    }
    if (match == args.size()) continue;
    std::string_view rest = line.substr(args[match].size() + 1);
    const int line_number = TakeNumber(&rest);
    if (line_number < 0 || !rest.starts_with(':')) continue;
    rest.remove_prefix(1);
    int column = 0;
    if (std::string_view probe = rest; (column = TakeNumber(&probe)) >= 0 &&
                                       probe.starts_with(':')) {
      rest = probe.substr(1);
    } else {
      column = 0;
    }
    std::string_view message = TrimSpace(rest);
    const Severity severity = TakeSeverity(&message);
    const std::string rule = TakeRule(&message);
    found.push_back(Diagnostic{files[match], line_number, column,
                               rule.empty() ? std::string(linter) : StrCat(linter, "/", rule),
                               severity, std::string(message)});
  }
  return found;
}

std::optional<std::string> FindExecutable(std::string_view name) {
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string_view::npos) {
    std::string path(name);
    if (IsExecutableFile(path)) return path;
    return std::nullopt;
  }
  const char* env = std::getenv("PATH");
  std::string_view dirs = env != nullptr ? env : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const std::size_t colon = dirs.find(':');
    std::string_view dir = dirs.substr(0, colon);
    if (!dir.empty() && dir.front() == '/') {  // a relative PATH entry is never searched
      std::string candidate = StrCat(dir, "/", name);
      if (IsExecutableFile(candidate)) return candidate;
    }
    if (colon == std::string_view::npos) return std::nullopt;
    dirs.remove_prefix(colon + 1);
  }
}

std::vector<Diagnostic> RunExternalLinter(const std::filesystem::path& root,
                                          const std::vector<std::string>& command,
                                          const std::vector<std::string>& files,
                                          const LinterConfig& config,
                                          const std::function<bool()>& should_stop) {
  std::vector<Diagnostic> found;
  if (command.empty() || files.empty()) return found;
  const std::string name = LinterName(command[0]);
  const std::optional<std::string> exe = FindExecutable(command[0]);
  if (!exe) {
    ForEachFile(files, "lint/linter-missing", Severity::kWarning,
                StrCat("linter '", name, "' (", command[0],
                       ") is not installed; this file was not checked by it"),
                &found);
    return found;
  }
  // Fail closed: without Landlock a linter could read the host for a workspace's config.
  if (const sandbox::SandboxReport probe = sandbox::ProbeSandbox(); !probe.landlock || !probe.seccomp) {
    ForEachFile(files, "lint/linter-failed", Severity::kWarning,
                StrCat("linter '", name, "' was not run: this kernel cannot sandbox it (",
                       probe.Describe(), "), and linters never run unconfined"),
                &found);
    return found;
  }

  sandbox::SandboxedCommand base;
  base.working_dir = root;
  base.env = LinterEnvironment();
  base.policy.read_only = sandbox::SystemReadOnlyPaths();
  base.policy.read_only.push_back(root);
  std::error_code error;
  const std::filesystem::path real_exe = std::filesystem::canonical(*exe, error);
  base.policy.read_only.push_back(error ? std::filesystem::path(*exe) : real_exe);
  base.policy.read_only.insert(base.policy.read_only.end(), config.extra_read_only.begin(),
                               config.extra_read_only.end());
  base.policy.devices = {"/dev/null", "/dev/zero", "/dev/urandom"};
  base.policy.deny_network = true;
  base.policy.deny_exec = !config.allow_subprocesses;
  base.policy.deny_fork = !config.allow_subprocesses;
  base.limits.data_bytes = config.memory_bytes;
  base.limits.cpu_seconds = config.cpu_seconds;
  base.limits.open_files = config.open_files;
  base.limits.file_size_bytes = 16ull << 20;
  base.timeout = absl::Milliseconds(config.timeout.count());
  base.should_stop = should_stop;
  base.max_output_bytes = config.max_output_bytes;

  for (std::size_t first = 0; first < files.size(); first += config.max_files_per_run) {
    const std::vector<std::string> batch(
        files.begin() + first,
        files.begin() + std::min(files.size(), first + config.max_files_per_run));
    std::vector<std::string> args;
    for (const std::string& file : batch) args.push_back(FileArgument(file));
    // The command line: the files replace "{files}", or follow the command.
    sandbox::SandboxedCommand run_command = base;
    run_command.argv = {*exe};
    bool placed = false;
    for (std::size_t i = 1; i < command.size(); ++i) {
      if (command[i] == kFilesPlaceholder) {
        run_command.argv.insert(run_command.argv.end(), args.begin(), args.end());
        placed = true;
      } else {
        run_command.argv.push_back(command[i]);
      }
    }
    if (!placed) run_command.argv.insert(run_command.argv.end(), args.begin(), args.end());

    absl::StatusOr<sandbox::SandboxedResult> run = sandbox::RunSandboxed(run_command);
    if (!run.ok()) {
      // The sandbox could not be prepared (its message may name server paths: not passed on).
      ForEachFile(batch, "lint/linter-failed", Severity::kWarning,
                  StrCat("linter '", name, "' could not be started: its sandbox could not be "
                         "prepared; this file was not checked"),
                  &found);
      continue;
    }
    if (run->cancelled) {
      ForEachFile(batch, "lint/linter-stopped", Severity::kWarning,
                  StrCat("linter '", name, "' was stopped: the call was cancelled or ran out of time"),
                  &found);
      continue;
    }
    if (run->timed_out) {
      ForEachFile(batch, "lint/linter-timeout", Severity::kWarning,
                  StrCat("linter '", name, "' ran past ", config.timeout.count(),
                         " ms and was stopped; results may be incomplete"),
                  &found);
    }
    // Findings may come on either stream (pyflakes writes syntax errors to stderr).
    std::vector<Diagnostic> parsed = ParseLinterOutput(name, run->stdout_data, batch, args);
    std::vector<Diagnostic> parsed_err = ParseLinterOutput(name, run->stderr_data, batch, args);
    parsed.insert(parsed.end(), std::make_move_iterator(parsed_err.begin()),
                  std::make_move_iterator(parsed_err.end()));
    const bool failed = run->exit_code != 0 || run->term_signal != 0 || !run->setup_error.empty();
    if (parsed.empty() && !run->timed_out && failed) {
      ForEachFile(batch, "lint/linter-failed", Severity::kWarning,
                  StrCat("linter '", name, "' ", FailureReason(*run, config)), &found);
    }
    if (run->output_truncated) {
      found.push_back(Diagnostic{batch.front(), 0, 0, "lint/linter-output-truncated",
                                 Severity::kInfo,
                                 StrCat("linter '", name, "' wrote more than ",
                                        config.max_output_bytes, " bytes; the rest was dropped")});
    }
    found.insert(found.end(), std::make_move_iterator(parsed.begin()),
                 std::make_move_iterator(parsed.end()));
  }
  return found;
}

}  // namespace workerpair::light
