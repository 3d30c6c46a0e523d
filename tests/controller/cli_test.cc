// The `controller` binary as a user runs it: a subprocess against a real worker-light and one
// worker-heavy on loopback, checked by exit code, stdout and the files it writes.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/server_process.h"

namespace fs = std::filesystem;
using workerpair::testing::ServerProcess;
using workerpair::testing::TempDir;

namespace {

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs `binary` with `args`, stdin from /dev/null, stdout and stderr captured.
Result RunProgram(const TempDir& dir, const std::string& binary,
                  const std::vector<std::string>& args) {
  static int calls = 0;
  const fs::path out = dir.path() / ("out-" + std::to_string(++calls));
  const fs::path err = dir.path() / ("err-" + std::to_string(calls));
  std::vector<std::string> argv_strings = {binary};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int in_fd = open("/dev/null", O_RDONLY);
    const int out_fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err_fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in_fd < 0 || out_fd < 0 || err_fd < 0) _exit(126);
    dup2(in_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    // The working directory is the temp dir, so default output folders land there.
    if (chdir(dir.path().c_str()) != 0) _exit(126);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  Result result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadAll(out);
  result.err = ReadAll(err);
  return result;
}

// Runs the controller with `args`.
Result RunController(const TempDir& dir, const std::vector<std::string>& args) {
  return RunProgram(dir, WORKERPAIR_CONTROLLER_BINARY, args);
}

// A worker-light (and, when asked, one worker-heavy) for one test, and the flags to reach them.
struct Pair {
  TempDir dir;
  std::unique_ptr<ServerProcess> light;
  std::unique_ptr<ServerProcess> heavy;

  explicit Pair(bool with_heavy) {
    fs::create_directories(dir.path() / "workspaces");
    auto started = ServerProcess::Start(
        WORKERPAIR_LIGHT_BINARY,
        {"--root=" + (dir.path() / "workspaces").string(), "--log_level=warn"});
    REQUIRE(started.ok());
    light = std::move(*started);
    if (with_heavy) {
      fs::create_directories(dir.path() / "scratch");
      auto heavy_started = ServerProcess::Start(
          WORKERPAIR_HEAVY_BINARY,
          {"--scratch_dir=" + (dir.path() / "scratch").string(), "--slots=2", "--log_level=warn"});
      REQUIRE(heavy_started.ok());
      heavy = std::move(*heavy_started);
    }
  }

  // The controller with the global flags pointing at this pair, then `args`.
  Result Run(std::vector<std::string> args) {
    std::vector<std::string> full = {"--light=" + light->address(),
                                     "--heavy=" + (heavy ? heavy->address() : "127.0.0.1:1")};
    full.insert(full.end(), args.begin(), args.end());
    Result result = RunController(dir, full);
    UNSCOPED_INFO("controller exited " << result.exit_code << "\nstdout: " << result.out
                                       << "\nstderr: " << result.err);
    return result;
  }

  fs::path Local(const std::string& name) const { return dir.path() / name; }
};

void WriteLocal(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

nlohmann::json ParseJson(const std::string& text) {
  nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  REQUIRE_FALSE(value.is_discarded());
  return value;
}

// The keys of `value` (nested) that are not lowerCamelCase, as "a.b_c": empty when the object
// follows protobuf's JSON mapping like flow.json and run.json do.
std::vector<std::string> SnakeKeys(const nlohmann::json& value, const std::string& where = "") {
  std::vector<std::string> found;
  if (value.is_array()) {
    for (const nlohmann::json& item : value) {
      for (std::string& key : SnakeKeys(item, where + "[]")) found.push_back(std::move(key));
    }
  } else if (value.is_object()) {
    for (const auto& [key, item] : value.items()) {
      const std::string path = where.empty() ? key : where + "." + key;
      if (key.find('_') != std::string::npos) found.push_back(path);
      for (std::string& nested : SnakeKeys(item, path)) found.push_back(std::move(nested));
    }
  }
  return found;
}

// Each line of a --json output (one object per line for listings), parsed.
std::vector<nlohmann::json> JsonLines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) lines.push_back(ParseJson(text.substr(start, end - start)));
    start = end + 1;
  }
  return lines;
}

}  // namespace

