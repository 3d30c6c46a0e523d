// worker-light's LightGit service over real gRPC, against the real binary; files are written
// with LightFiles, as a client would.
#include <git2.h>
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>

#include "tests/support/server_process.h"
#include "workerpair/v1/light_files.grpc.pb.h"
#include "workerpair/v1/light_git.grpc.pb.h"

namespace fs = std::filesystem;
namespace v1 = workerpair::v1;
using workerpair::testing::ServerProcess;
using workerpair::testing::TempDir;

namespace {

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  return context;
}

struct GitServer {
  GitServer() {
    auto started = ServerProcess::Start(
        WORKERPAIR_LIGHT_BINARY, {"--root=" + (dir.path() / "root").string(), "--log_level=warn"});
    REQUIRE(started.ok());
    process = std::move(*started);
    files = v1::LightFilesService::NewStub(process->Channel());
    git = v1::LightGitService::NewStub(process->Channel());
    v1::CreateWorkspaceRequest request;
    request.set_workspace("ws");
    v1::CreateWorkspaceResponse response;
    REQUIRE(files->CreateWorkspace(Context().get(), request, &response).ok());
  }

  void Write(const std::string& path, const std::string& content) {
    v1::WriteFileRequest request;
    request.set_workspace("ws");
    request.set_path(path);
    request.set_content(content);
    request.set_overwrite(true);
    v1::WriteFileResponse response;
    grpc::Status status = files->WriteFile(Context().get(), request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
  }

  std::string Read(const std::string& path) {
    v1::ReadFileRequest request;
    request.set_workspace("ws");
    request.set_path(path);
    v1::ReadFileResponse response;
    grpc::Status status = files->ReadFile(Context().get(), request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    return response.content();
  }

  std::string Commit(const std::string& message) {
    v1::GitCommitRequest request;
    request.set_workspace("ws");
    request.mutable_author()->set_name("Ann Agent");
    request.mutable_author()->set_email("ann@example.org");
    request.set_message(message);
    v1::GitCommitResponse response;
    grpc::Status status = git->GitCommit(Context().get(), request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    return response.hash();
  }

  grpc::Status Checkout(const std::string& branch) {
    v1::GitCheckoutRequest request;
    request.set_workspace("ws");
    request.set_branch(branch);
    v1::GitCheckoutResponse response;
    return git->GitCheckout(Context().get(), request, &response);
  }

  v1::GitStatusResponse Status() {
    v1::GitStatusRequest request;
    request.set_workspace("ws");
    v1::GitStatusResponse response;
    grpc::Status status = git->GitStatus(Context().get(), request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    return response;
  }

  TempDir dir;
  std::unique_ptr<ServerProcess> process;
  std::unique_ptr<v1::LightFilesService::Stub> files;
  std::unique_ptr<v1::LightGitService::Stub> git;
};

// The commit `ref` names in the repository at `path`; empty when missing.
std::string RefHash(const fs::path& path, const std::string& ref) {
  git_repository* repo = nullptr;
  if (git_repository_open(&repo, path.c_str()) < 0) return "";
  git_oid id;
  std::string hash;
  if (git_reference_name_to_id(&id, repo, ref.c_str()) == 0) {
    char hex[GIT_OID_HEXSZ + 1];
    git_oid_tostr(hex, sizeof(hex), &id);
    hash = hex;
  }
  git_repository_free(repo);
  return hash;
}

}  // namespace

TEST_CASE("LightGit over gRPC: init, commit, log, diff, status", "[git][integration]") {
  GitServer server;
  // Before GitInit: the precise error.
  {
    v1::GitStatusRequest request;
    request.set_workspace("ws");
    v1::GitStatusResponse response;
    grpc::Status status = server.git->GitStatus(Context().get(), request, &response);
    CHECK(status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    CHECK(status.error_message() == "workspace 'ws' is not a git repository; call GitInit");
  }
  {
    v1::GitInitRequest request;
    request.set_workspace("ws");
    v1::GitInitResponse response;
    REQUIRE(server.git->GitInit(Context().get(), request, &response).ok());
    CHECK(response.created());
  }
  // Unknown workspace is NOT_FOUND.
  {
    v1::GitInitRequest request;
    request.set_workspace("nope");
    v1::GitInitResponse response;
    CHECK(server.git->GitInit(Context().get(), request, &response).error_code() ==
          grpc::StatusCode::NOT_FOUND);
  }
  server.Write("scene/a.xml", "<mujoco/>\n");
  v1::GitStatusResponse status = server.Status();
  CHECK(status.branch() == "main");
  CHECK(status.unborn());
  CHECK(status.dirty());
  REQUIRE(status.changes_size() == 1);
  CHECK(status.changes(0).path() == "scene/a.xml");
  CHECK(status.changes(0).unstaged() == v1::GIT_CHANGE_KIND_UNTRACKED);

  const std::string first = server.Commit("add scene");
  CHECK(first.size() == 40);
  // Nothing to commit now.
  {
    v1::GitCommitRequest request;
    request.set_workspace("ws");
    request.mutable_author()->set_name("A");
    request.mutable_author()->set_email("a@x");
    request.set_message("again");
    v1::GitCommitResponse response;
    grpc::Status again = server.git->GitCommit(Context().get(), request, &response);
    CHECK(again.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  }
  server.Write("scene/a.xml", "<mujoco>\n  <worldbody/>\n</mujoco>\n");
  {
    v1::GitDiffRequest request;
    request.set_workspace("ws");
    v1::GitDiffResponse response;
    REQUIRE(server.git->GitDiff(Context().get(), request, &response).ok());
    REQUIRE(response.files_size() == 1);
    CHECK(response.files(0).path() == "scene/a.xml");
    CHECK(response.files(0).kind() == v1::GIT_CHANGE_KIND_MODIFIED);
    CHECK(response.files(0).added_lines() == 3);
    CHECK(response.files(0).removed_lines() == 1);
    CHECK(response.patch().find("+  <worldbody/>") != std::string::npos);
  }
  const std::string second = server.Commit("expand scene");
  {
    v1::GitLogRequest request;
    request.set_workspace("ws");
    v1::GitLogResponse response;
    REQUIRE(server.git->GitLog(Context().get(), request, &response).ok());
    REQUIRE(response.entries_size() == 2);
    CHECK(response.entries(0).hash() == second);
    CHECK(response.entries(0).summary() == "expand scene");
    CHECK(response.entries(0).author().email() == "ann@example.org");
    CHECK(response.entries(1).hash() == first);
  }
  {
    v1::GitDiffRequest request;
    request.set_workspace("ws");
    request.set_from("no-such-rev");
    v1::GitDiffResponse response;
    CHECK(server.git->GitDiff(Context().get(), request, &response).error_code() ==
          grpc::StatusCode::NOT_FOUND);
  }
}

TEST_CASE("LightGit over gRPC: branch, conflict, resolve, complete, push", "[git][integration]") {
  GitServer server;
  git_libgit2_init();
  {
    v1::GitInitRequest request;
    request.set_workspace("ws");
    v1::GitInitResponse response;
    REQUIRE(server.git->GitInit(Context().get(), request, &response).ok());
  }
  server.Write("a.txt", "base\n");
  const std::string base = server.Commit("base");
  {
    v1::GitCreateBranchRequest request;
    request.set_workspace("ws");
    request.set_branch("feature");
    v1::GitCreateBranchResponse response;
    REQUIRE(server.git->GitCreateBranch(Context().get(), request, &response).ok());
    CHECK(response.hash() == base);
  }
  CHECK(server.Checkout("missing").error_code() == grpc::StatusCode::NOT_FOUND);
  REQUIRE(server.Checkout("feature").ok());
  server.Write("a.txt", "theirs\n");
  const std::string theirs = server.Commit("feature");
  REQUIRE(server.Checkout("main").ok());
  CHECK(server.Read("a.txt") == "base\n");
  server.Write("a.txt", "ours\n");
  // Dirty checkout is refused, naming the file.
  grpc::Status dirty = server.Checkout("feature");
  CHECK(dirty.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(dirty.error_message().find("'a.txt'") != std::string::npos);
  const std::string ours = server.Commit("main");

  {
    v1::GitMergeRequest request;
    request.set_workspace("ws");
    request.set_branch("feature");
    request.mutable_author()->set_name("Ann Agent");
    request.mutable_author()->set_email("ann@example.org");
    v1::GitMergeResponse response;
    REQUIRE(server.git->GitMerge(Context().get(), request, &response).ok());
    CHECK(response.outcome() == v1::GIT_MERGE_OUTCOME_CONFLICTED);
    REQUIRE(response.conflicts_size() == 1);
    CHECK(response.conflicts(0) == "a.txt");
  }
  v1::GitStatusResponse status = server.Status();
  CHECK(status.merging());
  REQUIRE(status.conflicts_size() == 1);
  {
    v1::GitResolveConflictRequest request;
    request.set_workspace("ws");
    request.set_path("a.txt");
    v1::GitResolveConflictResponse response;
    CHECK(server.git->GitResolveConflict(Context().get(), request, &response).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);
    request.set_side(v1::GIT_CONFLICT_SIDE_THEIRS);
    REQUIRE(server.git->GitResolveConflict(Context().get(), request, &response).ok());
    CHECK(response.remaining_conflicts_size() == 0);
  }
  CHECK(server.Read("a.txt") == "theirs\n");
  std::string merge;
  {
    v1::GitCompleteMergeRequest request;
    request.set_workspace("ws");
    request.mutable_author()->set_name("Ann Agent");
    request.mutable_author()->set_email("ann@example.org");
    v1::GitCompleteMergeResponse response;
    REQUIRE(server.git->GitCompleteMerge(Context().get(), request, &response).ok());
    merge = response.hash();
    CHECK(response.branch() == "main");
  }
  status = server.Status();
  CHECK_FALSE(status.merging());
  CHECK_FALSE(status.dirty());
  CHECK(status.head() == merge);
  {
    v1::GitLogRequest request;
    request.set_workspace("ws");
    request.set_limit(1);
    v1::GitLogResponse response;
    REQUIRE(server.git->GitLog(Context().get(), request, &response).ok());
    REQUIRE(response.entries_size() == 1);
    REQUIRE(response.entries(0).parents_size() == 2);
    CHECK(response.entries(0).parents(0) == ours);
    CHECK(response.entries(0).parents(1) == theirs);
  }

  // Push to a local bare repository.
  const fs::path bare = server.dir.path() / "remote.git";
  {
    git_repository* repo = nullptr;
    REQUIRE(git_repository_init(&repo, bare.c_str(), 1) == 0);
    git_repository_free(repo);
  }
  {
    v1::GitPushRequest request;
    request.set_workspace("ws");
    request.set_remote("origin");
    request.set_url(bare.string());
    v1::GitPushResponse response;
    grpc::Status pushed = server.git->GitPush(Context().get(), request, &response);
    INFO(pushed.error_message());
    REQUIRE(pushed.ok());
    CHECK(response.ref() == "refs/heads/main");
    CHECK(response.hash() == merge);
  }
  CHECK(RefHash(bare, "refs/heads/main") == merge);
}
