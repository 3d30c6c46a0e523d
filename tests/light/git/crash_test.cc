// SIGKILL of worker-light during concurrent writes, uploads, moves and commits, 20 times; after
// each restart: no temporary file anywhere in the workspace or in any commit, every file whole
// (old or new content, never a mix or a cut), `git fsck --strict` clean, and git still works.
#include <git2.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <random>
#include <set>
#include <regex>
#include <thread>

#include "tests/support/server_process.h"
#include "workerpair/v1/light_files.grpc.pb.h"
#include "workerpair/v1/light_git.grpc.pb.h"

namespace fs = std::filesystem;
namespace v1 = workerpair::v1;
using workerpair::testing::ServerProcess;
using workerpair::testing::TempDir;

namespace {

// "<path>#<version>#" and filler up to a length fixed by the version: a cut or mixed file shows.
std::string Content(const std::string& path, int version) {
  std::string out = path + "#" + std::to_string(version) + "#";
  const std::size_t length = 2000 + static_cast<std::size_t>(version % 11) * 3000;
  while (out.size() < length) out.push_back(static_cast<char>('a' + (out.size() * 7 + version) % 26));
  return out;
}

// The path a content was written for, or "" when the content is not whole.
std::string WrittenFor(const std::string& content) {
  const std::size_t first = content.find('#');
  const std::size_t second = first == std::string::npos ? first : content.find('#', first + 1);
  if (second == std::string::npos) return "";
  int version = 0;
  try {
    version = std::stoi(content.substr(first + 1, second - first - 1));
  } catch (...) {
    return "";
  }
  const std::string path = content.substr(0, first);
  return content == Content(path, version) ? path : "";
}

// Paths the load below creates: w<thread>/f<n>, its ".up" twin from uploads, and ".mv" files
// that are moved onto w<thread>/f<n>.
const std::regex kExpectedPath(R"(w[0-9]/(f[0-9])(\.up)?(\.mv)?)");

bool ExpectedFile(const std::string& path, const std::string& content) {
  if (!std::regex_match(path, kExpectedPath)) return false;
  const std::string written = WrittenFor(content);
  return written == path || written == path + ".mv";
}

std::chrono::system_clock::time_point Soon() {
  return std::chrono::system_clock::now() + std::chrono::seconds(5);
}

// Calls `visit(path, content)` for every blob of every commit reachable from any branch;
// returns the number of commits.
// (path, blob id) pairs already checked: each is visited once, however many commits or rounds
// share it.
using Seen = std::set<std::string>;

int ForEveryCommittedFile(const fs::path& root,
                          const std::function<void(const std::string&, const std::string&)>& visit,
                          Seen& seen) {
  git_repository* repo = nullptr;
  REQUIRE(git_repository_open(&repo, root.c_str()) == 0);
  git_revwalk* walk = nullptr;
  REQUIRE(git_revwalk_new(&walk, repo) == 0);
  git_revwalk_push_glob(walk, "refs/heads/*");
  int commits = 0;
  git_oid id;
  while (git_revwalk_next(&id, walk) == 0) {
    ++commits;
    git_commit* commit = nullptr;
    REQUIRE(git_commit_lookup(&commit, repo, &id) == 0);
    git_tree* tree = nullptr;
    REQUIRE(git_commit_tree(&tree, commit) == 0);
    struct Context {
      git_repository* repo;
      const std::function<void(const std::string&, const std::string&)>* visit;
      Seen* seen;
    } context{repo, &visit, &seen};
    git_tree_walk(
        tree, GIT_TREEWALK_PRE,
        [](const char* dir, const git_tree_entry* entry, void* payload) -> int {
          auto* ctx = static_cast<Context*>(payload);
          if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB) return 0;
          char hex[GIT_OID_HEXSZ + 1];
          git_oid_tostr(hex, sizeof(hex), git_tree_entry_id(entry));
          if (!ctx->seen->insert(std::string(dir) + git_tree_entry_name(entry) + " " + hex)
                   .second) {
            return 0;
          }
          git_blob* blob = nullptr;
          if (git_blob_lookup(&blob, ctx->repo, git_tree_entry_id(entry)) != 0) return -1;
          const std::string content(static_cast<const char*>(git_blob_rawcontent(blob)),
                                    static_cast<std::size_t>(git_blob_rawsize(blob)));
          git_blob_free(blob);
          (*ctx->visit)(std::string(dir) + git_tree_entry_name(entry), content);
          return 0;
        },
        &context);
    git_tree_free(tree);
    git_commit_free(commit);
  }
  git_revwalk_free(walk);
  git_repository_free(repo);
  return commits;
}