TEST_CASE("ws create, write, git init, commit and log work end to end", "[cli]") {
  Pair pair(/*with_heavy=*/false);
  CHECK(pair.Run({"ws", "create", "agent"}).exit_code == 0);
  WriteLocal(pair.Local("notes.txt"), "first note\n");
  CHECK(pair.Run({"write", "agent", "docs/notes.txt", pair.Local("notes.txt").string()})
            .exit_code == 0);
  CHECK(pair.Run({"git", "init", "agent"}).exit_code == 0);
  Result commit = pair.Run({"git", "commit", "agent", "--message=add the notes", "--json"});
  REQUIRE(commit.exit_code == 0);
  const std::string hash = ParseJson(commit.out)["hash"].get<std::string>();
  CHECK(hash.size() == 40);

  Result log = pair.Run({"--json", "git", "log", "agent"});
  REQUIRE(log.exit_code == 0);
  nlohmann::json entry = ParseJson(log.out.substr(0, log.out.find('\n')));
  CHECK(entry["hash"] == hash);
  CHECK(entry["summary"] == "add the notes");

  Result text_log = pair.Run({"git", "log", "agent"});
  CHECK(text_log.out.find("add the notes") != std::string::npos);
  Result cat = pair.Run({"cat", "agent", "docs/notes.txt"});
  CHECK(cat.out == "first note\n");
}

TEST_CASE("Every --json output is protobuf's JSON mapping: lowerCamelCase, enum names, 64-bit "
          "integers as strings", "[cli]") {
  Pair pair(/*with_heavy=*/false);
  WriteLocal(pair.Local("notes.txt"), "first note\nsecond note\n");
  const std::string notes = pair.Local("notes.txt").string();
  // Every command that answers from the light side, each output checked for snake_case keys.
  const std::vector<std::vector<std::string>> commands = {
      {"ws", "create", "agent"},
      {"write", "agent", "docs/notes.txt", notes},
      {"write", "agent", "docs/gone.txt", notes},
      {"ls", "agent", "--recursive"},
      {"stat", "agent", "docs/notes.txt"},
      {"cat", "agent", "docs/notes.txt"},
      {"mv", "agent", "docs/gone.txt", "docs/moved.txt"},
      {"rm", "agent", "docs/moved.txt"},
      {"grep", "agent", "second"},
      {"git", "init", "agent"},
      {"git", "status", "agent"},
      {"git", "commit", "agent", "--message=notes"},
      {"git", "log", "agent"},
      {"lint", "workspace", "agent", "--skip_external"},
      {"bundle", "agent", "notes.tar.gz"},
      {"ws", "list"},
      {"results", "agent"},
      {"cat", "agent", "no/such/file"},
  };
  std::map<std::string, std::vector<nlohmann::json>> outputs;
  for (const std::vector<std::string>& command : commands) {
    std::vector<std::string> args = {"--json"};
    args.insert(args.end(), command.begin(), command.end());
    Result result = pair.Run(args);
    std::string name;
    for (const std::string& word : command) name += (name.empty() ? "" : " ") + word;
    INFO(name << ": " << result.out);
    std::vector<nlohmann::json> lines = JsonLines(result.out);
    for (const nlohmann::json& line : lines) CHECK(SnakeKeys(line).empty());
    outputs[command[0] == "git" || command[0] == "ws" ? command[0] + " " + command[1]
                                                      : command[0]] = std::move(lines);
  }
  // ls: one FileInfo per line, the type by its enum name, int64/uint64 as strings.
  REQUIRE(outputs["ls"].size() >= 3);
  const auto file = std::find_if(outputs["ls"].begin(), outputs["ls"].end(), [](const auto& e) {
    return e["path"] == "docs/notes.txt";
  });
  REQUIRE(file != outputs["ls"].end());
  CHECK((*file)["type"] == "FILE_TYPE_FILE");
  CHECK((*file)["size"] == "23");
  CHECK((*file)["modifiedUnixNanos"].is_string());
  REQUIRE(outputs["grep"].size() == 1);
  CHECK(outputs["grep"][0]["lineNumber"] == "2");
  REQUIRE(outputs["rm"].size() == 1);
  CHECK(outputs["rm"][0]["removedEntries"] == "1");
  REQUIRE(outputs["bundle"].size() == 1);
  CHECK(outputs["bundle"][0].contains("archiveBytes"));
  // The error object: the status code's name, the exit code and the message.
  REQUIRE(outputs["cat"].size() == 1);
  CHECK(outputs["cat"][0]["error"]["code"] == "NOT_FOUND");
  CHECK(outputs["cat"][0]["error"]["exitCode"] == 3);
}

