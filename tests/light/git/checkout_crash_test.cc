// Git calls that rewrite the working tree (checkout, conflicted merge, abort) replace every file
// whole: SIGKILL of worker-light in the middle of them, 20 times, leaves each file with one of
// its known contents, byte for byte, no temporary file in the workspace or any commit, and
// `git fsck --strict` clean; after the restart nothing is half-done (the first git call
// finishes a cut switch, a cut merge aborts) and the tree is HEAD's. Readers running beside checkouts (ReadFile, GitStatus, GitDiff)
// never see a cut, missing or mixed file.
#include <git2.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "tests/support/server_process.h"
#include "workerpair/v1/light_files.grpc.pb.h"
#include "workerpair/v1/light_git.grpc.pb.h"

namespace fs = std::filesystem;
namespace v1 = workerpair::v1;
using workerpair::testing::ServerProcess;
using workerpair::testing::TempDir;

namespace {

constexpr int kFiles = 24;

// "<path>#<version>#" then filler, its length fixed by path and version (hundreds of KB), so a
// cut or a mix of two versions shows.
std::string Content(const std::string& path, const std::string& version) {
  const std::size_t seed = std::hash<std::string>{}(path + version);
  std::string out = path + "#" + version + "#\n";
  const std::size_t length = 150000 + seed % 350000;
  out.reserve(length);
  while (out.size() < length) {
    out += "line " + std::to_string((out.size() * 31 + seed) % 100000) + " " + version + "\n";
  }
  out.resize(length);
  return out;
}

std::string FilePath(int i) { return "d" + std::to_string(i % 3) + "/f" + std::to_string(i); }

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteAll(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

std::string Shell(const std::string& command) {
  const std::string full = command + " 2>&1";
  std::string output;
  FILE* pipe = ::popen(full.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof(buffer), pipe)) output.append(buffer, n);
  const int status = ::pclose(pipe);
  INFO(command << "\n" << output);
  REQUIRE(status == 0);
  return output;
}

std::string Git(const fs::path& ws, const std::string& args) {
  return Shell("git -C '" + ws.string() +
               "' -c safe.directory='*' -c user.name=Test -c user.email=test@example.org "
               "-c core.compression=0 " + args);
}

std::chrono::system_clock::time_point After(int seconds) {
  return std::chrono::system_clock::now() + std::chrono::seconds(seconds);
}

std::unique_ptr<ServerProcess> StartLight(const fs::path& root) {
  auto started = ServerProcess::Start(WORKERPAIR_LIGHT_BINARY,
                                      {"--root=" + root.string(), "--log_level=error"});
  REQUIRE(started.ok());
  return std::move(*started);
}

// A workspace "ws" with branches:
//   a: every d*/f* at version "a", only-a/g, tool.sh (0644)
//   b: every d*/f* at version "b", only-b/h, tool.sh (0755, so checkouts change its mode)
//   x: from the base, f0..f5 at "x" (conflicting with a and b) and x-only/k
// Returns, for each path, every content it may legitimately have (the versions, and the
// conflict-marker files that a merge of x into a or b writes, read from a first merge).
struct Fixture {
  TempDir dir;
  fs::path root = dir.path() / "root";
  fs::path ws = root / "ws";
  std::map<std::string, std::set<std::string>> allowed;
  std::unique_ptr<ServerProcess> light;