// One client thread's load until `stop`: writes, uploads of two files, write-then-move, commits.
// Catch2's assertions are not thread-safe, so failures are collected for the main thread.
struct Failures {
  std::mutex mutex;
  std::vector<std::string> messages;
  void Add(std::string message) {
    std::lock_guard lock(mutex);
    messages.push_back(std::move(message));
  }
};

void Load(const std::shared_ptr<grpc::Channel>& channel, int thread, const std::atomic<bool>& stop,
          std::atomic<int>& calls, Failures& failures) {
  auto files = v1::LightFilesService::NewStub(channel);
  auto git = v1::LightGitService::NewStub(channel);
  std::mt19937 random(static_cast<unsigned>(thread * 7919 + std::rand()));
  for (int version = 1; !stop; ++version) {
    const std::string path = "w" + std::to_string(thread) + "/f" + std::to_string(random() % 4);
    grpc::ClientContext context;
    context.set_deadline(Soon());
    switch (random() % 4) {
      case 0: {
        v1::WriteFileRequest request;
        request.set_workspace("ws");
        request.set_path(path);
        request.set_content(Content(path, version));
        request.set_overwrite(true);
        v1::WriteFileResponse response;
        files->WriteFile(&context, request, &response);
        break;
      }
      case 1: {
        v1::UploadFilesResponse response;
        auto writer = files->UploadFiles(&context, &response);
        for (const std::string& name : {path, path + ".up"}) {
          const std::string content = Content(name, version);
          v1::UploadFilesRequest chunk;
          chunk.set_workspace("ws");
          chunk.set_overwrite(true);
          chunk.set_path(name);
          chunk.set_data(content.substr(0, content.size() / 2));
          if (!writer->Write(chunk)) break;
          v1::UploadFilesRequest rest;
          rest.set_data(content.substr(content.size() / 2));
          if (!writer->Write(rest)) break;
        }
        writer->WritesDone();
        writer->Finish();
        break;
      }
      case 2: {
        v1::WriteFileRequest request;
        request.set_workspace("ws");
        request.set_path(path + ".mv");
        request.set_content(Content(path + ".mv", version));
        request.set_overwrite(true);
        v1::WriteFileResponse response;
        if (files->WriteFile(&context, request, &response).ok()) {
          grpc::ClientContext move_context;
          move_context.set_deadline(Soon());
          v1::MoveFileRequest move;
          move.set_workspace("ws");
          move.set_from_path(path + ".mv");
          move.set_to_path(path);
          move.set_overwrite(true);
          v1::MoveFileResponse moved;
          files->MoveFile(&move_context, move, &moved);
        }
        break;
      }
      case 3: {
        v1::GitCommitRequest request;
        request.set_workspace("ws");
        request.mutable_author()->set_name("Crash Test");
        request.mutable_author()->set_email("crash@example.org");
        request.set_message("round commit " + std::to_string(version));
        v1::GitCommitResponse response;
        grpc::Status status = git->GitCommit(&context, request, &response);
        // While the server lives a commit never fails but for "nothing to commit".
        if (!status.ok() && status.error_code() != grpc::StatusCode::UNAVAILABLE &&
            status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED && !stop) {
          if (status.error_message().find("nothing to commit") == std::string::npos) {
            failures.Add("commit failed: " + status.error_message());
          }
        }
        break;
      }
    }
    ++calls;
  }
}

std::unique_ptr<ServerProcess> StartLight(const fs::path& root) {
  auto started = ServerProcess::Start(WORKERPAIR_LIGHT_BINARY,
                                      {"--root=" + root.string(), "--log_level=error"});
  REQUIRE(started.ok());
  return std::move(*started);
}

}  // namespace