TEST_CASE("lint of a broken MJCF file reports the error and exits 4", "[cli]") {
  Pair pair(/*with_heavy=*/false);
  REQUIRE(pair.Run({"ws", "create", "agent"}).exit_code == 0);
  WriteLocal(pair.Local("broken.xml"),
             "<mujoco><worldbody><geom type=\"sphere\" size=\"0.1\"></worldbody>\n");
  REQUIRE(pair.Run({"write", "agent", "scene.xml", pair.Local("broken.xml").string()})
              .exit_code == 0);
  Result lint = pair.Run({"lint", "file", "agent", "scene.xml"});
  CHECK(lint.exit_code == 4);
  CHECK(lint.out.find("error") != std::string::npos);
  CHECK(lint.out.find("scene.xml:1") != std::string::npos);

  Result json = pair.Run({"--json", "lint", "workspace", "agent", "--skip_external"});
  CHECK(json.exit_code == 4);
  nlohmann::json response = ParseJson(json.out);
  CHECK(response["ok"] == false);
  CHECK(response["errorCount"] == 1);
}

TEST_CASE("bundle writes the workspace bundle to a local .tar.gz", "[cli]") {
  Pair pair(/*with_heavy=*/false);
  REQUIRE(pair.Run({"ws", "create", "agent"}).exit_code == 0);
  const fs::path scene = fs::path(WORKERPAIR_SOURCE_DIR) / "examples/scenes/ramp_goal";
  REQUIRE(pair.Run({"upload", "agent", scene.string()}).exit_code == 0);
  Result bundle = pair.Run({"--json", "bundle", "agent", "scene.tar.gz"});
  REQUIRE(bundle.exit_code == 0);
  nlohmann::json summary = ParseJson(bundle.out);
  CHECK(summary["fileCount"] == 3);
  const std::string bytes = ReadAll(pair.Local("scene.tar.gz"));
  REQUIRE(bytes.size() > 2);
  CHECK(static_cast<unsigned char>(bytes[0]) == 0x1f);  // gzip magic
  CHECK(static_cast<unsigned char>(bytes[1]) == 0x8b);
  CHECK(summary["archiveBytes"] == std::to_string(bytes.size()));  // uint64: a JSON string

  // A second bundle to the same file is refused unless asked to overwrite.
  CHECK(pair.Run({"bundle", "agent", "scene.tar.gz"}).exit_code == 4);
  CHECK(pair.Run({"bundle", "agent", "scene.tar.gz", "--overwrite"}).exit_code == 0);
}

TEST_CASE("simulate on a scene directory writes the video, result.json and run.json", "[cli]") {
  Pair pair(/*with_heavy=*/true);
  const fs::path scene = fs::path(WORKERPAIR_SOURCE_DIR) / "examples/scenes/ramp_goal";
  const fs::path out = pair.Local("results");
  Result run = pair.Run({"--json", "simulate", scene.string(), "--out=" + out.string(),
                         "--width=320", "--height=240"});
  REQUIRE(run.exit_code == 0);
  nlohmann::json summary = ParseJson(run.out);
  CHECK(summary["replica"] == pair.heavy->address());
  CHECK(summary["result"]["outcome"] == "OUTCOME_SUCCESS");
  CHECK(summary["requestId"].get<std::string>().size() == 32);  // made by the CLI
  const std::string video = ReadAll(out / "video.mp4");
  REQUIRE(video.size() > 1000);
  CHECK(video.substr(4, 4) == "ftyp");
  CHECK(fs::exists(out / "heatmap_parts.png"));
  CHECK(ParseJson(ReadAll(out / "run.json"))["result"]["outcome"] == "OUTCOME_SUCCESS");
  // The server's own: a SimulationReport (heavy.proto), ids with the result.
  const nlohmann::json server_result = ParseJson(ReadAll(out / "result.json"));
  CHECK(server_result["result"].contains("metrics"));
  CHECK(server_result["requestId"] == summary["requestId"]);
  CHECK(server_result["jobId"] == summary["heavyJobId"]);
}

