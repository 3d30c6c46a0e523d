#include "tests/heavy/runner/heavy_test_client.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "libs/common/bundle.h"
#include "libs/rpc/grpc_status.h"
#include "libs/common/str_cat.h"

namespace workerpair::heavy::testing {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kChunk = 64 << 10;

void WriteText(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

template <typename Request>
void FillHeader(Request* header, const Payload& payload) {
  header->mutable_header()->mutable_payload()->set_size_bytes(payload.archive.size());
  header->mutable_header()->mutable_payload()->set_sha256(payload.sha256);
}

template <typename Request, typename Stream>
void SendChunks(Stream* stream, const Payload& payload) {
  for (std::size_t offset = 0; offset < payload.archive.size(); offset += kChunk) {
    Request chunk;
    chunk.set_chunk(payload.archive.substr(offset, kChunk));
    if (!stream->Write(chunk)) return;
  }
}

void Finish(CallResult* result) {
  result->reason = ReasonOf(FromGrpcStatus(result->status));
}

}  // namespace

Payload PackDir(const fs::path& dir) {
  auto packed = PackDirectory(dir, {}, PackOptions{});
  REQUIRE(packed.ok());
  return {packed->archive, packed->sha256};
}

Payload PackExample(const std::string& name) {
  return PackDir(fs::path(WORKERPAIR_SOURCE_DIR) / "examples/scenes" / name);
}

Payload PackFiles(const fs::path& dir, const std::map<std::string, std::string>& files) {
  for (const auto& [path, content] : files) WriteText(dir / path, content);
  return PackDir(dir);
}

Payload PackScene(const fs::path& dir, const std::string& mjcf,
                  std::map<std::string, std::string> extra_files,
                  const std::string& manifest_extra) {
  extra_files["scene.xml"] = mjcf;
  extra_files["manifest.json"] =
      StrCat(R"({"version": 1, "scene": "scene.xml", "render": {"enabled": false},)",
             R"( "simulation": {"duration_s": 0.2})", manifest_extra, "}");
  return PackFiles(dir, extra_files);
}

Payload SlowScene(const fs::path& dir) {
  return PackFiles(dir, {{"manifest.json", R"({
    "version": 1, "scene": "scene.xml",
    "simulation": { "duration_s": 120, "timestep_s": 0.0001, "target_body": "box" },
    "render": { "enabled": false } })"},
                         {"scene.xml", R"(<mujoco>
    <worldbody>
      <geom type="plane" size="5 5 0.1"/>
      <body name="box" pos="0 0 0.5"><freejoint/><geom type="box" size="0.1 0.1 0.1"/></body>
    </worldbody></mujoco>)"}});
}

Heavy::Heavy(std::vector<std::string> args) {
  args.push_back(StrCat("--scratch_dir=", scratch().string()));
  auto started = ServerProcess::Start(WORKERPAIR_HEAVY_BINARY, args);
  REQUIRE(started.ok());
  process_ = std::move(*started);
  stub_ = v1::HeavyService::NewStub(process_->Channel());
}

v1::SimulateOptions Heavy::NoRender() {
  v1::SimulateOptions options;
  options.set_render(false);
  return options;
}

v1::InfoResponse Heavy::Info() {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  v1::InfoResponse response;
  grpc::Status status = stub_->Info(&context, v1::InfoRequest(), &response);
  REQUIRE(status.ok());
  return response;
}

bool Heavy::Serving() {
  auto health = grpc::health::v1::Health::NewStub(process_->Channel());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("workerpair.v1.HeavyService");
  grpc::health::v1::HealthCheckResponse response;
  return health->Check(&context, request, &response).ok() &&
         response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

CallResult Heavy::Simulate(const Payload& payload, v1::SimulateOptions options,
                           absl::Duration deadline) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  auto stream = stub_->Simulate(&context);
  v1::SimulateRequest header;
  FillHeader(&header, payload);
  *header.mutable_header()->mutable_options() = std::move(options);
  if (stream->Write(header)) {
    SendChunks<v1::SimulateRequest>(stream.get(), payload);
  }
  stream->WritesDone();
  CallResult result;
  v1::SimulateResponse event;
  while (stream->Read(&event)) {
    result.streamed += event.SerializeAsString();
    result.events.push_back(event);
  }
  result.status = stream->Finish();
  Finish(&result);
  return result;
}

CallResult Heavy::BuildScene(const Payload& payload) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  v1::BuildSceneResponse response;
  auto stream = stub_->BuildScene(&context, &response);
  v1::BuildSceneRequest header;
  FillHeader(&header, payload);
  if (stream->Write(header)) {
    SendChunks<v1::BuildSceneRequest>(stream.get(), payload);
  }
  stream->WritesDone();
  CallResult result;
  result.status = stream->Finish();
  Finish(&result);
  result.streamed = response.SerializeAsString();
  return result;
}

CallResult Heavy::RenderViews(const Payload& payload) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  auto stream = stub_->RenderViews(&context);
  v1::RenderViewsRequest header;
  FillHeader(&header, payload);
  header.mutable_header()->mutable_options()->set_azimuth_count(2);
  header.mutable_header()->mutable_options()->add_elevations_deg(-30);
  header.mutable_header()->mutable_options()->set_width(64);
  header.mutable_header()->mutable_options()->set_height(48);
  if (stream->Write(header)) {
    SendChunks<v1::RenderViewsRequest>(stream.get(), payload);
  }
  stream->WritesDone();
  CallResult result;
  v1::RenderViewsResponse event;
  while (stream->Read(&event)) result.streamed += event.SerializeAsString();
  result.status = stream->Finish();
  Finish(&result);
  return result;
}

std::map<int, pid_t> Heavy::RunnerPids() {
  std::map<int, pid_t> pids;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const std::size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid != process_->pid()) continue;
    std::ifstream cmdline_file(entry.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(cmdline_file)),
                        std::istreambuf_iterator<char>());
    const std::size_t at = cmdline.find("/runner-");
    if (at == std::string::npos) continue;
    pids[std::atoi(cmdline.c_str() + at + 8)] = static_cast<pid_t>(std::stol(name));
  }
  return pids;
}

bool Eventually(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

}  // namespace workerpair::heavy::testing
