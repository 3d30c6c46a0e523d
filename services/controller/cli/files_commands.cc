// The worker-light file commands: ls, stat, cat, write, upload, edit, mv, rm, grep (ping and
// ws are in workspace_commands.cc).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <system_error>

#include "absl/time/time.h"
#include "libs/common/file_io.h"
#include "libs/common/str_cat.h"
#include "services/controller/cli/commands.h"
#include "services/controller/cli/local_tree.h"

namespace workerpair::controller::cli {
namespace {

namespace fs = std::filesystem;

// A local file upload and write may send at once; the server caps uploads at 256 MiB by default.
constexpr std::uint64_t kMaxLocalBytes = std::uint64_t{256} << 20;

const char* TypeName(v1::FileType type) {
  switch (type) {
    case v1::FILE_TYPE_FILE: return "file";
    case v1::FILE_TYPE_DIRECTORY: return "dir";
    case v1::FILE_TYPE_SYMLINK: return "symlink";
    case v1::FILE_TYPE_OTHER: return "other";
    default: return "unknown";
  }
}

std::string FormatTime(std::int64_t unix_nanos) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixNanos(unix_nanos),
                          absl::LocalTimeZone());
}

// "START:COUNT" -> two numbers.
bool ParsePair(const std::string& text, std::uint64_t& first, std::uint64_t& second) {
  const std::size_t colon = text.find(':');
  if (colon == std::string::npos) return false;
  auto a = ParseUint(text.substr(0, colon));
  auto b = ParseUint(text.substr(colon + 1));
  if (!a || !b) return false;
  first = *a;
  second = *b;
  return true;
}

// A local file's bytes, or stdin's for "-".
absl::StatusOr<std::string> ReadLocalOrStdin(const std::string& path) {
  if (path == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), {});
  }
  return ReadFileCapped(path, path, kMaxLocalBytes);
}

}  // namespace

int RunListCommand(CliContext& context, const Args& args) {
  auto parsed = CommandArgs::Parse(
      args, {{"recursive"}, {"glob", kTakesValue}, {"max", kTakesValue}});
  if (!parsed.ok()) return context.Usage(parsed.status());
  if (parsed->size() < 1 || parsed->size() > 2) return context.Usage("ls takes WS [DIR]");
  auto max = parsed->Uint("max", 0);
  if (!max.ok()) return context.Usage(max.status());
  v1::ListFilesRequest request;
  request.set_workspace((*parsed)[0]);
  if (parsed->size() == 2) request.set_path((*parsed)[1]);
  request.set_recursive(parsed->Bool("recursive"));
  request.set_glob(parsed->String("glob"));
  request.set_max_entries(static_cast<std::uint32_t>(*max));
  auto listed =
      context.light(request.workspace())
          .Call(context.light(request.workspace()).files(), &v1::LightFilesService::Stub::ListFiles, request);
  if (!listed.ok()) return context.Fail(listed.status());
  for (const v1::FileInfo& entry : listed->entries()) {
    const bool dir = entry.type() == v1::FILE_TYPE_DIRECTORY;
    if (context.json()) {
      PrintJson(ProtoToJsonValue(entry));  // one FileInfo per line
    } else {
      std::printf("%10llu  %s  %s%s\n", static_cast<unsigned long long>(entry.size()),
                  FormatTime(entry.modified_unix_nanos()).c_str(), entry.path().c_str(),
                  dir ? "/" : "");
    }
  }
  if (listed->truncated()) std::cerr << "(list truncated at the server's limit)\n";
  return kExitOk;
}

int RunStatCommand(CliContext& context, const Args& args) {
  auto parsed = CommandArgs::Parse(args, {});
  if (!parsed.ok()) return context.Usage(parsed.status());
  if (parsed->size() != 2) return context.Usage("stat takes WS PATH");
  v1::StatFileRequest request;
  request.set_workspace((*parsed)[0]);
  request.set_path((*parsed)[1]);
  auto stat =
      context.light(request.workspace())
          .Call(context.light(request.workspace()).files(), &v1::LightFilesService::Stub::StatFile, request);
  if (!stat.ok()) return context.Fail(stat.status());
  if (context.json()) {
    PrintJson(ProtoToJsonValue(*stat));
  } else if (!stat->exists()) {
    std::cout << (*parsed)[1] << ": does not exist\n";
  } else {
    const v1::FileInfo& info = stat->info();
    std::cout << info.path() << ": " << TypeName(info.type()) << ", " << info.size()
              << " bytes, modified " << FormatTime(info.modified_unix_nanos()) << "\n";
  }
  // A missing path is an answer, not a call error; scripts still want `stat && ...` to work.
  return stat->exists() ? kExitOk : kExitNotFound;
}