TEST_CASE("simulate of a scene that fails exits 7", "[cli]") {
  Pair pair(/*with_heavy=*/true);
  const fs::path scene = fs::path(WORKERPAIR_SOURCE_DIR) / "examples/scenes/fall_off";
  Result run = pair.Run({"simulate", scene.string(), "--no_render",
                         "--out=" + pair.Local("fail").string()});
  CHECK(run.exit_code == 7);
  CHECK(run.out.find("FAILURE") != std::string::npos);
}

TEST_CASE("info answers with the replica's capacity", "[cli]") {
  Pair pair(/*with_heavy=*/true);
  Result info = pair.Run({"info"});
  REQUIRE(info.exit_code == 0);
  CHECK(info.out.find(pair.heavy->address()) != std::string::npos);
  CHECK(info.out.find("slots 2") != std::string::npos);
  Result json = pair.Run({"info", "--json"});
  REQUIRE(json.exit_code == 0);
  nlohmann::json line = ParseJson(json.out);
  CHECK(line["target"] == pair.heavy->address());
  CHECK(line["info"]["slots"] == 2);
}

TEST_CASE("An unknown command exits 2", "[cli]") {
  TempDir dir;
  Result result = RunController(dir, {"frobnicate"});
  CHECK(result.exit_code == 2);
  CHECK(result.err.find("unknown command 'frobnicate'") != std::string::npos);
  CHECK(RunController(dir, {}).exit_code == 2);
  CHECK(RunController(dir, {"ls", "ws", "--no_such_option"}).exit_code == 2);
  CHECK(RunController(dir, {"--deadline_s=soon", "ping"}).exit_code == 2);
  CHECK(RunController(dir, {"--help"}).exit_code == 0);
}

TEST_CASE("With --json every error is one valid JSON object on stdout", "[cli]") {
  Pair pair(/*with_heavy=*/false);
  Result unknown = pair.Run({"--json", "frobnicate"});
  CHECK(unknown.exit_code == 2);
  nlohmann::json usage = ParseJson(unknown.out);
  CHECK(usage["error"]["code"] == "INVALID_ARGUMENT");
  CHECK(usage["error"]["exitCode"] == 2);

  Result missing = pair.Run({"--json", "cat", "no-such-workspace", "a \"quoted\"\tpath"});
  CHECK(missing.exit_code == 3);
  nlohmann::json error = ParseJson(missing.out);
  CHECK(error["error"]["code"] == "NOT_FOUND");
  CHECK(error["error"]["message"].is_string());

  // No worker-heavy is listening at 127.0.0.1:1: unreachable is exit 6, still JSON.
  Result unreachable = pair.Run({"--json", "--attempts=1", "simulate",
                                 (fs::path(WORKERPAIR_SOURCE_DIR) / "examples/scenes/ramp_goal")
                                     .string()});
  CHECK(unreachable.exit_code == 6);
  CHECK(ParseJson(unreachable.out)["error"]["code"] == "UNAVAILABLE");
}

TEST_CASE("run takes a local scene folder through the flow into the workspace", "[cli]") {
  Pair pair(/*with_heavy=*/true);
  const fs::path scene = fs::path(WORKERPAIR_SOURCE_DIR) / "examples/scenes/ramp_goal";
  Result run = pair.Run({"--json", "run", "agent", scene.string(), "--create", "--no_render",
                         "--run_name=r1"});
  REQUIRE(run.exit_code == 0);
  nlohmann::json report = ParseJson(run.out);
  CHECK(report["succeeded"] == true);
  CHECK(report["resultsDir"] == "results/r1");
  const fs::path workspace = pair.dir.path() / "workspaces" / "agent";
  CHECK(fs::exists(workspace / "results/r1/flow.json"));
  CHECK(fs::exists(workspace / "meshes/ramp.stl"));

  // A broken scene stops at lint with exit 4 and names the file and line.
  WriteLocal(pair.Local("broken.xml"), "<mujoco>\n<worldbody>\n</mujoco>\n");
  fs::create_directories(pair.Local("broken"));
  fs::copy_file(scene / "manifest.json", pair.Local("broken/manifest.json"));
  fs::copy_file(pair.Local("broken.xml"), pair.Local("broken/scene.xml"));
  Result broken = pair.Run({"run", "agent", pair.Local("broken").string()});
  CHECK(broken.exit_code == 4);
  CHECK(broken.out.find("stopped at lint") != std::string::npos);
  CHECK(broken.out.find("scene.xml:") != std::string::npos);
}

