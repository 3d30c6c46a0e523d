// worker-light's LightBundle service over real gRPC, against the real binary: files written
// through LightFiles come back, byte for byte, from the streamed bundle.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "libs/common/bundle.h"
#include "libs/common/sha256.h"
#include "tests/support/server_process.h"
#include "workerpair/v1/light_bundle.grpc.pb.h"
#include "workerpair/v1/light_files.grpc.pb.h"

namespace fs = std::filesystem;
namespace v1 = workerpair::v1;
using workerpair::testing::ServerProcess;
using workerpair::testing::TempDir;

namespace {

// Bytes gzip cannot shrink, so a file of them spans several 1 MiB chunks.
std::string Incompressible(std::size_t size) {
  std::string out(size, '\0');
  std::uint32_t x = 99;
  for (char& c : out) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return out;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// Everything one BundleWorkspace call returned.
struct Bundle {
  grpc::Status status;
  std::vector<std::string> chunks;
  std::optional<v1::BundleSummary> summary;
  bool data_after_summary = false;

  std::string Archive() const {
    std::string out;
    for (const std::string& chunk : chunks) out += chunk;
    return out;
  }
};

// One worker-light with a workspace "ws" and, beside the root, a directory that must never leak.
struct LightServer {
  LightServer() {
    fs::create_directories(dir.path() / "outside");
    std::ofstream(dir.path() / "outside/secret.txt") << "secret";
    auto started = ServerProcess::Start(
        WORKERPAIR_LIGHT_BINARY, {"--root=" + (dir.path() / "root").string(), "--log_level=warn"});
    REQUIRE(started.ok());
    process = std::move(*started);
    files = v1::LightFilesService::NewStub(process->Channel());
    bundles = v1::LightBundleService::NewStub(process->Channel());
    grpc::ClientContext context;
    v1::CreateWorkspaceRequest request;
    request.set_workspace("ws");
    v1::CreateWorkspaceResponse response;
    REQUIRE(files->CreateWorkspace(&context, request, &response).ok());
  }

  void Write(const std::string& path, const std::string& content) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::WriteFileRequest request;
    request.set_workspace("ws");
    request.set_path(path);
    request.set_content(content);
    v1::WriteFileResponse response;
    const grpc::Status status = files->WriteFile(&context, request, &response);
    REQUIRE(status.ok());
    written[path] = content;
  }

  Bundle Pack(const std::vector<std::string>& paths, const std::string& workspace = "ws") {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    v1::BundleWorkspaceRequest request;
    request.set_workspace(workspace);
    for (const std::string& path : paths) request.add_paths(path);
    Bundle bundle;
    auto reader = bundles->BundleWorkspace(&context, request);
    v1::BundleWorkspaceResponse chunk;
    while (reader->Read(&chunk)) {
      if (chunk.has_summary()) {
        bundle.summary = chunk.summary();
      } else {
        if (bundle.summary) bundle.data_after_summary = true;
        bundle.chunks.push_back(chunk.data());
      }
    }
    bundle.status = reader->Finish();
    return bundle;
  }

  fs::path WorkspaceDir() const { return dir.path() / "root/ws"; }

  TempDir dir;
  std::unique_ptr<ServerProcess> process;
  std::unique_ptr<v1::LightFilesService::Stub> files;
  std::unique_ptr<v1::LightBundleService::Stub> bundles;
  std::map<std::string, std::string> written;
};

}  // namespace