  void Setup() {
    light = StartLight(root);
    auto files = v1::LightFilesService::NewStub(light->Channel());
    auto git = v1::LightGitService::NewStub(light->Channel());
    grpc::ClientContext create_context;
    create_context.set_deadline(After(10));
    v1::CreateWorkspaceRequest create;
    create.set_workspace("ws");
    v1::CreateWorkspaceResponse created;
    REQUIRE(files->CreateWorkspace(&create_context, create, &created).ok());
    grpc::ClientContext init_context;
    init_context.set_deadline(After(10));
    v1::GitInitRequest init;
    init.set_workspace("ws");
    init.set_initial_branch("a");
    v1::GitInitResponse initialised;
    REQUIRE(git->GitInit(&init_context, init, &initialised).ok());

    auto put = [&](const std::string& path, const std::string& version) {
      const std::string content = Content(path, version);
      WriteAll(ws / path, content);
      allowed[path].insert(content);
    };
    for (int i = 0; i < kFiles; ++i) put(FilePath(i), "base");
    put("tool.sh", "tool");
    Git(ws, "add -A");
    Git(ws, "commit -q -m base");
    Git(ws, "branch b");
    Git(ws, "branch x");
    for (int i = 0; i < kFiles; ++i) put(FilePath(i), "a");
    put("only-a/g", "a");
    Git(ws, "add -A");
    Git(ws, "commit -q -m a");
    Git(ws, "checkout -q b");
    for (int i = 0; i < kFiles; ++i) put(FilePath(i), "b");
    put("only-b/h", "b");
    fs::permissions(ws / "tool.sh", fs::perms::owner_exec, fs::perm_options::add);
    Git(ws, "add -A");
    Git(ws, "commit -q -m b");
    Git(ws, "checkout -q x");
    for (int i = 0; i < 6; ++i) put(FilePath(i), "x");
    put("x-only/k", "x");
    Git(ws, "add -A");
    Git(ws, "commit -q -m x");
    Git(ws, "checkout -q a");

    // A first merge of x into a and into b through the service: its conflict files are the
    // other contents a file may have.
    for (const std::string branch : {"a", "b"}) {
      REQUIRE(Call(*git, "checkout", branch).ok());
      REQUIRE(Call(*git, "merge", "x").ok());
      for (int i = 0; i < 6; ++i) {
        const std::string merged = ReadAll(ws / FilePath(i));
        CHECK(merged.find("<<<<<<< HEAD") != std::string::npos);
        allowed[FilePath(i)].insert(merged);
      }
      REQUIRE(Call(*git, "abort", "").ok());
    }
    REQUIRE(Call(*git, "checkout", "a").ok());
  }

  // One git call of the load: checkout <arg>, merge <arg>, abort.
  static grpc::Status Call(v1::LightGitService::Stub& git, const std::string& what,
                           const std::string& arg) {
    grpc::ClientContext context;
    context.set_deadline(After(20));
    if (what == "checkout") {
      v1::GitCheckoutRequest request;
      request.set_workspace("ws");
      request.set_branch(arg);
      v1::GitCheckoutResponse response;
      return git.GitCheckout(&context, request, &response);
    }
    if (what == "merge") {
      v1::GitMergeRequest request;
      request.set_workspace("ws");
      request.set_branch(arg);
      request.mutable_author()->set_name("Merger");
      request.mutable_author()->set_email("merger@example.org");
      v1::GitMergeResponse response;
      grpc::Status status = git.GitMerge(&context, request, &response);
      if (status.ok() && response.outcome() != v1::GIT_MERGE_OUTCOME_CONFLICTED) {
        return {grpc::StatusCode::INTERNAL, "merge of x did not conflict"};
      }
      return status;
    }
    v1::GitAbortMergeRequest request;
    request.set_workspace("ws");
    v1::GitAbortMergeResponse response;
    return git.GitAbortMerge(&context, request, &response);
  }