TEST_CASE("demo starts its own pair, records a video and shuts the pair down", "[cli]") {
  TempDir dir;
  Result demo = RunController(dir, {"demo", "--dir=" + (dir.path() / "demo").string()});
  INFO("stdout: " << demo.out << "\nstderr: " << demo.err);
  REQUIRE(demo.exit_code == 0);
  CHECK(demo.out.find("outcome: OUTCOME_SUCCESS") != std::string::npos);
  CHECK(demo.out.find("servers shut down cleanly") != std::string::npos);
  const std::size_t at = demo.out.find((dir.path() / "demo").string());
  REQUIRE(at != std::string::npos);
  const std::size_t video_at = demo.out.find("video.mp4");
  REQUIRE(video_at != std::string::npos);
  const std::size_t line_start = demo.out.rfind('\n', video_at) + 1;
  const std::string video_path =
      demo.out.substr(line_start, video_at + 9 - line_start);
  const std::string video = ReadAll(fs::path(video_path.substr(video_path.find('/'))));
  REQUIRE(video.size() > 1000);
  CHECK(video.substr(4, 4) == "ftyp");
}

// ---- A CLI that helps: hints, usage exit codes, --help, --create, results ----

TEST_CASE("With no server running the error says so and names --light and WORKERPAIR_LIGHT",
          "[cli]") {
  TempDir dir;
  Result result = RunController(dir, {"--light=127.0.0.1:1", "--deadline_s=5", "ping"});
  INFO("stderr: " << result.err);
  CHECK(result.exit_code == 6);
  CHECK(result.err.find("may not be running") != std::string::npos);
  CHECK(result.err.find("--light") != std::string::npos);
  CHECK(result.err.find("WORKERPAIR_LIGHT") != std::string::npos);

  // The same for worker-heavy, with its own flag and variable.
  const fs::path scene = fs::path(WORKERPAIR_SOURCE_DIR) / "examples/scenes/ramp_goal";
  Result heavy = RunController(dir, {"--heavy=127.0.0.1:1", "--wait_s=5", "--attempts=1",
                                     "build", scene.string()});
  INFO("stderr: " << heavy.err);
  CHECK(heavy.exit_code == 6);
  CHECK(heavy.err.find("may not be running") != std::string::npos);
  CHECK(heavy.err.find("--heavy") != std::string::npos);
  CHECK(heavy.err.find("WORKERPAIR_HEAVY") != std::string::npos);
}

TEST_CASE("Pointing --light at worker-heavy says that port serves another service", "[cli]") {
  Pair pair(/*with_heavy=*/true);
  Result result = RunController(pair.dir, {"--light=" + pair.heavy->address(), "ls", "agent"});
  INFO("stderr: " << result.err);
  CHECK(result.exit_code != 0);
  CHECK(result.err.find("UNIMPLEMENTED") != std::string::npos);
  CHECK(result.err.find("another service, not worker-light") != std::string::npos);

  Result json = RunController(pair.dir, {"--json", "--light=" + pair.heavy->address(), "ls",
                                         "agent"});
  CHECK(ParseJson(json.out)["error"]["message"].get<std::string>().find(
            "another service, not worker-light") != std::string::npos);
}

TEST_CASE("run refuses a workspace that does not exist unless --create is given", "[cli]") {
  Pair pair(/*with_heavy=*/true);
  const fs::path scene = fs::path(WORKERPAIR_SOURCE_DIR) / "examples/scenes/ramp_goal";
  Result typo = pair.Run({"run", "agnet", scene.string(), "--no_render"});
  INFO("stderr: " << typo.err);
  CHECK(typo.exit_code == 3);
  CHECK(typo.err.find("does not exist") != std::string::npos);
  CHECK(typo.err.find("--create") != std::string::npos);
  CHECK(typo.err.find("ws create agnet") != std::string::npos);
  CHECK_FALSE(fs::exists(pair.dir.path() / "workspaces" / "agnet"));

  Result json = pair.Run({"--json", "run", "agnet", scene.string(), "--no_render"});
  CHECK(json.exit_code == 3);
  CHECK(ParseJson(json.out)["error"]["code"] == "NOT_FOUND");

  // A workspace made with `ws create` runs without --create.
  REQUIRE(pair.Run({"ws", "create", "agent"}).exit_code == 0);
  Result run = pair.Run({"run", "agent", scene.string(), "--no_render", "--run_name=r1"});
  CHECK(run.exit_code == 0);
}

