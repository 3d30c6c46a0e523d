// worker-light's LightFiles service over real gRPC, against the real binary.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "libs/common/sha256.h"
#include "tests/support/server_process.h"
#include "workerpair/v1/light_files.grpc.pb.h"

namespace fs = std::filesystem;
namespace v1 = workerpair::v1;
using workerpair::testing::ServerProcess;
using workerpair::testing::TempDir;

namespace {

// One worker-light with a 1 MiB read cap, a workspace "ws", and a sibling directory that must
// never change.
struct LightServer {
  LightServer() {
    fs::create_directories(dir.path() / "outside");
    std::ofstream(dir.path() / "outside/secret.txt") << "secret";
    auto started = ServerProcess::Start(
        WORKERPAIR_LIGHT_BINARY,
        {"--root=" + (dir.path() / "root").string(), "--max_read_mb=1", "--log_level=warn"});
    REQUIRE(started.ok());
    process = std::move(*started);
    stub = v1::LightFilesService::NewStub(process->Channel());
    v1::CreateWorkspaceRequest request;
    request.set_workspace("ws");
    v1::CreateWorkspaceResponse response;
    REQUIRE(Call(&v1::LightFilesService::Stub::CreateWorkspace, request, &response).ok());
  }

  template <typename Request, typename Response>
  grpc::Status Call(grpc::Status (v1::LightFilesService::Stub::*method)(grpc::ClientContext*,
                                                                  const Request&, Response*),
                    const Request& request, Response* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return ((*stub).*method)(&context, request, response);
  }

  grpc::Status Write(const std::string& path, const std::string& content, bool overwrite = false) {
    v1::WriteFileRequest request;
    request.set_workspace("ws");
    request.set_path(path);
    request.set_content(content);
    request.set_overwrite(overwrite);
    v1::WriteFileResponse response;
    return Call(&v1::LightFilesService::Stub::WriteFile, request, &response);
  }

  grpc::Status Read(const std::string& path, v1::ReadFileResponse* response) {
    v1::ReadFileRequest request;
    request.set_workspace("ws");
    request.set_path(path);
    return Call(&v1::LightFilesService::Stub::ReadFile, request, response);
  }

  std::string Secret() {
    std::ifstream in(dir.path() / "outside/secret.txt");
    return std::string((std::istreambuf_iterator<char>(in)), {});
  }

  fs::path WorkspaceDir() const { return dir.path() / "root/ws"; }

  TempDir dir;
  std::unique_ptr<ServerProcess> process;
  std::unique_ptr<v1::LightFilesService::Stub> stub;
};

}  // namespace

