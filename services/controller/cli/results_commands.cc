// `controller results WS [RUN] [--out=DIR]`: the results folder of a run (results/<RUN>/ in the
// workspace, as `run` wrote and committed it) downloaded to a local folder; without RUN, the
// workspace's runs. Only worker-light's read calls (ListFiles, ReadFile by byte ranges).
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "libs/common/file_io.h"
#include "libs/common/str_cat.h"
#include "services/controller/cli/commands.h"

namespace workerpair::controller::cli {
namespace {

namespace fs = std::filesystem;

constexpr char kResultsDir[] = "results";
// One ReadFile's byte range: well under worker-light's read cap and gRPC's message limit.
constexpr std::uint64_t kChunkBytes = std::uint64_t{4} << 20;
// A results folder holds a handful of files (video, heatmaps, JSON); a cap keeps a wrong RUN
// (or a workspace someone filled) from streaming gigabytes to the caller's disk.
constexpr std::uint64_t kMaxDownloadBytes = std::uint64_t{2} << 30;

// A run name as `run` makes them and worker-light stores them: one path component.
bool IsPlainName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of(std::string("/\\\0", 3)) == std::string::npos;
}

// `relative` (a path the server listed, below the run's folder) as a local relative path; empty
// when it would leave the folder ("..", absolute, empty components).
fs::path SafeRelative(const std::string& relative) {
  fs::path safe;
  std::size_t start = 0;
  while (start <= relative.size()) {
    const std::size_t slash = std::min(relative.find('/', start), relative.size());
    const std::string part = relative.substr(start, slash - start);
    if (!IsPlainName(part)) return {};
    safe /= part;
    start = slash + 1;
  }
  return safe;
}

absl::StatusOr<v1::ListFilesResponse> List(CliContext& context, const std::string& workspace,
                                           const std::string& path, bool recursive) {
  v1::ListFilesRequest request;
  request.set_workspace(workspace);
  request.set_path(path);
  request.set_recursive(recursive);
  LightClient& light = context.light(workspace);
  auto listed = light.Call(light.files(), &v1::LightFilesService::Stub::ListFiles, request);
  if (!listed.ok()) return listed.status();
  if (listed->truncated()) {
    return absl::ResourceExhaustedError(
        StrCat("'", path, "' in workspace ", workspace, " holds more entries than one listing "
               "returns; fetch its files with `controller cat`"));
  }
  return listed;
}

// The whole file by byte ranges, checked against the size the first read reports.
absl::StatusOr<std::string> ReadWhole(CliContext& context, const std::string& workspace,
                                      const std::string& path) {
  std::string content;
  std::uint64_t file_size = 0;
  do {
    v1::ReadFileRequest request;
    request.set_workspace(workspace);
    request.set_path(path);
    request.mutable_bytes()->set_offset(content.size());
    request.mutable_bytes()->set_length(kChunkBytes);
    auto read = context.light(workspace).ReadFile(request);
    if (!read.ok()) return read.status();
    if (content.empty()) file_size = read->file_size();
    if (read->file_size() != file_size) {
      return absl::AbortedError(StrCat(path, " changed while it was downloaded; try again"));
    }
    if (read->content().empty() && content.size() < file_size) {
      return absl::DataLossError(StrCat(path, ": the server sent no bytes at offset ",
                                        content.size(), " of ", file_size));
    }
    content += read->content();
  } while (content.size() < file_size);
  if (content.size() != file_size) {
    return absl::AbortedError(StrCat(path, " changed while it was downloaded; try again"));
  }
  return content;
}

int ListRuns(CliContext& context, const std::string& workspace) {
  auto listed = List(context, workspace, kResultsDir, /*recursive=*/false);
  if (absl::IsNotFound(listed.status())) {
    // The workspace exists but has no results/ yet (a missing workspace says so itself).
    auto root = List(context, workspace, "", /*recursive=*/false);
    if (!root.ok()) return context.Fail(root.status());
    listed = v1::ListFilesResponse();
  }
  if (!listed.ok()) return context.Fail(listed.status());
  int runs = 0;
  for (const v1::FileInfo& entry : listed->entries()) {
    if (entry.type() != v1::FILE_TYPE_DIRECTORY) continue;
    const std::string name = fs::path(entry.path()).filename().string();
    ++runs;
    if (context.json()) {
      PrintJson({{"run", name}, {"path", entry.path()},
                 {"modifiedUnixNanos", std::to_string(entry.modified_unix_nanos())}});
    } else {
      std::cout << name << "\n";
    }
  }
  if (runs == 0 && !context.json()) {
    std::cerr << "workspace " << workspace << " has no results yet (`controller run " << workspace
              << "` makes some)\n";
  }
  return kExitOk;
}

int DownloadRun(CliContext& context, const std::string& workspace, const std::string& run,
                const fs::path& out) {
  const std::string folder = StrCat(kResultsDir, "/", run);
  auto listed = List(context, workspace, folder, /*recursive=*/true);
  if (absl::IsNotFound(listed.status())) {
    auto root = List(context, workspace, "", /*recursive=*/false);
    if (!root.ok()) return context.Fail(root.status());
    return context.Fail(absl::NotFoundError(
        StrCat("workspace ", workspace, " has no run '", run, "' (`controller results ",
               workspace, "` lists its runs)")));
  }
  if (!listed.ok()) return context.Fail(listed.status());
  std::vector<std::pair<std::string, fs::path>> files;  // workspace path, local relative path
  std::uint64_t total = 0;
  for (const v1::FileInfo& entry : listed->entries()) {
    if (entry.type() != v1::FILE_TYPE_FILE) continue;  // directories come with their files
    const std::string prefix = folder + "/";
    const fs::path relative = entry.path().rfind(prefix, 0) == 0
                                  ? SafeRelative(entry.path().substr(prefix.size()))
                                  : fs::path();
    if (relative.empty()) {
      return context.Fail(absl::DataLossError(
          StrCat("the server listed '", entry.path(), "', which is not inside ", folder)));
    }
    total += entry.size();
    files.emplace_back(entry.path(), relative);
  }
  if (total > kMaxDownloadBytes) {
    return context.Fail(absl::ResourceExhaustedError(
        StrCat(folder, " holds ", HumanBytes(total), ", more than the ",
               HumanBytes(kMaxDownloadBytes), " `results` downloads")));
  }
  if (absl::Status made = CreateDirectories(out, out.string()); !made.ok()) {
    return context.Fail(made);
  }
  std::vector<std::string> written;
  for (const auto& [remote, relative] : files) {
    context.progress().Status(StrCat("downloading ", remote));
    auto content = ReadWhole(context, workspace, remote);
    if (!content.ok()) return context.Fail(content.status());
    const fs::path local = out / relative;
    absl::Status status = WriteFileAtomically(local, *content, {}, local.string());
    if (!status.ok()) return context.Fail(status);
    written.push_back(local.string());
  }
  context.progress().Finish();
  if (context.json()) {
    PrintJson({{"workspace", workspace}, {"run", run}, {"out", out.string()},
               {"files", written}, {"bytes", std::to_string(total)}});
  } else {
    std::cout << "run " << run << " of workspace " << workspace << ": " << written.size()
              << " files, " << HumanBytes(total) << "\n";
    for (const std::string& path : written) std::cout << "  " << path << "\n";
  }
  return kExitOk;
}

}  // namespace

int RunResultsCommand(CliContext& context, const Args& args) {
  auto parsed = CommandArgs::Parse(args, {{"out", kTakesValue}});
  if (!parsed.ok()) return context.Usage(parsed.status());
  if (parsed->size() < 1 || parsed->size() > 2) return context.Usage("results takes WS [RUN]");
  const std::string& workspace = (*parsed)[0];
  if (parsed->size() == 1) {
    if (parsed->Has("out")) return context.Usage("--out needs a RUN to download");
    return ListRuns(context, workspace);
  }
  const std::string& run = (*parsed)[1];
  if (!IsPlainName(run)) {
    return context.Usage(StrCat("'", run, "' is not a run name (one folder under results/)"));
  }
  const std::string out = parsed->String("out", run);
  if (out.empty()) return context.Usage("--out takes a folder");
  return DownloadRun(context, workspace, run, out);
}

}  // namespace workerpair::controller::cli