TEST_CASE("Usage errors exit 2: a heavy command without its scene", "[cli]") {
  TempDir dir;
  for (const char* command : {"simulate", "verify", "render", "build"}) {
    Result result = RunController(dir, {"--heavy=127.0.0.1:1", command});
    INFO(command << " stderr: " << result.err);
    CHECK(result.exit_code == 2);
    CHECK(result.err.find("usage:") != std::string::npos);
  }
  // Two scenes are a usage error too; --json answers with the error object.
  Result json = RunController(dir, {"--json", "simulate", "a", "b"});
  CHECK(json.exit_code == 2);
  CHECK(ParseJson(json.out)["error"]["exitCode"] == 2);
  CHECK(RunController(dir, {"results"}).exit_code == 2);
  CHECK(RunController(dir, {"run"}).exit_code == 2);
}

TEST_CASE("The flag --help exits 0 for controller, worker-light, worker-heavy and worker-heavy-runner",
          "[cli]") {
  TempDir dir;
  const std::string runner =
      (fs::path(WORKERPAIR_HEAVY_BINARY).parent_path() / "worker-heavy-runner").string();
  for (const std::string& binary : {std::string(WORKERPAIR_CONTROLLER_BINARY),
                                    std::string(WORKERPAIR_LIGHT_BINARY),
                                    std::string(WORKERPAIR_HEAVY_BINARY), runner}) {
    Result result = RunProgram(dir, binary, {"--help"});
    INFO(binary << "\nstdout: " << result.out << "\nstderr: " << result.err);
    CHECK(result.exit_code == 0);
    CHECK(result.out.size() + result.err.size() > 0);
  }
  // A flag that does not exist is still an error.
  CHECK(RunProgram(dir, WORKERPAIR_LIGHT_BINARY, {"--no_such_flag"}).exit_code != 0);
}

TEST_CASE("results lists a workspace's runs and downloads one run's folder", "[cli]") {
  Pair pair(/*with_heavy=*/true);
  const fs::path scene = fs::path(WORKERPAIR_SOURCE_DIR) / "examples/scenes/ramp_goal";
  REQUIRE(pair.Run({"ws", "create", "agent"}).exit_code == 0);
  Result none = pair.Run({"results", "agent"});
  CHECK(none.exit_code == 0);
  CHECK(none.out.empty());
  REQUIRE(pair.Run({"run", "agent", scene.string(), "--no_render", "--run_name=r1"}).exit_code ==
          0);
  REQUIRE(pair.Run({"run", "agent", "--no_render", "--run_name=r2"}).exit_code == 0);

  Result listed = pair.Run({"results", "agent"});
  CHECK(listed.exit_code == 0);
  CHECK(listed.out == "r1\nr2\n");

  const fs::path out = pair.Local("got-r1");
  Result got = pair.Run({"results", "agent", "r1", "--out=" + out.string()});
  REQUIRE(got.exit_code == 0);
  const fs::path remote = pair.dir.path() / "workspaces" / "agent" / "results" / "r1";
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(remote)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    const fs::path local = out / fs::relative(entry.path(), remote);
    INFO(local);
    REQUIRE(fs::exists(local));
    CHECK(ReadAll(local) == ReadAll(entry.path()));
  }
  CHECK(files >= 2);  // result.json and flow.json at least
  CHECK(fs::exists(out / "flow.json"));

  // Without --out the folder is ./RUN; --json names the files.
  Result json = pair.Run({"--json", "results", "agent", "r2"});
  REQUIRE(json.exit_code == 0);
  CHECK(ParseJson(json.out)["files"].size() >= 2);
  CHECK(fs::exists(pair.Local("r2") / "flow.json"));

  CHECK(pair.Run({"results", "agent", "r9"}).exit_code == 3);
  CHECK(pair.Run({"results", "nobody", "r1"}).exit_code == 3);
  CHECK(pair.Run({"results", "nobody"}).exit_code == 3);
  CHECK(pair.Run({"results", "agent", "../r1"}).exit_code == 2);
}
