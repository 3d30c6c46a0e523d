// worker-heavy through the real binary over gRPC: payload refusals, scenes to their outcomes,
// cancellation, admission limits and drain.
#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <fstream>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "libs/common/bundle.h"
#include "libs/common/sha256.h"
#include "libs/common/str_cat.h"
#include "tests/heavy/intake/test_archives.h"
#include "tests/support/http_get.h"
#include "tests/support/server_process.h"
#include "workerpair/v1/heavy.grpc.pb.h"

namespace workerpair::heavy {
namespace {
namespace fs = std::filesystem;
using testing::ArchiveEntry;
using testing::MakeTarGz;
using workerpair::testing::ServerProcess;
using workerpair::testing::TempDir;

constexpr std::size_t kChunk = 64 << 10;

struct Payload {
  std::string archive;
  std::string sha256;
};

Payload FromArchive(std::string archive) {
  Payload payload{std::move(archive), ""};
  payload.sha256 = Sha256Hex(payload.archive);
  return payload;
}

Payload PackExample(const std::string& name) {
  auto packed = PackDirectory(fs::path(WORKERPAIR_SOURCE_DIR) / "examples/scenes" / name, {},
                              PackOptions{});
  REQUIRE(packed.ok());
  return {packed->archive, packed->sha256};
}

void WriteText(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// A scene that runs long (120 s at 0.1 ms steps) and never succeeds: for cancel and queue tests.
Payload SlowScene(const fs::path& dir) {
  WriteText(dir / "manifest.json", R"({
    "version": 1, "scene": "scene.xml",
    "simulation": { "duration_s": 120, "timestep_s": 0.0001, "target_body": "box" },
    "render": { "enabled": false } })");
  WriteText(dir / "scene.xml", R"(<mujoco>
    <worldbody>
      <geom type="plane" size="5 5 0.1"/>
      <body name="box" pos="0 0 0.5"><freejoint/><geom type="box" size="0.1 0.1 0.1"/></body>
    </worldbody></mujoco>)");
  auto packed = PackDirectory(dir, {}, PackOptions{});
  REQUIRE(packed.ok());
  return {packed->archive, packed->sha256};
}

// The one instance directory under a server's scratch base.
fs::path InstanceDir(const fs::path& base) {
  for (const auto& entry : fs::directory_iterator(base)) {
    if (entry.is_directory() && entry.path().filename().string().rfind("instance-", 0) == 0) {
      return entry.path();
    }
  }
  return {};
}

// Job directories alive now: <instance>/runner-<i>/job-* (each runner owns one directory and
// a job's files live in it while the job runs), plus anything else in the instance directory
// that is not a runner directory.
int JobDirs(const fs::path& base) {
  const fs::path instance = InstanceDir(base);
  if (instance.empty()) return -1;
  int n = 0;
  for (const auto& entry : fs::directory_iterator(instance)) {
    if (entry.path().filename().string().rfind("runner-", 0) != 0) {
      ++n;
      continue;
    }
    for ([[maybe_unused]] const auto& job : fs::directory_iterator(entry.path())) ++n;
  }
  return n;
}

template <typename Condition>
bool Eventually(Condition condition, absl::Duration timeout = absl::Seconds(15)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

// A worker-heavy with its own scratch base.
struct Heavy {
  explicit Heavy(std::vector<std::string> args = {}) {
    args.push_back(StrCat("--scratch_dir=", scratch().string()));
    auto started = ServerProcess::Start(WORKERPAIR_HEAVY_BINARY, args);
    REQUIRE(started.ok());
    process = std::move(*started);
    stub = v1::HeavyService::NewStub(process->Channel());
  }
  fs::path scratch() const { return temp.path() / "scratch"; }

  v1::InfoResponse Info() {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    v1::InfoResponse response;
    grpc::Status status = stub->Info(&context, v1::InfoRequest(), &response);
    REQUIRE(status.ok());
    return response;
  }

  TempDir temp;
  std::unique_ptr<ServerProcess> process;
  std::unique_ptr<v1::HeavyService::Stub> stub;
};

// Sends header + chunks on a Simulate stream (does not half-close).
void SendSimulate(grpc::ClientReaderWriter<v1::SimulateRequest, v1::SimulateResponse>* stream,
                  const Payload& payload, const v1::SimulateOptions& options,
                  std::uint64_t declared_size) {
  v1::SimulateRequest header;
  header.mutable_header()->mutable_payload()->set_size_bytes(declared_size);
  header.mutable_header()->mutable_payload()->set_sha256(payload.sha256);
  *header.mutable_header()->mutable_options() = options;
  if (!stream->Write(header)) return;
  for (std::size_t offset = 0; offset < payload.archive.size(); offset += kChunk) {
    v1::SimulateRequest chunk;
    chunk.set_chunk(payload.archive.substr(offset, kChunk));
    if (!stream->Write(chunk)) return;
  }
}

struct SimulateCall {
  grpc::Status status;
  std::vector<v1::SimulateResponse> events;
  const v1::SimulateResult* result() const {
    return events.empty() || !events.back().has_result() ? nullptr : &events.back().result();
  }
  std::string Artifact(const std::string& name) const {
    std::string bytes;
    for (const auto& event : events) {
      if (event.has_artifact() && event.artifact().name() == name) bytes += event.artifact().data();
    }
    return bytes;
  }
};

SimulateCall Simulate(v1::HeavyService::Stub* stub, const Payload& payload,
                      v1::SimulateOptions options = {}, std::int64_t declared_size = -1) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  auto stream = stub->Simulate(&context);
  SendSimulate(stream.get(), payload, options,
               declared_size >= 0 ? static_cast<std::uint64_t>(declared_size)
                                  : payload.archive.size());
  stream->WritesDone();
  SimulateCall call;
  v1::SimulateResponse event;
  while (stream->Read(&event)) call.events.push_back(event);
  call.status = stream->Finish();
  return call;
}

v1::SimulateOptions NoRender() {
  v1::SimulateOptions options;
  options.set_render(false);
  return options;
}

TEST_CASE("Bad payloads are refused with a clear error and leave nothing behind") {
  Heavy heavy({"--slots=2", "--queue=2", "--max_unpacked_mb=32"});
  REQUIRE(JobDirs(heavy.scratch()) == 0);
  const fs::path outside = heavy.temp.path();
  Payload good = PackExample("ramp_goal");

  struct Case {
    std::string name;
    Payload payload;
    grpc::StatusCode code;
    std::string message_part;
    std::int64_t declared_size = -1;
  };
  std::string truncated = good.archive.substr(0, good.archive.size() / 2);
  Payload bad_digest = good;
  bad_digest.sha256 = Sha256Hex("something else");
  TempDir missing_mesh_dir;
  WriteText(missing_mesh_dir.path() / "manifest.json",
            R"({"version": 1, "scene": "scene.xml"})");
  WriteText(missing_mesh_dir.path() / "scene.xml", R"(<mujoco><asset>
      <mesh name="m" file="meshes/missing.stl"/></asset>
      <worldbody><body><freejoint/><geom type="mesh" mesh="m"/></body></worldbody></mujoco>)");
  auto missing_mesh = PackDirectory(missing_mesh_dir.path(), {}, PackOptions{});
  REQUIRE(missing_mesh.ok());
  TempDir no_manifest_dir;
  WriteText(no_manifest_dir.path() / "scene.xml", "<mujoco/>");
  auto no_manifest = PackDirectory(no_manifest_dir.path(), {}, PackOptions{});
  REQUIRE(no_manifest.ok());

  const std::vector<Case> cases = {
      {"dot-dot entry", FromArchive(MakeTarGz({{.path = "../escape.txt", .content = "x"}})),
       grpc::StatusCode::PERMISSION_DENIED, ".."},
      {"absolute entry",
       FromArchive(MakeTarGz({{.path = (outside / "abs.txt").string(), .content = "x"}})),
       grpc::StatusCode::PERMISSION_DENIED, ""},
      {"symlink out",
       FromArchive(MakeTarGz({{.path = "link", .type = ArchiveEntry::Type::kSymlink,
                               .link_target = outside.string()},
                              {.path = "link/escape.txt", .content = "x"}})),
       grpc::StatusCode::PERMISSION_DENIED, "link"},
      {"hardlink out",
       FromArchive(MakeTarGz({{.path = "hard", .type = ArchiveEntry::Type::kHardlink,
                               .link_target = "/etc/passwd"}})),
       grpc::StatusCode::PERMISSION_DENIED, "hard"},
      {"decompression bomb",
       FromArchive(MakeTarGz({{.path = "zeros.bin", .zero_bytes = 64ull << 20}})),
       grpc::StatusCode::RESOURCE_EXHAUSTED, ""},
      {"truncated gzip", FromArchive(truncated), grpc::StatusCode::INVALID_ARGUMENT, ""},
      {"digest mismatch", bad_digest, grpc::StatusCode::DATA_LOSS, "sha256 mismatch"},
      {"empty payload", FromArchive(""), grpc::StatusCode::INVALID_ARGUMENT, "empty payload"},
      {"manifest naming a missing file", {missing_mesh->archive, missing_mesh->sha256},
       grpc::StatusCode::INVALID_ARGUMENT, "missing.stl"},
      {"no manifest", {no_manifest->archive, no_manifest->sha256},
       grpc::StatusCode::INVALID_ARGUMENT, "manifest.json"},
      {"more bytes than declared", good, grpc::StatusCode::INVALID_ARGUMENT, "more bytes",
       static_cast<std::int64_t>(good.archive.size()) - 10},
      {"fewer bytes than declared", good, grpc::StatusCode::INVALID_ARGUMENT, "truncated",
       static_cast<std::int64_t>(good.archive.size()) + 10},
  };
  // One replica for every case (a SECTION each would start a replica per case).
  for (const Case& c : cases) {
    {
      SimulateCall call = Simulate(heavy.stub.get(), c.payload, NoRender(), c.declared_size);
      INFO(c.name << ": " << call.status.error_code() << " " << call.status.error_message());
      CHECK(call.status.error_code() == c.code);
      CHECK(call.status.error_message().find(c.message_part) != std::string::npos);
      // Never the server's own paths in a message.
      CHECK(call.status.error_message().find(heavy.scratch().string()) == std::string::npos);
      CHECK(Eventually([&] { return JobDirs(heavy.scratch()) == 0; }));
      CHECK_FALSE(fs::exists(outside / "escape.txt"));
      CHECK_FALSE(fs::exists(outside / "abs.txt"));
      CHECK_FALSE(fs::exists(heavy.scratch().parent_path().parent_path() / "escape.txt"));
      CHECK(heavy.Info().running() == 0);
    }
  }
}

TEST_CASE("A payload over the size limit is RESOURCE_EXHAUSTED at the header") {
  Heavy heavy({"--max_payload_mb=1"});
  Payload big = FromArchive(std::string(1 << 20, 'x') + "y");
  SimulateCall call = Simulate(heavy.stub.get(), big, NoRender());
  CHECK(call.status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(call.status.error_message().find("limit of 1048576 bytes") != std::string::npos);
}

TEST_CASE("Example scenes simulate to their expected outcomes through the service") {
  Heavy heavy({"--slots=2"});
  struct Expected {
    std::string scene;
    v1::Outcome outcome;
    v1::FailReason reason;
  };
  const std::vector<Expected> scenes = {
      {"ramp_goal", v1::OUTCOME_SUCCESS, v1::FAIL_REASON_UNSPECIFIED},
      {"assembly_goal", v1::OUTCOME_SUCCESS, v1::FAIL_REASON_UNSPECIFIED},
      {"forbid_zone", v1::OUTCOME_FAILURE, v1::FAIL_REASON_FORBID_ZONE_HIT},
      {"fall_off", v1::OUTCOME_FAILURE, v1::FAIL_REASON_OUT_OF_BOUNDS},
      {"explode", v1::OUTCOME_FAILURE, v1::FAIL_REASON_PHYSICS_INSTABILITY},
      {"motor_overload", v1::OUTCOME_FAILURE, v1::FAIL_REASON_MOTOR_OVERLOAD},
  };
  // One replica for every scene (a SECTION each would start a replica per scene).
  for (const Expected& expected : scenes) {
    {
      INFO("scene: " << expected.scene);
      SimulateCall call = Simulate(heavy.stub.get(), PackExample(expected.scene), NoRender());
      INFO(call.status.error_message());
      REQUIRE(call.status.ok());
      // accepted, started, progress..., artifacts..., result
      REQUIRE(call.events.size() >= 4);
      CHECK(call.events[0].has_accepted());
      CHECK_FALSE(call.events[0].accepted().job_id().empty());
      CHECK(call.events[0].accepted().queue_position() == 0);
      CHECK(call.events[1].has_started());
      CHECK(std::any_of(call.events.begin(), call.events.end(),
                        [](const auto& e) { return e.has_progress(); }));
      const v1::SimulateResult* result = call.result();
      REQUIRE(result != nullptr);
      INFO(result->detail());
      CHECK(result->outcome() == expected.outcome);
      CHECK(result->fail_reason() == expected.reason);
      CHECK(result->metrics().steps() > 0);
      CHECK(result->stress_label().find("contact-force estimate") != std::string::npos);
      CHECK_FALSE(result->events().empty());
      const std::string json = call.Artifact("result.json");
      CHECK(json.find("\"outcome\"") != std::string::npos);
      CHECK(Eventually([&] { return JobDirs(heavy.scratch()) == 0; }));
    }
  }
}

TEST_CASE("A rendered simulation streams an H.264 video, heatmaps and result.json") {
  Heavy heavy({"--slots=1"});
  v1::SimulateOptions options;
  options.set_width(320);
  options.set_height(240);
  options.set_fps(20);
  SimulateCall call = Simulate(heavy.stub.get(), PackExample("ramp_goal"), options);
  INFO(call.status.error_message());
  REQUIRE(call.status.ok());
  const v1::SimulateResult* result = call.result();
  REQUIRE(result != nullptr);
  CHECK(result->outcome() == v1::OUTCOME_SUCCESS);
  const std::vector<std::string> names(result->artifacts().begin(), result->artifacts().end());
  CHECK(names == std::vector<std::string>{"video.mp4", "heatmap_parts.png",
                                          "heatmap_topdown.png", "result.json"});

  // The video: an MP4 with an H.264 (avc1) track, whole (digest of the last chunk matches).
  const std::string mp4 = call.Artifact("video.mp4");
  REQUIRE(mp4.size() > 1000);
  CHECK(mp4.substr(4, 4) == "ftyp");
  CHECK(mp4.find("avc1") != std::string::npos);
  std::string declared_digest;
  for (const auto& event : call.events) {
    if (event.has_artifact() && event.artifact().name() == "video.mp4" && event.artifact().last()) {
      declared_digest = event.artifact().sha256();
      CHECK(event.artifact().total_bytes() == mp4.size());
    }
  }
  CHECK(declared_digest == Sha256Hex(mp4));
  // Frames: one per 1/fps of simulated time, frame 0 included.
  const double sim_time = result->metrics().sim_time_s();
  CHECK(result->metrics().frames_rendered() ==
        static_cast<std::uint64_t>(std::floor(sim_time * 20 + 1e-9)) + 1);

  for (const std::string name : {"heatmap_parts.png", "heatmap_topdown.png"}) {
    const std::string png = call.Artifact(name);
    REQUIRE(png.size() > 100);
    CHECK(png.substr(1, 3) == "PNG");
  }
  CHECK_FALSE(heavy.Info().gl_renderer().empty());
  CHECK(Eventually([&] { return JobDirs(heavy.scratch()) == 0; }));
}

TEST_CASE("RenderViews streams one PNG per view of the ring") {
  Heavy heavy({"--slots=1"});
  const Payload payload = PackExample("ramp_goal");
  grpc::ClientContext context;
  auto stream = heavy.stub->RenderViews(&context);
  v1::RenderViewsRequest header;
  header.mutable_header()->mutable_payload()->set_size_bytes(payload.archive.size());
  header.mutable_header()->mutable_payload()->set_sha256(payload.sha256);
  v1::RenderViewsOptions* options = header.mutable_header()->mutable_options();
  options->set_azimuth_count(4);
  options->add_elevations_deg(-30);
  options->set_width(160);
  options->set_height(120);
  REQUIRE(stream->Write(header));
  v1::RenderViewsRequest chunk;
  chunk.set_chunk(payload.archive);
  REQUIRE(stream->Write(chunk));
  stream->WritesDone();
  std::vector<v1::RenderedView> views;
  v1::RenderViewsResponse event;
  bool summarised = false;
  while (stream->Read(&event)) {
    if (event.has_view()) views.push_back(event.view());
    if (event.has_result()) {
      summarised = true;
      CHECK(event.result().view_count() == 4);
      CHECK_FALSE(event.result().gl_renderer().empty());
    }
  }
  grpc::Status status = stream->Finish();
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(summarised);
  REQUIRE(views.size() == 4);
  std::set<std::string> pngs;
  for (const auto& view : views) {
    CHECK(view.png().substr(1, 3) == "PNG");
    CHECK(view.elevation_deg() == Approx(-30));
    pngs.insert(view.png());
  }
  CHECK(pngs.size() == 4);  // four different images
}

TEST_CASE("Cancelling a running simulation frees its slot and scratch directory") {
  Heavy heavy({"--slots=1", "--queue=0"});
  TempDir scene_dir;
  const Payload slow = SlowScene(scene_dir.path());
  grpc::ClientContext context;
  auto stream = heavy.stub->Simulate(&context);
  SendSimulate(stream.get(), slow, {}, slow.archive.size());
  v1::SimulateResponse event;
  bool progressed = false;
  while (!progressed && stream->Read(&event)) progressed = event.has_progress();
  REQUIRE(progressed);
  CHECK(heavy.Info().running() == 1);
  CHECK(JobDirs(heavy.scratch()) == 1);

  context.TryCancel();
  while (stream->Read(&event)) {
  }
  CHECK(stream->Finish().error_code() == grpc::StatusCode::CANCELLED);
  CHECK(Eventually([&] { return heavy.Info().running() == 0; }));
  CHECK(Eventually([&] { return JobDirs(heavy.scratch()) == 0; }));
  CHECK(Eventually([&] { return heavy.Info().jobs_cancelled() == 1; }));

  // The freed slot takes the next job.
  SimulateCall next = Simulate(heavy.stub.get(), PackExample("ramp_goal"), NoRender());
  CHECK(next.status.ok());
}

TEST_CASE("A deadline that passes mid-job cancels the job") {
  Heavy heavy({"--slots=1"});
  TempDir scene_dir;
  const Payload slow = SlowScene(scene_dir.path());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  auto stream = heavy.stub->Simulate(&context);
  SendSimulate(stream.get(), slow, {}, slow.archive.size());
  stream->WritesDone();
  v1::SimulateResponse event;
  while (stream->Read(&event)) {
  }
  CHECK(stream->Finish().error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  CHECK(Eventually([&] { return heavy.Info().running() == 0; }));
  CHECK(Eventually([&] { return JobDirs(heavy.scratch()) == 0; }));
}

TEST_CASE("N running plus a full queue, then RESOURCE_EXHAUSTED while Info answers") {
  Heavy heavy({"--slots=1", "--queue=1"});
  TempDir scene_dir;
  const Payload slow = SlowScene(scene_dir.path());

  grpc::ClientContext first_context, second_context;
  auto first = heavy.stub->Simulate(&first_context);
  SendSimulate(first.get(), slow, {}, slow.archive.size());
  v1::SimulateResponse event;
  REQUIRE(first->Read(&event));
  REQUIRE(event.has_accepted());
  CHECK(event.accepted().queue_position() == 0);
  CHECK(event.accepted().slots() == 1);

  auto second = heavy.stub->Simulate(&second_context);
  SendSimulate(second.get(), slow, {}, slow.archive.size());
  REQUIRE(second->Read(&event));
  REQUIRE(event.has_accepted());
  CHECK(event.accepted().queue_position() == 1);

  // Every slot and the queue are taken: Info still answers at once.
  REQUIRE(Eventually([&] { return heavy.Info().running() == 1; }));  // the worker picked it up
  const absl::Time before = absl::Now();
  v1::InfoResponse info = heavy.Info();
  CHECK(absl::Now() - before < absl::Seconds(1));
  CHECK(info.slots() == 1);
  CHECK(info.running() == 1);
  CHECK(info.queued() == 1);
  CHECK(info.queue_capacity() == 1);
  CHECK(info.jobs_size() == 2);
  CHECK(info.cpu_count() >= 1);
  CHECK(info.memory_total_bytes() > 0);

  SimulateCall refused = Simulate(heavy.stub.get(), slow);
  CHECK(refused.status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(refused.status.error_message() ==
        "all 1 slots busy and the queue of 1 is full; try another replica");
  CHECK(heavy.Info().jobs_rejected() == 1);

  // Cancelling the running job lets the queued one start.
  first_context.TryCancel();
  while (first->Read(&event)) {
  }
  bool started = false;
  while (!started && second->Read(&event)) started = event.has_started();
  CHECK(started);
  second_context.TryCancel();
  while (second->Read(&event)) {
  }
  first->Finish();
  second->Finish();
  CHECK(Eventually([&] { return JobDirs(heavy.scratch()) == 0; }));
}

TEST_CASE("Verify runs the scene N times with jitter and reports the success rate") {
  Heavy heavy({"--slots=2"});
  const Payload payload = PackExample("ramp_goal");
  grpc::ClientContext context;
  auto stream = heavy.stub->Verify(&context);
  v1::VerifyRequest header;
  header.mutable_header()->mutable_payload()->set_size_bytes(payload.archive.size());
  header.mutable_header()->mutable_payload()->set_sha256(payload.sha256);
  header.mutable_header()->set_runs(4);
  REQUIRE(stream->Write(header));
  v1::VerifyRequest chunk;
  chunk.set_chunk(payload.archive);
  REQUIRE(stream->Write(chunk));
  stream->WritesDone();
  std::vector<v1::VerifyResponse> events;
  v1::VerifyResponse event;
  while (stream->Read(&event)) events.push_back(event);
  grpc::Status status = stream->Finish();
  INFO(status.error_message());
  REQUIRE(status.ok());
  REQUIRE(events.back().has_result());
  const v1::VerifyResult& result = events.back().result();
  CHECK(result.runs_size() == 4);
  CHECK(std::count_if(events.begin(), events.end(), [](const auto& e) { return e.has_run(); }) ==
        4);
  CHECK(result.parallelism() >= 1);
  CHECK(result.parallelism() <= 2);
  CHECK(result.success_rate() == Approx(result.successes() / 4.0));
  CHECK(result.successes() >= 3);  // the ramp is robust to 5 mm of jitter
  std::set<std::uint64_t> seeds;
  for (const auto& run : result.runs()) seeds.insert(run.seed());
  CHECK(seeds.size() == 4);
  CHECK(Eventually([&] { return JobDirs(heavy.scratch()) == 0; }));
}

grpc::Status BuildScene(v1::HeavyService::Stub* stub, const Payload& payload,
                        v1::BuildSceneResponse* response, bool return_mjcf = false) {
  grpc::ClientContext context;
  auto stream = stub->BuildScene(&context, response);
  v1::BuildSceneRequest header;
  header.mutable_header()->mutable_payload()->set_size_bytes(payload.archive.size());
  header.mutable_header()->mutable_payload()->set_sha256(payload.sha256);
  header.mutable_header()->set_return_mjcf(return_mjcf);
  if (stream->Write(header)) {
    v1::BuildSceneRequest chunk;
    chunk.set_chunk(payload.archive);
    stream->Write(chunk);
  }
  stream->WritesDone();
  return stream->Finish();
}

TEST_CASE("BuildScene reports model statistics, or MuJoCo's error") {
  Heavy heavy;
  v1::BuildSceneResponse response;
  grpc::Status status = BuildScene(heavy.stub.get(), PackExample("assembly_goal"), &response, true);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(response.stats().bodies() >= 3);
  CHECK(response.stats().target_body() == "ball");
  CHECK(response.stats().goal_zones_size() == 1);
  CHECK(response.stats().forbid_zones_size() == 1);
  CHECK(response.mjcf().find("<mujoco") != std::string::npos);

  TempDir bad_dir;
  WriteText(bad_dir.path() / "manifest.json", R"({"version": 1, "scene": "scene.xml"})");
  WriteText(bad_dir.path() / "scene.xml", "<mujoco><worldbody><geom type=\"nonsense\"/>");
  auto bad = PackDirectory(bad_dir.path(), {}, PackOptions{});
  REQUIRE(bad.ok());
  v1::BuildSceneResponse ignored;
  status = BuildScene(heavy.stub.get(), {bad->archive, bad->sha256}, &ignored);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_FALSE(status.error_message().empty());
  CHECK(Eventually([&] { return JobDirs(heavy.scratch()) == 0; }));
}

TEST_CASE("SIGTERM: running jobs past the grace end UNAVAILABLE and the scratch is removed") {
  Heavy heavy({"--slots=1", "--queue=1", "--shutdown_grace=1s"});
  TempDir scene_dir;
  const Payload slow = SlowScene(scene_dir.path());
  grpc::ClientContext running_context, queued_context;
  auto running = heavy.stub->Simulate(&running_context);
  SendSimulate(running.get(), slow, {}, slow.archive.size());
  v1::SimulateResponse first_event;
  REQUIRE(running->Read(&first_event));
  REQUIRE(first_event.has_accepted());
  auto queued = heavy.stub->Simulate(&queued_context);
  SendSimulate(queued.get(), slow, {}, slow.archive.size());
  v1::SimulateResponse event;
  REQUIRE(queued->Read(&event));
  REQUIRE(event.has_accepted());
  CHECK(event.accepted().queue_position() == 1);

  heavy.process->Signal(SIGTERM);
  while (queued->Read(&event)) {
  }
  // During the grace period: health says NOT_SERVING, Info says draining, nothing is admitted.
  auto health = grpc::health::v1::Health::NewStub(heavy.process->Channel());
  CHECK(Eventually([&] {
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckRequest request;
    request.set_service("workerpair.v1.HeavyService");
    grpc::health::v1::HealthCheckResponse response;
    return health->Check(&context, request, &response).ok() &&
           response.status() == grpc::health::v1::HealthCheckResponse::NOT_SERVING;
  }, absl::Seconds(1)));
  CHECK(heavy.Info().draining());
  SimulateCall late = Simulate(heavy.stub.get(), slow);
  CHECK(late.status.error_code() == grpc::StatusCode::UNAVAILABLE);
  grpc::Status queued_status = queued->Finish();
  CHECK(queued_status.error_code() == grpc::StatusCode::UNAVAILABLE);
  while (running->Read(&event)) {
  }
  grpc::Status running_status = running->Finish();
  INFO(running_status.error_message());
  CHECK(running_status.error_code() == grpc::StatusCode::UNAVAILABLE);
  const int exit_status = heavy.process->Wait(absl::Seconds(20));
  CHECK(WIFEXITED(exit_status));
  CHECK(WEXITSTATUS(exit_status) == 0);
  CHECK(fs::is_empty(heavy.scratch()));
}


// The /metrics page of a server started with --metrics_listen.
std::string ScrapeMetrics(int port) { return workerpair::testing::HttpGet(port, "/metrics"); }

TEST_CASE("Metrics scraped during a job show it running, after jobs, outcomes and bytes") {
  Heavy heavy({"--slots=1", "--queue=1", "--metrics_listen=127.0.0.1:0"});
  REQUIRE(heavy.process->metrics_port() > 0);
  TempDir scene_dir;
  const Payload slow = SlowScene(scene_dir.path());
  grpc::ClientContext context;
  auto stream = heavy.stub->Simulate(&context);
  SendSimulate(stream.get(), slow, {}, slow.archive.size());
  v1::SimulateResponse event;
  bool progressed = false;
  while (!progressed && stream->Read(&event)) progressed = event.has_progress();
  REQUIRE(progressed);

  const std::string during = ScrapeMetrics(heavy.process->metrics_port());
  CHECK(during.find("workerpair_heavy_jobs_running 1\n") != std::string::npos);
  CHECK(during.find("workerpair_heavy_jobs_queued 0\n") != std::string::npos);
  CHECK(during.find("workerpair_heavy_slots 1\n") != std::string::npos);
  context.TryCancel();
  while (stream->Read(&event)) {
  }
  stream->Finish();
  CHECK(Eventually([&] { return heavy.Info().running() == 0; }));

  const Payload ramp = PackExample("ramp_goal");
  REQUIRE(Simulate(heavy.stub.get(), ramp, NoRender()).status.ok());
  const std::string after = ScrapeMetrics(heavy.process->metrics_port());
  CHECK(after.find("workerpair_heavy_jobs_completed_total{outcome=\"success\"} 1\n") !=
        std::string::npos);
  CHECK(after.find("workerpair_heavy_jobs_completed_total{outcome=\"cancelled\"} 1\n") !=
        std::string::npos);
  CHECK(after.find("workerpair_heavy_job_seconds_count{kind=\"simulate\"} 2\n") !=
        std::string::npos);
  CHECK(after.find("workerpair_heavy_payload_bytes_total " +
                   std::to_string(slow.archive.size() + ramp.archive.size()) + "\n") !=
        std::string::npos);
  CHECK(after.find("workerpair_rpc_seconds_count{service=\"workerpair.v1.HeavyService\","
                   "method=\"Simulate\"") != std::string::npos);
  CHECK(after.find("workerpair_heavy_admission_rejections_total 0\n") != std::string::npos);
}

}  // namespace
}  // namespace workerpair::heavy