  v1::GitStatusResponse Status(v1::LightGitService::Stub& git) {
    grpc::ClientContext context;
    context.set_deadline(After(20));
    v1::GitStatusRequest request;
    request.set_workspace("ws");
    v1::GitStatusResponse response;
    const grpc::Status status = git.GitStatus(&context, request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    return response;
  }

  // Every file in the working tree is an expected path holding one of its allowed contents;
  // the files every branch has are there (old or new, never missing); no temporary file
  // anywhere in the workspace, .git included.
  void CheckWorkingTree() {
    for (int i = 0; i < kFiles; ++i) CHECK(fs::is_regular_file(ws / FilePath(i)));
    CHECK(fs::is_regular_file(ws / "tool.sh"));
    for (auto it = fs::recursive_directory_iterator(ws); it != fs::recursive_directory_iterator();
         ++it) {
      const std::string relative = it->path().lexically_relative(ws).string();
      const std::string name = it->path().filename().string();
      INFO("path " << relative);
      CHECK(name.find(".wp-tmp") == std::string::npos);
      if (relative == ".git" || relative.starts_with(".git/")) {
        CHECK(!name.ends_with(".lock"));
        continue;
      }
      if (it->is_directory()) continue;
      const auto expected = allowed.find(relative);
      REQUIRE(expected != allowed.end());
      CHECK(expected->second.contains(ReadAll(it->path())));
    }
  }

  // Every blob of every commit is an allowed content of its path; git fsck --strict is clean.
  void CheckHistory() {
    git_repository* repo = nullptr;
    REQUIRE(git_repository_open(&repo, ws.c_str()) == 0);
    git_revwalk* walk = nullptr;
    REQUIRE(git_revwalk_new(&walk, repo) == 0);
    git_revwalk_push_glob(walk, "refs/heads/*");
    git_oid id;
    while (git_revwalk_next(&id, walk) == 0) {
      git_commit* commit = nullptr;
      REQUIRE(git_commit_lookup(&commit, repo, &id) == 0);
      git_tree* tree = nullptr;
      REQUIRE(git_commit_tree(&tree, commit) == 0);
      struct Context {
        git_repository* repo;
        Fixture* self;
      } context{repo, this};
      git_tree_walk(
          tree, GIT_TREEWALK_PRE,
          [](const char* dir, const git_tree_entry* entry, void* payload) -> int {
            auto* ctx = static_cast<Context*>(payload);
            if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB) return 0;
            const std::string path = std::string(dir) + git_tree_entry_name(entry);
            git_blob* blob = nullptr;
            if (git_blob_lookup(&blob, ctx->repo, git_tree_entry_id(entry)) != 0) return -1;
            const std::string content(static_cast<const char*>(git_blob_rawcontent(blob)),
                                      static_cast<std::size_t>(git_blob_rawsize(blob)));
            git_blob_free(blob);
            INFO("committed " << path);
            CHECK(ctx->self->allowed[path].contains(content));
            return 0;
          },
          &context);
      git_tree_free(tree);
      git_commit_free(commit);
    }
    git_revwalk_free(walk);
    git_repository_free(repo);
    const fs::path log = dir.path() / "fsck.log";
    const std::string fsck = "git -C '" + ws.string() +
                             "' -c safe.directory='*' fsck --strict --no-progress >'" +
                             log.string() + "' 2>&1";
    if (std::system(fsck.c_str()) != 0) FAIL_CHECK("git fsck --strict: " << ReadAll(log));
  }
};

struct Failures {
  std::mutex mutex;
  std::vector<std::string> messages;
  std::atomic<int> count{0};
  void Add(std::string message) {
    std::lock_guard lock(mutex);
    messages.push_back(std::move(message));
    ++count;
  }
};

}  // namespace

