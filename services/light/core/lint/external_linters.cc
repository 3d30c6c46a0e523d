#include "services/light/core/lint/external_linters.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "absl/status/status.h"
#include "libs/common/str_cat.h"
#include "services/light/core/lint/subprocess.h"

namespace workerpair::light {
namespace {

constexpr std::string_view kFilesPlaceholder = "{files}";

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

std::vector<Diagnostic> RunExternalLinter(const std::filesystem::path& root,
                                          const std::vector<std::string>& command,
                                          const std::vector<std::string>& files,
                                          const LinterConfig& config) {
  std::vector<Diagnostic> found;
  if (command.empty() || files.empty()) return found;
  const std::string name = LinterName(command[0]);
  if (!FindExecutable(command[0])) {
    ForEachFile(files, "lint/linter-missing", Severity::kWarning,
                StrCat("linter '", name, "' (", command[0],
                       ") is not installed; this file was not checked by it"),
                &found);
    return found;
  }
  for (std::size_t first = 0; first < files.size(); first += config.max_files_per_run) {
    const std::vector<std::string> batch(
        files.begin() + first,
        files.begin() + std::min(files.size(), first + config.max_files_per_run));
    std::vector<std::string> args;
    for (const std::string& file : batch) args.push_back(FileArgument(file));
    // The command line: the files replace "{files}", or follow the command.
    std::vector<std::string> argv;
    bool placed = false;
    for (const std::string& arg : command) {
      if (arg == kFilesPlaceholder) {
        argv.insert(argv.end(), args.begin(), args.end());
        placed = true;
      } else {
        argv.push_back(arg);
      }
    }
    if (!placed) argv.insert(argv.end(), args.begin(), args.end());

    absl::StatusOr<SubprocessResult> run = RunSubprocess(
        argv, SubprocessOptions{root, config.timeout, config.max_output_bytes});
    if (!run.ok() || run->exit_code == 127) {
      ForEachFile(batch, "lint/linter-missing", Severity::kWarning,
                  StrCat("linter '", name, "' could not be started; this file was not checked"),
                  &found);
      continue;
    }
    if (run->timed_out) {
      ForEachFile(batch, "lint/linter-timeout", Severity::kWarning,
                  StrCat("linter '", name, "' ran past ", config.timeout.count(),
                         " ms and was stopped; results may be incomplete"),
                  &found);
    }
    std::vector<Diagnostic> parsed = ParseLinterOutput(name, run->output, batch, args);
    if (parsed.empty() && !run->timed_out && run->exit_code != 0) {
      const std::string_view output = TrimSpace(run->output);
      ForEachFile(batch, "lint/linter-failed", Severity::kWarning,
                  StrCat("linter '", name, "' failed (",
                         run->term_signal != 0 ? StrCat("signal ", run->term_signal)
                                               : StrCat("exit ", run->exit_code),
                         ") without findings we could read: ", output.substr(0, 300)),
                  &found);
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
