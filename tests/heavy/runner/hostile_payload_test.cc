// Hostile payloads through the real worker-heavy: each fails alone, with a clear, classified
// error, while a good job on the same replica finishes normally and the replica stays SERVING.
#include <catch2/catch.hpp>

#include <fstream>
#include <future>
#include <string>
#include <vector>

#include "libs/common/str_cat.h"
#include "tests/heavy/runner/heavy_test_client.h"

namespace workerpair::heavy::testing {
namespace {
namespace fs = std::filesystem;

// A good job started before the hostile one; Check() waits for it and asserts it succeeded.
class GoodJob {
 public:
  explicit GoodJob(Heavy& heavy)
      : payload_(PackExample("ramp_goal")),
        result_(std::async(std::launch::async, [&heavy, this] { return heavy.Simulate(payload_); })) {}
  void Check() {
    CallResult call = result_.get();
    INFO("good job: " << call.status.error_message());
    REQUIRE(call.status.ok());
    REQUIRE(!call.events.empty());
    REQUIRE(call.events.back().has_result());
    CHECK(call.events.back().result().outcome() == v1::OUTCOME_SUCCESS);
  }

 private:
  Payload payload_;
  std::future<CallResult> result_;
};

// Every runner is back and the replica serves.
void CheckReplicaWhole(Heavy& heavy) {
  CHECK(heavy.Serving());
  CHECK(Eventually([&] {
    const v1::InfoResponse info = heavy.Info();
    return info.runners_alive() == info.slots() && info.runners_busy() == 0;
  }));
}

std::string Mjcf(const std::string& asset, const std::string& body = "") {
  return StrCat("<mujoco><asset>", asset, "</asset><worldbody>",
                "<geom type=\"plane\" size=\"5 5 0.1\"/>",
                "<body name=\"b\" pos=\"0 0 1\"><freejoint/><geom type=\"box\" size=\".1 .1 .1\"/>",
                body, "</body></worldbody></mujoco>");
}

TEST_CASE("Scenes that crash MuJoCo 2.2.2 fail alone with SCENE_CRASHED naming signal and phase") {
  Heavy heavy({"--slots=2"});
  TempDir obj_dir, texture_dir;
  struct Case {
    std::string name;
    Payload payload;
  };
  const std::vector<Case> cases = {
      // width * height * 3 overflows an int.
      {"2D texture whose size overflows",
       PackScene(texture_dir.path(),
                 Mjcf("<texture name=\"t\" type=\"2d\" builtin=\"checker\" width=\"70000\" "
                      "height=\"70000\"/><material name=\"mat\" texture=\"t\"/>",
                      "<geom type=\"sphere\" size=\".1\" material=\"mat\"/>"))},
  };
  // One replica for every case (a SECTION each would start a replica per case).
  for (const Case& c : cases) {
    {
      INFO("case: " << c.name);
      GoodJob good(heavy);
      CallResult call = heavy.Simulate(c.payload);
      INFO(call.status.error_code() << " " << call.status.error_message());
      CHECK(call.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
      CHECK(call.reason == ErrorReason::kSceneCrashed);
      CHECK(call.status.error_message().find("crashed the simulator") != std::string::npos);
      CHECK(call.status.error_message().find("SIGSEGV") != std::string::npos);
      CHECK(call.status.error_message().find("while compiling the scene") != std::string::npos);
      good.Check();
      CheckReplicaWhole(heavy);
      CHECK(heavy.Info().runner_restarts().at("crash") >= 1);
    }
  }
  // Face indices far past the vertices: MuJoCo 2.2.2 reads them out of bounds while compiling
  // and crashed here; the scene contract's mesh reader (libs/scene/mesh_reader.h) now refuses
  // the OBJ before MuJoCo opens it.
  const CallResult refused = heavy.Simulate(
      PackScene(obj_dir.path(),
                Mjcf("<mesh name=\"m\" file=\"bad.obj\"/>", "<geom type=\"mesh\" mesh=\"m\"/>"),
                {{"bad.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\nf 1 2 99999999\n"}}));
  INFO(refused.status.error_message());
  CHECK(refused.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(refused.reason == ErrorReason::kPayloadInvalid);
  CHECK(refused.status.error_message().find("'bad.obj' line 5: face index 99999999 names no vertex") !=
        std::string::npos);
  CheckReplicaWhole(heavy);
}

TEST_CASE("Compile-time memory bombs end JOB_MEMORY_LIMIT and the replica stays whole") {
  Heavy heavy({"--slots=2", "--job_memory_mb=768"});
  TempDir hfield_dir, composite_dir;
  struct Case {
    std::string name;
    Payload payload;
  };
  const std::vector<Case> cases = {
      // 20000 x 20000 floats: 1.6 GB at compile time.
      {"large hfield",
       PackScene(hfield_dir.path(),
                 Mjcf("<hfield name=\"h\" nrow=\"20000\" ncol=\"20000\" size=\"1 1 1 1\"/>"),
                 {}, "")},
      // A grid composite expands to 250,000 bodies at compile time (no <body> in the text).
      {"composite grid",
       PackScene(composite_dir.path(),
                 "<mujoco><worldbody><geom type=\"plane\" size=\"5 5 0.1\"/>"
                 "<composite type=\"grid\" count=\"500 500 1\" spacing=\"0.01\">"
                 "<geom size=\".004\"/></composite></worldbody></mujoco>")},
  };
  // One replica for every case (a SECTION each would start a replica per case).
  for (const Case& c : cases) {
    {
      INFO("case: " << c.name);
      GoodJob good(heavy);
      CallResult call = heavy.Simulate(c.payload);
      INFO(call.status.error_code() << " " << call.status.error_message());
      CHECK(call.status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
      CHECK(call.reason == ErrorReason::kJobMemoryLimit);
      CHECK(call.status.error_message().find("memory limit") != std::string::npos);
      good.Check();
      CheckReplicaWhole(heavy);
    }
  }
}

TEST_CASE("A scene that runs long passes the wall-clock limit: JOB_TIME_LIMIT") {
  Heavy heavy({"--slots=2", "--max_job_wall_s=2"});
  TempDir slow_dir;
  GoodJob good(heavy);
  CallResult call = heavy.Simulate(SlowScene(slow_dir.path()));
  INFO(call.status.error_message());
  CHECK(call.status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  CHECK(call.reason == ErrorReason::kJobTimeLimit);
  CHECK(call.status.error_message().find("wall-clock limit of 2s while simulating") !=
        std::string::npos);
  good.Check();
  CheckReplicaWhole(heavy);
  CHECK(heavy.Info().runner_restarts().at("wall_time") == 1);
}

TEST_CASE("A scene that burns CPU passes the CPU-time limit: JOB_TIME_LIMIT") {
  Heavy heavy({"--slots=2", "--max_job_cpu_s=1"});
  TempDir slow_dir;
  CallResult call = heavy.Simulate(SlowScene(slow_dir.path()));
  INFO(call.status.error_message());
  CHECK(call.status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  CHECK(call.reason == ErrorReason::kJobTimeLimit);
  CHECK(call.status.error_message().find("CPU-time limit") != std::string::npos);
  CheckReplicaWhole(heavy);
  // The next job on the replaced runner gets its own allowance.
  CHECK(heavy.Simulate(PackExample("ramp_goal")).status.ok());
}

TEST_CASE("A deeply nested manifest or a huge number is PAYLOAD_INVALID, not a crash") {
  Heavy heavy({"--slots=1"});
  TempDir deep_dir, huge_dir;
  const std::string deep = StrCat(R"({"version": 1, "scene": "scene.xml", "x": )",
                                  std::string(100000, '['), std::string(100000, ']'), "}");
  const std::string scene = Mjcf("");
  struct Case {
    std::string name;
    Payload payload;
  };
  const std::vector<Case> cases = {
      {"100000-deep JSON", PackFiles(deep_dir.path(), {{"manifest.json", deep}, {"scene.xml", scene}})},
      {"1e999", PackFiles(huge_dir.path(),
                          {{"manifest.json",
                            R"({"version": 1, "scene": "scene.xml", "simulation": {"duration_s": 1e999}})"},
                           {"scene.xml", scene}})},
  };
  // One replica for every case (a SECTION each would start a replica per case).
  for (const Case& c : cases) {
    {
      INFO("case: " << c.name);
      CallResult call = heavy.Simulate(c.payload);
      INFO(call.status.error_code() << " " << call.status.error_message());
      CHECK(call.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
      CHECK(call.reason == ErrorReason::kPayloadInvalid);
      CHECK(call.status.error_message().find("manifest.json") != std::string::npos);
      CheckReplicaWhole(heavy);
    }
  }
}

TEST_CASE("A payload limit is PAYLOAD_LIMIT, never REPLICA_FULL") {
  Heavy heavy({"--slots=1", "--max_entries=3", "--max_njmax=100"});
  TempDir entries_dir, njmax_dir;
  CallResult entries = heavy.Simulate(
      PackFiles(entries_dir.path(), {{"manifest.json", "{}"}, {"a", "1"}, {"b", "2"}, {"c", "3"}}));
  INFO(entries.status.error_message());
  CHECK(entries.status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(entries.reason == ErrorReason::kPayloadLimit);
  CallResult njmax = heavy.Simulate(PackScene(njmax_dir.path(),
                                              "<mujoco><size njmax=\"8000\"/><worldbody/></mujoco>"));
  INFO(njmax.status.error_message());
  CHECK(njmax.status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(njmax.reason == ErrorReason::kPayloadLimit);
  CHECK(njmax.status.error_message().find("njmax") != std::string::npos);
}

}  // namespace
}  // namespace workerpair::heavy::testing