TEST_CASE("LightBundle: the streamed bundle unpacks to the files written", "[integration]") {
  LightServer server;
  server.Write("scene.xml", "<mujoco model=\"ramp\"/>\n");
  server.Write("manifest.json", "{\"version\": 1, \"scene\": \"scene.xml\"}\n");
  server.Write("meshes/ramp.stl", Incompressible(2'500'000));
  server.Write("meshes/empty.obj", "");
  server.Write("notes/a/b/deep.txt", std::string("\0\x01\xff binary", 10));

  Bundle bundle = server.Pack({});
  REQUIRE(bundle.status.ok());
  REQUIRE(bundle.summary.has_value());
  CHECK_FALSE(bundle.data_after_summary);

  // Chunks: several, none over 1 MiB; together they are the announced archive.
  CHECK(bundle.chunks.size() >= 3);
  for (const std::string& chunk : bundle.chunks) CHECK(chunk.size() <= (1u << 20));
  const std::string archive = bundle.Archive();
  CHECK(bundle.summary->chunk_count() == bundle.chunks.size());
  CHECK(bundle.summary->archive_bytes() == archive.size());
  CHECK(bundle.summary->sha256() == workerpair::Sha256Hex(archive));
  CHECK(bundle.summary->file_count() == 5);
  std::uint64_t total = 0;
  std::vector<std::string> names;
  for (const auto& [path, content] : server.written) {
    names.push_back(path);
    total += content.size();
  }
  CHECK(bundle.summary->total_bytes() == total);
  CHECK(std::vector<std::string>(bundle.summary->files().begin(), bundle.summary->files().end()) ==
        names);

  // Unpacked, every file is back byte for byte.
  TempDir scratch;
  absl::StatusOr<workerpair::UnpackReport> report =
      workerpair::UnpackArchive(archive, scratch.path(), {});
  REQUIRE(report.ok());
  CHECK(report->files == 5);
  for (const auto& [path, content] : server.written) {
    INFO(path);
    CHECK(ReadFile(scratch.path() / path) == content);
  }

  // The same files give the same bundle.
  Bundle again = server.Pack({});
  REQUIRE(again.status.ok());
  CHECK(again.summary->sha256() == bundle.summary->sha256());
}

TEST_CASE("LightBundle: named paths bundle only those files", "[integration]") {
  LightServer server;
  server.Write("scene.xml", "<mujoco/>");
  server.Write("meshes/a.stl", "solid a\nendsolid a\n");
  server.Write("other/skip.txt", "not in the bundle");
  Bundle bundle = server.Pack({"scene.xml", "meshes"});
  REQUIRE(bundle.status.ok());
  REQUIRE(bundle.summary.has_value());
  CHECK(std::vector<std::string>(bundle.summary->files().begin(), bundle.summary->files().end()) ==
        std::vector<std::string>{"meshes/a.stl", "scene.xml"});
  TempDir scratch;
  REQUIRE(workerpair::UnpackArchive(bundle.Archive(), scratch.path(), {}).ok());
  CHECK(ReadFile(scratch.path() / "meshes/a.stl") == "solid a\nendsolid a\n");
  CHECK_FALSE(fs::exists(scratch.path() / "other"));
}

TEST_CASE("LightBundle: missing paths are NOT_FOUND, escapes PERMISSION_DENIED", "[integration]") {
  LightServer server;
  server.Write("scene.xml", "<mujoco/>");
  // A symlink planted behind the service's back, pointing out of the workspace.
  fs::create_directory_symlink(server.dir.path() / "outside", server.WorkspaceDir() / "evil");

  CHECK(server.Pack({"missing.xml"}).status.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(server.Pack({}, "no-such-workspace").status.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(server.Pack({"../outside"}).status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(server.Pack({"/etc/passwd"}).status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(server.Pack({"evil/secret.txt"}).status.error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  Bundle failed = server.Pack({"scene.xml", "../outside/secret.txt"});
  CHECK(failed.status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(failed.chunks.empty());
  CHECK_FALSE(failed.summary.has_value());

  // The whole workspace skips the symlink: nothing from outside is in the bundle.
  Bundle whole = server.Pack({});
  REQUIRE(whole.status.ok());
  CHECK(std::vector<std::string>(whole.summary->files().begin(), whole.summary->files().end()) ==
        std::vector<std::string>{"scene.xml"});
  CHECK(whole.Archive().find("secret") == std::string::npos);
}