int RunCatCommand(CliContext& context, const Args& args) {
  auto parsed = CommandArgs::Parse(args, {{"lines", kTakesValue}, {"bytes", kTakesValue}});
  if (!parsed.ok()) return context.Usage(parsed.status());
  if (parsed->size() != 2) return context.Usage("cat takes WS PATH");
  v1::ReadFileRequest request;
  request.set_workspace((*parsed)[0]);
  request.set_path((*parsed)[1]);
  std::uint64_t first = 0, second = 0;
  if (parsed->Has("lines") && parsed->Has("bytes")) {
    return context.Usage("cat takes --lines or --bytes, not both");
  }
  if (parsed->Has("lines")) {
    if (!ParsePair(parsed->String("lines"), first, second)) {
      return context.Usage("--lines takes START:COUNT (1-based; COUNT 0 = to the end)");
    }
    request.mutable_lines()->set_start_line(first);
    request.mutable_lines()->set_line_count(second);
  }
  if (parsed->Has("bytes")) {
    if (!ParsePair(parsed->String("bytes"), first, second)) {
      return context.Usage("--bytes takes OFFSET:LENGTH (LENGTH 0 = to the end)");
    }
    request.mutable_bytes()->set_offset(first);
    request.mutable_bytes()->set_length(second);
  }
  auto read = context.light(request.workspace()).ReadFile(request);
  if (!read.ok()) return context.Fail(read.status());
  if (context.json()) {
    nlohmann::json out = ProtoToJsonValue(*read);  // content is base64, as bytes map to JSON
    out["path"] = (*parsed)[1];
    PrintJson(out);
  } else {
    std::cout << read->content();
    std::cout.flush();
  }
  return kExitOk;
}

int RunWriteCommand(CliContext& context, const Args& args) {
  auto parsed = CommandArgs::Parse(args, {{"overwrite"}, {"expect_sha256", kTakesValue}});
  if (!parsed.ok()) return context.Usage(parsed.status());
  if (parsed->size() < 2 || parsed->size() > 3) return context.Usage("write takes WS PATH [FILE]");
  auto content = ReadLocalOrStdin(parsed->size() == 3 ? (*parsed)[2] : "-");
  if (!content.ok()) return context.Fail(content.status());
  v1::WriteFileRequest request;
  request.set_workspace((*parsed)[0]);
  request.set_path((*parsed)[1]);
  request.set_content(*std::move(content));
  request.set_overwrite(parsed->Bool("overwrite") || parsed->Has("expect_sha256"));
  request.set_expected_sha256(parsed->String("expect_sha256"));
  auto written =
      context.light(request.workspace())
          .Call(context.light(request.workspace()).files(), &v1::LightFilesService::Stub::WriteFile, request);
  if (!written.ok()) return context.Fail(written.status());
  if (context.json()) {
    nlohmann::json out = ProtoToJsonValue(*written);
    out["path"] = (*parsed)[1];
    PrintJson(out);
  } else {
    std::cout << "wrote " << (*parsed)[1] << " (" << written->size() << " bytes, sha256 "
              << written->sha256() << ")\n";
  }
  return kExitOk;
}

int RunUploadCommand(CliContext& context, const Args& args) {
  auto parsed = CommandArgs::Parse(args, {{"overwrite"}});
  if (!parsed.ok()) return context.Usage(parsed.status());
  if (parsed->size() < 2 || parsed->size() > 3) {
    return context.Usage("upload takes WS LOCAL_PATH [DEST_DIR]");
  }
  const fs::path local = (*parsed)[1];
  std::string dest = parsed->size() == 3 ? (*parsed)[2] : "";
  while (!dest.empty() && dest.back() == '/') dest.pop_back();
  const std::string prefix = dest.empty() || dest == "." ? "" : dest + "/";
  std::vector<std::pair<std::string, std::string>> files;
  std::error_code error;
  const fs::file_status status = fs::status(local, error);
  if (fs::is_regular_file(status)) {
    auto bytes = ReadFileCapped(local, local.string(), kMaxLocalBytes);
    if (!bytes.ok()) return context.Fail(bytes.status());
    files.emplace_back(prefix + local.filename().string(), *std::move(bytes));
  } else if (fs::is_directory(status)) {
    auto tree = ReadLocalTree(local, {.max_total_bytes = kMaxLocalBytes});
    if (!tree.ok()) return context.Fail(tree.status());
    for (auto& [relative, bytes] : *tree) files.emplace_back(prefix + relative, std::move(bytes));
  } else {
    return context.Fail(absl::NotFoundError(
        StrCat("'", local.string(), "' is not a local file or directory")));
  }
  if (files.empty()) {
    return context.Fail(absl::InvalidArgumentError(
        StrCat("'", local.string(), "' holds no regular file to upload")));
  }
  auto uploaded = context.light((*parsed)[0]).UploadFiles((*parsed)[0], files, parsed->Bool("overwrite"));
  if (!uploaded.ok()) return context.Fail(uploaded.status());
  if (context.json()) {
    PrintJson(ProtoToJsonValue(*uploaded));
  } else {
    for (const v1::FileInfo& file : uploaded->files()) std::cout << "  " << file.path() << "\n";
    std::cout << "uploaded " << uploaded->files_size() << " file(s), "
              << HumanBytes(uploaded->total_bytes()) << " to " << (*parsed)[0] << "\n";
  }
  return kExitOk;
}