TEST_CASE("LightFiles: workspaces are created, listed and deleted over gRPC", "[integration]") {
  LightServer server;
  v1::CreateWorkspaceRequest create;
  create.set_workspace("ws");
  v1::CreateWorkspaceResponse created;
  CHECK(server.Call(&v1::LightFilesService::Stub::CreateWorkspace, create, &created).error_code() ==
        grpc::StatusCode::ALREADY_EXISTS);
  create.set_exist_ok(true);
  REQUIRE(server.Call(&v1::LightFilesService::Stub::CreateWorkspace, create, &created).ok());
  CHECK_FALSE(created.created());
  create.set_workspace("../evil");
  CHECK(server.Call(&v1::LightFilesService::Stub::CreateWorkspace, create, &created).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  create.set_workspace("other");
  REQUIRE(server.Call(&v1::LightFilesService::Stub::CreateWorkspace, create, &created).ok());

  v1::ListWorkspacesResponse listed;
  REQUIRE(server.Call(&v1::LightFilesService::Stub::ListWorkspaces, v1::ListWorkspacesRequest(), &listed)
              .ok());
  REQUIRE(listed.workspaces_size() == 2);
  CHECK(listed.workspaces(0) == "other");

  v1::DeleteWorkspaceRequest remove;
  remove.set_workspace("other");
  v1::DeleteWorkspaceResponse removed;
  REQUIRE(server.Call(&v1::LightFilesService::Stub::DeleteWorkspace, remove, &removed).ok());
  CHECK(server.Call(&v1::LightFilesService::Stub::DeleteWorkspace, remove, &removed).error_code() ==
        grpc::StatusCode::NOT_FOUND);

  v1::ReadFileResponse read;
  v1::ReadFileRequest in_missing;
  in_missing.set_workspace("nope");
  in_missing.set_path("a");
  CHECK(server.Call(&v1::LightFilesService::Stub::ReadFile, in_missing, &read).error_code() ==
        grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("LightFiles: write, read (whole, bytes, lines), stat, list and batch read",
          "[integration]") {
  LightServer server;
  REQUIRE(server.Write("scenes/ramp.xml", "<mujoco>\n  <worldbody/>\n</mujoco>\n").ok());
  REQUIRE(server.Write("meshes/part.stl", std::string("\0solid\xff", 7)).ok());

  v1::ReadFileResponse whole;
  REQUIRE(server.Read("meshes/part.stl", &whole).ok());
  CHECK(whole.content() == std::string("\0solid\xff", 7));
  CHECK(whole.sha256() == workerpair::Sha256Hex(std::string("\0solid\xff", 7)));

  v1::ReadFileRequest ranged;
  ranged.set_workspace("ws");
  ranged.set_path("scenes/ramp.xml");
  ranged.mutable_lines()->set_start_line(2);
  ranged.mutable_lines()->set_line_count(1);
  v1::ReadFileResponse lines;
  REQUIRE(server.Call(&v1::LightFilesService::Stub::ReadFile, ranged, &lines).ok());
  CHECK(lines.content() == "  <worldbody/>\n");
  CHECK(lines.total_lines() == 3);
  ranged.mutable_bytes()->set_offset(1);
  ranged.mutable_bytes()->set_length(6);
  v1::ReadFileResponse bytes;
  REQUIRE(server.Call(&v1::LightFilesService::Stub::ReadFile, ranged, &bytes).ok());
  CHECK(bytes.content() == "mujoco");

  v1::StatFileRequest stat;
  stat.set_workspace("ws");
  stat.set_path("scenes/ramp.xml");
  v1::StatFileResponse stat_response;
  REQUIRE(server.Call(&v1::LightFilesService::Stub::StatFile, stat, &stat_response).ok());
  CHECK(stat_response.exists());
  CHECK(stat_response.info().type() == v1::FILE_TYPE_FILE);
  stat.set_path("scenes/none.xml");
  REQUIRE(server.Call(&v1::LightFilesService::Stub::StatFile, stat, &stat_response).ok());
  CHECK_FALSE(stat_response.exists());

  v1::ListFilesRequest list;
  list.set_workspace("ws");
  list.set_recursive(true);
  list.set_glob("*.xml");
  v1::ListFilesResponse listed;
  REQUIRE(server.Call(&v1::LightFilesService::Stub::ListFiles, list, &listed).ok());
  REQUIRE(listed.entries_size() == 1);
  CHECK(listed.entries(0).path() == "scenes/ramp.xml");

  v1::ReadFilesRequest batch;
  batch.set_workspace("ws");
  batch.add_paths("scenes/ramp.xml");
  batch.add_paths("missing.txt");
  v1::ReadFilesResponse batch_response;
  REQUIRE(server.Call(&v1::LightFilesService::Stub::ReadFiles, batch, &batch_response).ok());
  CHECK(batch_response.files_size() == 1);
  REQUIRE(batch_response.missing_size() == 1);
  CHECK(batch_response.missing(0) == "missing.txt");

  v1::ReadFileResponse missing;
  CHECK(server.Read("missing.txt", &missing).error_code() == grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("LightFiles: oversize read is RESOURCE_EXHAUSTED and says the cap", "[integration]") {
  LightServer server;
  REQUIRE(server.Write("big.bin", std::string((1 << 20) + 1, 'x')).ok());
  v1::ReadFileResponse response;
  grpc::Status status = server.Read("big.bin", &response);
  CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(status.error_message().find("big.bin") != std::string::npos);
  CHECK(status.error_message().find("1048576") != std::string::npos);
}

TEST_CASE("LightFiles: write without overwrite, expected sha256 and ambiguous edits keep the "
          "old file", "[integration]") {
  LightServer server;
  REQUIRE(server.Write("a.py", "x = 1\ny = 1\nz = 1\n").ok());
  CHECK(server.Write("a.py", "clobbered").error_code() == grpc::StatusCode::ALREADY_EXISTS);

  v1::WriteFileRequest guarded;
  guarded.set_workspace("ws");
  guarded.set_path("a.py");
  guarded.set_content("clobbered");
  guarded.set_expected_sha256(workerpair::Sha256Hex("stale"));
  v1::WriteFileResponse written;
  CHECK(server.Call(&v1::LightFilesService::Stub::WriteFile, guarded, &written).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);

  v1::EditFileRequest edit;
  edit.set_workspace("ws");
  edit.set_path("a.py");
  auto* first = edit.add_edits();
  first->set_old_text("x = 1");
  first->set_new_text("x = 2");
  auto* second = edit.add_edits();
  second->set_old_text("= 1");
  second->set_new_text("= 3");
  v1::EditFileResponse edited;
  grpc::Status ambiguous = server.Call(&v1::LightFilesService::Stub::EditFile, edit, &edited);
  CHECK(ambiguous.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(ambiguous.error_message().find("edit 1") != std::string::npos);

  v1::ReadFileResponse read;
  REQUIRE(server.Read("a.py", &read).ok());
  CHECK(read.content() == "x = 1\ny = 1\nz = 1\n");

  second->set_replace_all(true);
  REQUIRE(server.Call(&v1::LightFilesService::Stub::EditFile, edit, &edited).ok());
  REQUIRE(edited.replacements_size() == 2);
  CHECK(edited.replacements(1) == 2);
  REQUIRE(server.Read("a.py", &read).ok());
  CHECK(read.content() == "x = 2\ny = 3\nz = 3\n");
  CHECK(read.sha256() == edited.sha256());
}

TEST_CASE("LightFiles: upload streams many binary files, move, delete and grep",
          "[integration]") {
  LightServer server;
  {
    grpc::ClientContext context;
    v1::UploadFilesResponse response;
    auto writer = server.stub->UploadFiles(&context, &response);
    v1::UploadFilesRequest message;
    message.set_workspace("ws");
    message.set_path("meshes/a.stl");
    message.set_data(std::string(100000, '\x01'));
    REQUIRE(writer->Write(message));
    message.Clear();
    message.set_data(std::string(50000, '\x02'));
    REQUIRE(writer->Write(message));
    message.Clear();
    message.set_path("meshes/b.stl");
    message.set_data(std::string("\0\0", 2));
    REQUIRE(writer->Write(message));
    writer->WritesDone();
    REQUIRE(writer->Finish().ok());
    CHECK(response.files_size() == 2);
    CHECK(response.total_bytes() == 150002);
  }
  v1::ReadFileResponse read;
  REQUIRE(server.Read("meshes/a.stl", &read).ok());
  CHECK(read.content().size() == 150000);
  CHECK(read.content()[149999] == '\x02');

  v1::MoveFileRequest move;
  move.set_workspace("ws");
  move.set_from_path("meshes/b.stl");
  move.set_to_path("archive/b.stl");
  v1::MoveFileResponse moved;
  REQUIRE(server.Call(&v1::LightFilesService::Stub::MoveFile, move, &moved).ok());
  move.set_from_path("meshes/a.stl");
  CHECK(server.Call(&v1::LightFilesService::Stub::MoveFile, move, &moved).error_code() ==
        grpc::StatusCode::ALREADY_EXISTS);

  v1::DeleteFileRequest remove;
  remove.set_workspace("ws");
  remove.set_path("meshes");
  v1::DeleteFileResponse removed;
  CHECK(server.Call(&v1::LightFilesService::Stub::DeleteFile, remove, &removed).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  remove.set_recursive(true);
  REQUIRE(server.Call(&v1::LightFilesService::Stub::DeleteFile, remove, &removed).ok());
  CHECK(removed.removed_entries() == 2);

  REQUIRE(server.Write("scene.xml", "<site name=\"zone_goal_bin\" size=\"1\"/>\n").ok());
  v1::GrepRequest grep;
  grep.set_workspace("ws");
  grep.set_pattern("zone_(goal|forbid)");
  v1::GrepResponse found;
  REQUIRE(server.Call(&v1::LightFilesService::Stub::Grep, grep, &found).ok());
  REQUIRE(found.matches_size() == 1);
  CHECK(found.matches(0).path() == "scene.xml");
  CHECK(found.matches(0).line_number() == 1);
  grep.set_pattern("(");
  CHECK(server.Call(&v1::LightFilesService::Stub::Grep, grep, &found).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("LightFiles: escapes are PERMISSION_DENIED and nothing outside changes",
          "[integration]") {
  LightServer server;
  fs::create_directory_symlink(server.dir.path() / "outside", server.WorkspaceDir() / "planted");
  for (const std::string& path : std::vector<std::string>{"../outside/secret.txt", "../../outside/secret.txt", "/etc/passwd",
        (server.dir.path() / "outside/secret.txt").string(), "planted/secret.txt",
        "planted/new.txt"}) {
    INFO(path);
    CHECK(server.Write(path, "pwned", true).error_code() == grpc::StatusCode::PERMISSION_DENIED);
    v1::ReadFileResponse read;
    CHECK(server.Read(path, &read).error_code() == grpc::StatusCode::PERMISSION_DENIED);
    v1::DeleteFileRequest remove;
    remove.set_workspace("ws");
    remove.set_path(path);
    remove.set_recursive(true);
    v1::DeleteFileResponse removed;
    CHECK(server.Call(&v1::LightFilesService::Stub::DeleteFile, remove, &removed).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
    v1::MoveFileRequest move;
    move.set_workspace("ws");
    move.set_from_path(path);
    move.set_to_path("stolen.txt");
    v1::MoveFileResponse moved;
    CHECK(server.Call(&v1::LightFilesService::Stub::MoveFile, move, &moved).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext context;
    v1::UploadFilesResponse response;
    auto writer = server.stub->UploadFiles(&context, &response);
    v1::UploadFilesRequest message;
    message.set_workspace("ws");
    message.set_path("ok.txt");
    message.set_data("fine");
    writer->Write(message);
    message.Clear();
    message.set_path("../outside/secret.txt");
    message.set_data("pwned");
    writer->Write(message);
    writer->WritesDone();
    CHECK(writer->Finish().error_code() == grpc::StatusCode::PERMISSION_DENIED);
  }
  v1::GrepRequest grep;
  grep.set_workspace("ws");
  grep.set_pattern("secret");
  v1::GrepResponse found;
  REQUIRE(server.Call(&v1::LightFilesService::Stub::Grep, grep, &found).ok());
  CHECK(found.matches_size() == 0);

  CHECK(server.Secret() == "secret");
  std::vector<std::string> outside;
  for (auto& entry : fs::directory_iterator(server.dir.path() / "outside")) {
    outside.push_back(entry.path().filename().string());
  }
  CHECK(outside == std::vector<std::string>{"secret.txt"});
  CHECK_FALSE(fs::exists(server.WorkspaceDir() / "ok.txt"));  // the failed upload wrote nothing
}

TEST_CASE("LightFiles: many concurrent writers to one file never leave a torn file",
          "[integration]") {
  LightServer server;
  std::vector<std::thread> clients;
  for (int c = 0; c < 16; ++c) {
    clients.emplace_back([&, c] {
      const std::string content(64 * 1024, static_cast<char>('A' + c));
      for (int i = 0; i < 10; ++i) REQUIRE(server.Write("shared.bin", content, true).ok());
    });
  }
  for (int i = 0; i < 50; ++i) {
    v1::ReadFileResponse read;
    if (!server.Read("shared.bin", &read).ok()) continue;
    REQUIRE(read.content().size() == 64 * 1024);
    REQUIRE(read.content().find_first_not_of(read.content()[0]) == std::string::npos);
  }
  for (auto& t : clients) t.join();
  v1::ListFilesResponse listed;
  v1::ListFilesRequest list;
  list.set_workspace("ws");
  REQUIRE(server.Call(&v1::LightFilesService::Stub::ListFiles, list, &listed).ok());
  CHECK(listed.entries_size() == 1);  // no temporary files left behind
}