TEST_CASE("SIGKILL during checkouts, merges and merge aborts of large files leaves every file "
          "whole, 20 times",
          "[crash][git]") {
  git_libgit2_init();
  Fixture fixture;
  fixture.Setup();
  std::mt19937 random(20261201);
  int total_calls = 0;
  int finished_switches = 0;  // rounds whose kill cut a switch short after its journal
  int aborted_merges = 0;     // rounds whose kill left a merge (or an abort) in progress
  for (int round = 0; round < 20; ++round) {
    INFO("round " << round);
    std::atomic<bool> stop{false};
    std::atomic<int> calls{0};
    Failures failures;
    const auto channel = fixture.light->Channel();
    std::thread client([&] {
      auto git = v1::LightGitService::NewStub(channel);
      const std::pair<const char*, const char*> steps[] = {
          {"checkout", "b"}, {"merge", "x"}, {"abort", ""},
          {"checkout", "a"}, {"merge", "x"}, {"abort", ""}};
      for (int step = 0; !stop; step = (step + 1) % 6) {
        grpc::Status status = Fixture::Call(*git, steps[step].first, steps[step].second);
        if (!status.ok()) {
          // Until the kill every call succeeds; after it, they fail UNAVAILABLE.
          if (status.error_code() != grpc::StatusCode::UNAVAILABLE && !stop) {
            failures.Add(std::string(steps[step].first) + ": " + status.error_message());
          }
          break;
        }
        ++calls;
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + random() % 900));
    fixture.light->Signal(SIGKILL);
    REQUIRE(fixture.light->Wait() != -1);
    stop = true;
    client.join();
    for (const std::string& message : failures.messages) FAIL_CHECK(message);
    total_calls += calls;
    fixture.light.reset();

    fixture.light = StartLight(fixture.root);
    CHECK(fs::is_empty(fixture.root / ".staging"));
    fixture.CheckWorkingTree();
    fixture.CheckHistory();

    // Nothing is left half-done: the first git call finishes a switch the kill cut short, a
    // merge the kill left (or an abort it cut short) aborts, and the tree is HEAD's again.
    auto git = v1::LightGitService::NewStub(fixture.light->Channel());
    if (fs::exists(fixture.ws / ".git" / "WP_SWITCH")) ++finished_switches;
    v1::GitStatusResponse status = fixture.Status(*git);
    if (status.merging()) {
      ++aborted_merges;
      const grpc::Status aborted = Fixture::Call(*git, "abort", "");
      INFO(aborted.error_message());
      REQUIRE(aborted.ok());
      status = fixture.Status(*git);
    }
    CHECK(!status.merging());
    CHECK(!status.dirty());
    CHECK(status.changes_size() == 0);
    fixture.CheckWorkingTree();
    const grpc::Status back = Fixture::Call(*git, "checkout", "a");
    INFO(back.error_message());
    REQUIRE(back.ok());
  }
  WARN(total_calls << " calls, " << finished_switches << " cut switches finished, "
                   << aborted_merges << " cut merges aborted after restarts");
  CHECK(total_calls >= 5);  // the load ran (most rounds end with the kill inside a call)
  git_libgit2_shutdown();
}

TEST_CASE("Readers beside checkouts see whole files and a clean status", "[git]") {
  git_libgit2_init();
  Fixture fixture;
  fixture.Setup();
  const auto channel = fixture.light->Channel();
  std::atomic<bool> stop{false};
  std::atomic<int> checkouts{0};
  std::atomic<int> reads{0};
  std::atomic<int> statuses{0};
  Failures failures;
  std::thread switcher([&] {
    auto git = v1::LightGitService::NewStub(channel);
    for (int i = 0; !stop; ++i) {
      grpc::Status status = Fixture::Call(*git, "checkout", i % 2 == 0 ? "b" : "a");
      if (!status.ok()) failures.Add("checkout: " + status.error_message());
      ++checkouts;
    }
  });
  std::thread reader([&] {
    auto files = v1::LightFilesService::NewStub(channel);
    for (int i = 0; !stop; ++i) {
      const std::string path = i % 5 == 4 ? (i % 2 ? "only-a/g" : "only-b/h") : FilePath(i % kFiles);
      grpc::ClientContext context;
      context.set_deadline(After(20));
      v1::ReadFileRequest request;
      request.set_workspace("ws");
      request.set_path(path);
      v1::ReadFileResponse response;
      grpc::Status status = files->ReadFile(&context, request, &response);
      if (status.error_code() == grpc::StatusCode::NOT_FOUND && path.starts_with("only-")) {
        continue;  // deleted on the other branch
      }
      if (!status.ok()) {
        failures.Add("read " + path + ": " + status.error_message());
      } else if (!fixture.allowed[path].contains(response.content())) {
        failures.Add("read " + path + ": not a whole version (" +
                     std::to_string(response.content().size()) + " bytes)");
      }
      ++reads;
    }
  });
  std::thread status_reader([&] {
    auto git = v1::LightGitService::NewStub(channel);
    for (int i = 0; !stop; ++i) {
      grpc::ClientContext context;
      context.set_deadline(After(20));
      if (i % 2 == 0) {
        v1::GitStatusRequest request;
        request.set_workspace("ws");
        v1::GitStatusResponse response;
        grpc::Status status = git->GitStatus(&context, request, &response);
        if (!status.ok() || response.dirty() || response.changes_size() != 0) {
          failures.Add("status: " + status.error_message() + " dirty=" +
                       std::to_string(response.dirty()) + " changes=" +
                       std::to_string(response.changes_size()));
        }
      } else {
        v1::GitDiffRequest request;
        request.set_workspace("ws");
        v1::GitDiffResponse response;
        grpc::Status status = git->GitDiff(&context, request, &response);
        if (!status.ok() || response.files_size() != 0) {
          failures.Add("diff: " + status.error_message() + " files=" +
                       std::to_string(response.files_size()));
        }
      }
      ++statuses;
    }
  });
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while ((checkouts < 12 || reads < 50 || statuses < 10) && failures.count == 0 &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop = true;
  switcher.join();
  reader.join();
  status_reader.join();
  for (const std::string& message : failures.messages) FAIL_CHECK(message);
  CHECK(checkouts >= 12);
  fixture.CheckWorkingTree();
  git_libgit2_shutdown();
}