int RunEditCommand(CliContext& context, const Args& args) {
  auto parsed = CommandArgs::Parse(args, {{"replace_all"}, {"expect_sha256", kTakesValue}});
  if (!parsed.ok()) return context.Usage(parsed.status());
  if (parsed->size() != 4) return context.Usage("edit takes WS PATH OLD NEW");
  v1::EditFileRequest request;
  request.set_workspace((*parsed)[0]);
  request.set_path((*parsed)[1]);
  request.set_expected_sha256(parsed->String("expect_sha256"));
  v1::Edit* edit = request.add_edits();
  edit->set_old_text((*parsed)[2]);
  edit->set_new_text((*parsed)[3]);
  edit->set_replace_all(parsed->Bool("replace_all"));
  auto edited = context.light(request.workspace()).EditFile(request);
  if (!edited.ok()) return context.Fail(edited.status());
  const std::uint32_t replacements = edited->replacements_size() > 0 ? edited->replacements(0) : 0;
  if (context.json()) {
    nlohmann::json out = ProtoToJsonValue(*edited);
    out["path"] = (*parsed)[1];
    PrintJson(out);
  } else {
    std::cout << "edited " << (*parsed)[1] << " (" << replacements << " replacement(s))\n";
  }
  return kExitOk;
}

int RunMoveCommand(CliContext& context, const Args& args) {
  auto parsed = CommandArgs::Parse(args, {{"overwrite"}});
  if (!parsed.ok()) return context.Usage(parsed.status());
  if (parsed->size() != 3) return context.Usage("mv takes WS FROM TO");
  v1::MoveFileRequest request;
  request.set_workspace((*parsed)[0]);
  request.set_from_path((*parsed)[1]);
  request.set_to_path((*parsed)[2]);
  request.set_overwrite(parsed->Bool("overwrite"));
  auto moved =
      context.light(request.workspace())
          .Call(context.light(request.workspace()).files(), &v1::LightFilesService::Stub::MoveFile, request);
  if (!moved.ok()) return context.Fail(moved.status());
  if (context.json()) {
    PrintJson({{"from", (*parsed)[1]}, {"to", (*parsed)[2]}, {"moved", true}});
  } else {
    std::cout << "moved " << (*parsed)[1] << " -> " << (*parsed)[2] << "\n";
  }
  return kExitOk;
}

int RunRemoveCommand(CliContext& context, const Args& args) {
  auto parsed = CommandArgs::Parse(args, {{"recursive"}});
  if (!parsed.ok()) return context.Usage(parsed.status());
  if (parsed->size() != 2) return context.Usage("rm takes WS PATH");
  v1::DeleteFileRequest request;
  request.set_workspace((*parsed)[0]);
  request.set_path((*parsed)[1]);
  request.set_recursive(parsed->Bool("recursive"));
  auto deleted =
      context.light(request.workspace())
          .Call(context.light(request.workspace()).files(), &v1::LightFilesService::Stub::DeleteFile, request);
  if (!deleted.ok()) return context.Fail(deleted.status());
  if (context.json()) {
    nlohmann::json out = ProtoToJsonValue(*deleted);  // removedEntries
    out["path"] = (*parsed)[1];
    out["deleted"] = true;
    PrintJson(out);
  } else {
    std::cout << "deleted " << (*parsed)[1] << "\n";
  }
  return kExitOk;
}

int RunGrepCommand(CliContext& context, const Args& args) {
  auto parsed = CommandArgs::Parse(args, {{"path", kTakesValue},
                                          {"glob", kTakesValue},
                                          {"ignore_case"},
                                          {"max", kTakesValue}});
  if (!parsed.ok()) return context.Usage(parsed.status());
  if (parsed->size() != 2) return context.Usage("grep takes WS REGEX");
  auto max = parsed->Uint("max", 0);
  if (!max.ok()) return context.Usage(max.status());
  v1::GrepRequest request;
  request.set_workspace((*parsed)[0]);
  request.set_pattern((*parsed)[1]);
  request.set_path(parsed->String("path"));
  request.set_glob(parsed->String("glob"));
  request.set_case_insensitive(parsed->Bool("ignore_case"));
  request.set_max_results(static_cast<std::uint32_t>(*max));
  auto found = context.light(request.workspace()).Grep(request);
  if (!found.ok()) return context.Fail(found.status());
  for (const v1::GrepMatch& match : found->matches()) {
    if (context.json()) {
      PrintJson(ProtoToJsonValue(match));  // one GrepMatch per line
    } else {
      std::cout << match.path() << ":" << match.line_number() << ": " << match.line() << "\n";
    }
  }
  if (found->truncated()) std::cerr << "(matches truncated at the limit)\n";
  return kExitOk;
}

}  // namespace workerpair::controller::cli
