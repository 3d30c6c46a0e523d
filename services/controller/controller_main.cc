// controller: the command-line client of workerpair. This first cut covers worker-light's
// workspace file calls; heavy calls, the end-to-end flow and the demo join as they land.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "libs/common/logging.h"
#include "libs/common/security.h"
#include "libs/common/str_cat.h"
#include "services/controller/light_client.h"

ABSL_FLAG(std::string, light, "127.0.0.1:50051",
          "worker-light address, host:port (env WORKERPAIR_LIGHT).");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA to trust for the servers; enables TLS (env WORKERPAIR_TLS_CA).");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM client certificate for mutual TLS (env WORKERPAIR_TLS_CERT).");
ABSL_FLAG(std::string, tls_key, "", "PEM key of --tls_cert (env WORKERPAIR_TLS_KEY).");
ABSL_FLAG(std::string, tls_server_name, "",
          "Name to check in the server certificate instead of the host in the address.");
ABSL_FLAG(std::string, auth_token_file, "",
          "File holding the bearer token to send; needs TLS (env WORKERPAIR_AUTH_TOKEN_FILE).");
ABSL_FLAG(bool, json, false, "Print results as JSON instead of text.");
ABSL_FLAG(bool, recursive, false, "ls: descend into directories; rm: delete non-empty ones.");
ABSL_FLAG(std::string, glob, "", "ls, grep: only paths matching this glob.");
ABSL_FLAG(bool, overwrite, false, "write: replace an existing file.");
ABSL_FLAG(bool, replace_all, false, "edit: replace every occurrence.");
ABSL_FLAG(std::string, lines, "", "cat: a line range START:COUNT (1-based; COUNT 0 = to end).");

namespace {

using workerpair::controller::LightClient;

constexpr char kUsage[] =
    "controller: command-line client for workerpair.\n"
    "\n"
    "  controller [--light=HOST:PORT] [--json] COMMAND ARGS...\n"
    "\n"
    "Commands:\n"
    "  ping                          check worker-light answers\n"
    "  ws create NAME | ws list | ws delete NAME\n"
    "  ls WS [DIR] [--recursive] [--glob=G]\n"
    "  cat WS PATH [--lines=START:COUNT]\n"
    "  write WS PATH [FILE]          content from FILE, or stdin [--overwrite]\n"
    "  edit WS PATH OLD NEW [--replace_all]\n"
    "  grep WS REGEX [--glob=G]\n"
    "  rm WS PATH [--recursive]\n"
    "\n"
    "Exit codes: 0 ok, 1 other failure, 2 usage, 3 not found, 4 rejected input or state,\n"
    "5 permission denied, 6 server busy or unreachable.\n";

// Exit codes tell failure kinds apart for scripts.
int ExitCode(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk: return 0;
    case absl::StatusCode::kNotFound: return 3;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange: return 4;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated: return 5;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kDeadlineExceeded: return 6;
    default: return 1;
  }
}

int Fail(const absl::Status& status) {
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << "{\"error\":{\"code\":\"" << absl::StatusCodeToString(status.code())
              << "\",\"message\":\"" << workerpair::JsonEscape(std::string(status.message())) << "\"}}\n";
  } else {
    std::cerr << "error: " << absl::StatusCodeToString(status.code()) << ": " << status.message()
              << "\n";
  }
  return ExitCode(status);
}

int Usage(const std::string& problem) {
  std::cerr << "controller: " << problem << "\n\n" << kUsage;
  return 2;
}

std::string Quote(std::string_view text) {
  return workerpair::StrCat("\"", workerpair::JsonEscape(text), "\"");
}

int RunWorkspace(LightClient& light, const std::vector<std::string>& args) {
  if (args.size() == 2 && args[1] == "list") {
    auto names = light.ListWorkspaces();
    if (!names.ok()) return Fail(names.status());
    for (const std::string& name : *names) std::cout << name << "\n";
    return 0;
  }
  if (args.size() == 3 && args[1] == "create") {
    auto created = light.CreateWorkspace(args[2], /*exist_ok=*/true);
    if (!created.ok()) return Fail(created.status());
    std::cout << (*created ? "created " : "exists ") << args[2] << "\n";
    return 0;
  }
  if (args.size() == 3 && args[1] == "delete") {
    absl::Status status = light.DeleteWorkspace(args[2]);
    if (!status.ok()) return Fail(status);
    std::cout << "deleted " << args[2] << "\n";
    return 0;
  }
  return Usage("ws takes: create NAME | list | delete NAME");
}

int RunList(LightClient& light, const std::vector<std::string>& args) {
  if (args.size() < 2 || args.size() > 3) return Usage("ls takes WS [DIR]");
  auto listed = light.ListFiles(args[1], args.size() == 3 ? args[2] : "",
                                absl::GetFlag(FLAGS_recursive), absl::GetFlag(FLAGS_glob));
  if (!listed.ok()) return Fail(listed.status());
  for (const auto& entry : listed->entries()) {
    const bool dir = entry.type() == workerpair::v1::FILE_TYPE_DIRECTORY;
    if (absl::GetFlag(FLAGS_json)) {
      std::cout << "{\"path\":" << Quote(entry.path()) << ",\"dir\":" << (dir ? "true" : "false")
                << ",\"size\":" << entry.size() << "}\n";
    } else {
      std::printf("%10llu  %s%s\n", static_cast<unsigned long long>(entry.size()),
                  entry.path().c_str(), dir ? "/" : "");
    }
  }
  if (listed->truncated()) std::cerr << "(list truncated)\n";
  return 0;
}