TEST_CASE("SIGKILL during writes, uploads, moves and commits leaves whole files and a sound "
          "history, 20 times",
          "[crash]") {
  git_libgit2_init();
  TempDir dir;
  const fs::path root = dir.path() / "root";
  const fs::path workspace = root / "ws";
  std::unique_ptr<ServerProcess> light = StartLight(root);
  {
    auto files = v1::LightFilesService::NewStub(light->Channel());
    auto git = v1::LightGitService::NewStub(light->Channel());
    grpc::ClientContext create_context;
    create_context.set_deadline(Soon());
    v1::CreateWorkspaceRequest create;
    create.set_workspace("ws");
    v1::CreateWorkspaceResponse created;
    REQUIRE(files->CreateWorkspace(&create_context, create, &created).ok());
    grpc::ClientContext init_context;
    init_context.set_deadline(Soon());
    v1::GitInitRequest init;
    init.set_workspace("ws");
    v1::GitInitResponse initialised;
    REQUIRE(git->GitInit(&init_context, init, &initialised).ok());
  }
  std::mt19937 random(20261201);
  Seen seen;
  int total_calls = 0;
  for (int round = 0; round < 20; ++round) {
    INFO("round " << round);
    std::atomic<bool> stop{false};
    std::atomic<int> calls{0};
    Failures failures;
    std::vector<std::thread> clients;
    const auto channel = light->Channel();
    for (int t = 0; t < 4; ++t) {
      clients.emplace_back([&, t] { Load(channel, t, stop, calls, failures); });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + random() % 500));
    light->Signal(SIGKILL);
    REQUIRE(light->Wait() != -1);
    stop = true;
    for (auto& client : clients) client.join();
    for (const std::string& message : failures.messages) FAIL_CHECK(message);
    total_calls += calls;
    light.reset();

    // Restart on the same root; the store sweeps what the kill left.
    light = StartLight(root);
    CHECK(fs::is_empty(root / ".staging"));

    // Every file in the workspace is one the load wrote, whole.
    for (auto it = fs::recursive_directory_iterator(workspace);
         it != fs::recursive_directory_iterator(); ++it) {
      const std::string relative = it->path().lexically_relative(workspace).string();
      if (relative == ".git") {
        it.disable_recursion_pending();
        continue;
      }
      if (it->is_directory()) {
        CHECK(std::regex_match(relative, std::regex("w[0-9]")));
        continue;
      }
      std::ifstream in(it->path(), std::ios::binary);
      const std::string content((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
      INFO("workspace file " << relative);
      CHECK(ExpectedFile(relative, content));
    }
    // So is every file of every commit.
    ForEveryCommittedFile(
        workspace,
        [&](const std::string& path, const std::string& content) {
          INFO("committed file " << path);
          CHECK(ExpectedFile(path, content));
        },
        seen);
    // git's own strict check of the repository.
    const std::string fsck = "git -C '" + workspace.string() +
                             "' -c safe.directory='*' fsck --strict --no-progress >" +
                             (dir.path() / "fsck.log").string() + " 2>&1";
    const int fsck_status = std::system(fsck.c_str());
    if (fsck_status != 0) {
      std::ifstream log(dir.path() / "fsck.log");
      const std::string text((std::istreambuf_iterator<char>(log)),
                             std::istreambuf_iterator<char>());
      FAIL_CHECK("git fsck --strict: " << text);
    }
    // And git still works: a commit after the restart is never refused but for nothing to do.
    auto git = v1::LightGitService::NewStub(light->Channel());
    grpc::ClientContext context;
    context.set_deadline(Soon());
    v1::GitCommitRequest commit;
    commit.set_workspace("ws");
    commit.mutable_author()->set_name("Crash Test");
    commit.mutable_author()->set_email("crash@example.org");
    commit.set_message("after restart");
    v1::GitCommitResponse committed;
    grpc::Status status = git->GitCommit(&context, commit, &committed);
    INFO(status.error_message());
    CHECK((status.ok() || status.error_message().find("nothing to commit") != std::string::npos));
  }
  CHECK(total_calls > 100);
  int commits =
      ForEveryCommittedFile(workspace, [](const std::string&, const std::string&) {}, seen);
  CHECK(commits > 20);
  git_libgit2_shutdown();
}