int RunCat(LightClient& light, const std::vector<std::string>& args) {
  if (args.size() != 3) return Usage("cat takes WS PATH");
  workerpair::v1::ReadFileRequest request;
  request.set_workspace(args[1]);
  request.set_path(args[2]);
  const std::string lines = absl::GetFlag(FLAGS_lines);
  if (!lines.empty()) {
    unsigned long long start = 0, count = 0;
    if (std::sscanf(lines.c_str(), "%llu:%llu", &start, &count) != 2) {
      return Usage("--lines takes START:COUNT");
    }
    request.mutable_lines()->set_start_line(start);
    request.mutable_lines()->set_line_count(count);
  }
  auto read = light.ReadFile(request);
  if (!read.ok()) return Fail(read.status());
  std::cout << read->content();
  return 0;
}

int RunWrite(LightClient& light, const std::vector<std::string>& args) {
  if (args.size() < 3 || args.size() > 4) return Usage("write takes WS PATH [FILE]");
  std::string content;
  if (args.size() == 4) {
    std::ifstream in(args[3], std::ios::binary);
    if (!in) return Fail(absl::NotFoundError(workerpair::StrCat("cannot open local file '", args[3], "'")));
    content.assign(std::istreambuf_iterator<char>(in), {});
  } else {
    content.assign(std::istreambuf_iterator<char>(std::cin), {});
  }
  auto written = light.WriteFile(args[1], args[2], std::move(content),
                                 absl::GetFlag(FLAGS_overwrite));
  if (!written.ok()) return Fail(written.status());
  std::cout << "wrote " << args[2] << " (" << written->size() << " bytes, sha256 "
            << written->sha256() << ")\n";
  return 0;
}

int RunEdit(LightClient& light, const std::vector<std::string>& args) {
  if (args.size() != 5) return Usage("edit takes WS PATH OLD NEW");
  workerpair::v1::EditFileRequest request;
  request.set_workspace(args[1]);
  request.set_path(args[2]);
  auto* edit = request.add_edits();
  edit->set_old_text(args[3]);
  edit->set_new_text(args[4]);
  edit->set_replace_all(absl::GetFlag(FLAGS_replace_all));
  auto edited = light.EditFile(request);
  if (!edited.ok()) return Fail(edited.status());
  std::cout << "edited " << args[2] << " (" << edited->replacements(0) << " replacement(s))\n";
  return 0;
}

int RunGrep(LightClient& light, const std::vector<std::string>& args) {
  if (args.size() != 3) return Usage("grep takes WS REGEX");
  workerpair::v1::GrepRequest request;
  request.set_workspace(args[1]);
  request.set_pattern(args[2]);
  request.set_glob(absl::GetFlag(FLAGS_glob));
  auto found = light.Grep(request);
  if (!found.ok()) return Fail(found.status());
  for (const auto& match : found->matches()) {
    std::cout << match.path() << ":" << match.line_number() << ": " << match.line() << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "services/controller");
  };
  absl::SetFlagsUsageConfig(config);
  absl::SetProgramUsageMessage(kUsage);
  // Environment first, so the command line wins.
  const std::pair<const char*, absl::Flag<std::string>*> from_env[] = {
      {"WORKERPAIR_LIGHT", &FLAGS_light},       {"WORKERPAIR_TLS_CA", &FLAGS_tls_ca},
      {"WORKERPAIR_TLS_CERT", &FLAGS_tls_cert}, {"WORKERPAIR_TLS_KEY", &FLAGS_tls_key},
      {"WORKERPAIR_AUTH_TOKEN_FILE", &FLAGS_auth_token_file}};
  for (const auto& [name, flag] : from_env) {
    if (const char* value = std::getenv(name)) absl::SetFlag(flag, value);
  }
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  std::vector<std::string> args(positional.begin() + 1, positional.end());
  if (args.empty()) return Usage("no command given");

  workerpair::ClientSecurityOptions security;
  security.ca_file = absl::GetFlag(FLAGS_tls_ca);
  security.cert_file = absl::GetFlag(FLAGS_tls_cert);
  security.key_file = absl::GetFlag(FLAGS_tls_key);
  security.server_name = absl::GetFlag(FLAGS_tls_server_name);
  if (const std::string token_file = absl::GetFlag(FLAGS_auth_token_file); !token_file.empty()) {
    std::ifstream in(token_file);
    if (!in || !std::getline(in, security.token) || security.token.empty()) {
      return Fail(absl::NotFoundError(
          workerpair::StrCat("cannot read a token from '", token_file, "'")));
    }
  }
  auto channel = workerpair::MakeClientChannel(absl::GetFlag(FLAGS_light), security);
  if (!channel.ok()) return Fail(channel.status());
  LightClient light(*channel);
  const std::string& command = args[0];
  if (command == "ping") {
    absl::Status status = light.Ping();
    if (!status.ok()) return Fail(status);
    std::cout << "worker-light at " << absl::GetFlag(FLAGS_light) << " answers\n";
    return 0;
  }
  if (command == "ws") return RunWorkspace(light, args);
  if (command == "ls") return RunList(light, args);
  if (command == "cat") return RunCat(light, args);
  if (command == "write") return RunWrite(light, args);
  if (command == "edit") return RunEdit(light, args);
  if (command == "grep") return RunGrep(light, args);
  if (command == "rm") {
    if (args.size() != 3) return Usage("rm takes WS PATH");
    absl::Status status = light.DeleteFile(args[1], args[2], absl::GetFlag(FLAGS_recursive));
    if (!status.ok()) return Fail(status);
    std::cout << "deleted " << args[2] << "\n";
    return 0;
  }
  return Usage(workerpair::StrCat("unknown command '", command, "'"));
}
