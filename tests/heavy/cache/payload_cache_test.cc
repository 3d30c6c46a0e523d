// The payload cache (heavy.proto "Payload cache") and the runners' compiled scenes, observed
// through Info's counters on a real worker-heavy: a repeated payload is not sent again (no
// chunk arrives) nor compiled again; only exactly the same digest and size hit; the cache is
// bounded by bytes; a replica or runner that lost what it kept asks for the bytes again.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>

#include "libs/common/sha256.h"
#include "libs/common/str_cat.h"
#include "tests/heavy/runner/heavy_test_client.h"
#include "tests/rpc/exposition_check.h"
#include "tests/support/http_get.h"

namespace workerpair::heavy::testing {
namespace {

using workerpair::testing::CheckExposition;
using workerpair::testing::HttpGet;
using workerpair::testing::PromtoolCheckMetrics;

constexpr std::size_t kChunk = 64 << 10;

// How one call that asked the cache went.
struct AskResult {
  bool answered = false;  // the first event was payload_cache
  bool cached = false;
  bool first_was_answer = false;
  grpc::Status status;
  int results = 0;     // result events
  std::string result;  // the last result event's result, serialised
};

// One call of `Stub::*method` that sets PayloadInfo.ask_cached (or not), sends the chunks
// only when the replica does not hold the payload (or always, with `send_anyway`), and reads
// to the end. `declared` overrides the header's digest and size.
template <typename Request, typename Response, typename Start, typename FillHeader>
AskResult Ask(Start start, FillHeader fill, const Payload& payload, bool ask = true,
              bool send_anyway = false, std::string digest = {}, std::uint64_t size = 0) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  auto stream = start(&context);
  Request header;
  auto* info = fill(header.mutable_header());
  info->set_size_bytes(size > 0 ? size : payload.archive.size());
  info->set_sha256(digest.empty() ? payload.sha256 : digest);
  info->set_ask_cached(ask);
  AskResult result;
  REQUIRE(stream->Write(header));
  Response event;
  bool send = true;
  if (ask) {
    if (stream->Read(&event)) {
      result.first_was_answer = event.has_payload_cache();
      result.answered = event.has_payload_cache();
      result.cached = event.payload_cache().cached();
      send = !result.cached || send_anyway;
      if (event.has_result()) ++result.results;
    }
  }
  if (send) {
    for (std::size_t offset = 0; offset < payload.archive.size(); offset += kChunk) {
      Request chunk;
      chunk.set_chunk(payload.archive.substr(offset, kChunk));
      if (!stream->Write(chunk)) break;
    }
  }
  stream->WritesDone();
  while (stream->Read(&event)) {
    if (event.has_payload_cache()) result.answered = true;
    if (event.has_result()) {
      ++result.results;
      result.result = event.result().SerializeAsString();
    }
  }
  result.status = stream->Finish();
  return result;
}

AskResult AskSimulate(Heavy& heavy, const Payload& payload, bool ask = true,
                      bool send_anyway = false, std::string digest = {},
                      std::uint64_t size = 0) {
  return Ask<v1::SimulateRequest, v1::SimulateResponse>(
      [&](grpc::ClientContext* context) { return heavy.stub()->Simulate(context); },
      [](v1::SimulateHeader* header) {
        *header->mutable_options() = Heavy::NoRender();
        return header->mutable_payload();
      },
      payload, ask, send_anyway, std::move(digest), size);
}

AskResult AskRenderViews(Heavy& heavy, const Payload& payload) {
  return Ask<v1::RenderViewsRequest, v1::RenderViewsResponse>(
      [&](grpc::ClientContext* context) { return heavy.stub()->RenderViews(context); },
      [](v1::RenderViewsHeader* header) {
        header->mutable_options()->set_azimuth_count(2);
        header->mutable_options()->add_elevations_deg(-30);
        header->mutable_options()->set_width(160);
        header->mutable_options()->set_height(120);
        return header->mutable_payload();
      },
      payload);
}

AskResult AskVerify(Heavy& heavy, const Payload& payload, std::uint32_t runs) {
  return Ask<v1::VerifyRequest, v1::VerifyResponse>(
      [&](grpc::ClientContext* context) { return heavy.stub()->Verify(context); },
      [runs](v1::VerifyHeader* header) {
        header->set_runs(runs);
        header->set_duration_s(0.2);
        return header->mutable_payload();
      },
      payload);
}

// A valid small scene whose archive is about `bytes` long (an incompressible extra file).
Payload SceneOfSize(const std::filesystem::path& dir, std::size_t bytes, unsigned seed) {
  std::mt19937 random(seed);
  std::string noise(bytes, '\0');
  for (char& c : noise) c = static_cast<char>(random() & 0xff);
  return PackScene(dir,
                   "<mujoco><worldbody><geom type=\"plane\" size=\"1 1 0.1\"/>"
                   "<body name=\"box\" pos=\"0 0 0.2\"><freejoint/><geom type=\"box\" "
                   "size=\".05 .05 .05\"/></body></worldbody></mujoco>",
                   {{"noise.bin", noise}});
}

std::string OtherDigest(const std::string& sha256) {
  std::string other = sha256;
  other[10] = other[10] == '0' ? '1' : '0';
  return other;
}

TEST_CASE("build, simulate and render views of one payload: sent once, compiled once") {
  Heavy heavy({"--slots=2"});
  REQUIRE(Eventually([&] { return heavy.Info().runners_alive() == 2; }));
  const Payload payload = PackExample("ramp_goal");

  // BuildScene (unary: it always takes the chunks) puts the payload in the cache.
  const CallResult built = heavy.BuildScene(payload);
  REQUIRE(built.status.ok());
  const v1::InfoResponse after_build = heavy.Info();
  const std::uint64_t chunks = after_build.payload_cache().chunks_received();
  CHECK(chunks >= 1);
  CHECK(after_build.payload_cache().entries() == 1);
  CHECK(after_build.scene_cache().compiles() == 1);

  const AskResult simulated = AskSimulate(heavy, payload);
  INFO(simulated.status.error_message());
  REQUIRE(simulated.status.ok());
  CHECK(simulated.first_was_answer);
  CHECK(simulated.cached);
  CHECK(simulated.results == 1);

  const AskResult rendered = AskRenderViews(heavy, payload);
  INFO(rendered.status.error_message());
  REQUIRE(rendered.status.ok());
  CHECK(rendered.cached);
  CHECK(rendered.results == 1);

  const v1::InfoResponse info = heavy.Info();
  CHECK(info.payload_cache().chunks_received() == chunks);  // nothing uploaded again
  CHECK(info.payload_cache().hits() == 2);
  CHECK(info.scene_cache().compiles() == 1);  // nothing compiled again
  CHECK(info.scene_cache().reuses() == 2);
  int holders = 0;
  for (const auto& runner : info.runners()) {
    for (const std::string& digest : runner.cached_scenes()) holders += digest == payload.sha256;
  }
  CHECK(holders == 1);
}

// What a run computed, without the wall time it took.
std::string RunFigures(v1::VerifyRun run) {
  run.mutable_metrics()->clear_wall_time_s();
  return run.SerializeAsString();
}

TEST_CASE("A verify compiles once per replica: the other runners load that compile, same runs") {
  Heavy heavy({"--slots=3"});
  Heavy separate({"--slots=3", "--shared_scene_cache_mb=0"});
  REQUIRE(Eventually([&] { return heavy.Info().runners_alive() == 3; }));
  REQUIRE(Eventually([&] { return separate.Info().runners_alive() == 3; }));
  const Payload payload = PackExample("ramp_goal");

  const AskResult first = AskVerify(heavy, payload, 6);
  INFO(first.status.error_message());
  REQUIRE(first.status.ok());
  CHECK(first.answered);
  CHECK_FALSE(first.cached);
  v1::VerifyResult shared_runs;
  REQUIRE(shared_runs.ParseFromString(first.result));
  REQUIRE(shared_runs.parallelism() == 3);  // three runners took a share
  v1::InfoResponse info = heavy.Info();
  CHECK(info.scene_cache().compiles() == 1);  // one of them compiled
  CHECK(info.scene_cache().shared_loads() == 2);  // the others loaded that compile
  CHECK(info.scene_cache().shared_entries() == 1);
  CHECK(info.scene_cache().shared_bytes() > 0);

  // The same verify where every runner compiles for itself computes the very same runs.
  const AskResult compiled = AskVerify(separate, payload, 6);
  INFO(compiled.status.error_message());
  REQUIRE(compiled.status.ok());
  v1::VerifyResult own_runs;
  REQUIRE(own_runs.ParseFromString(compiled.result));
  REQUIRE(own_runs.parallelism() == 3);
  CHECK(separate.Info().scene_cache().compiles() == 3);
  CHECK(separate.Info().scene_cache().shared_loads() == 0);
  REQUIRE(shared_runs.runs_size() == 6);
  REQUIRE(own_runs.runs_size() == 6);
  for (int i = 0; i < 6; ++i) {
    INFO("run " << i);
    CHECK(RunFigures(shared_runs.runs(i)) == RunFigures(own_runs.runs(i)));
  }
  CHECK(shared_runs.successes() == own_runs.successes());

  // Every runner holds the model now: a later verify compiles and loads nothing.
  const AskResult again = AskVerify(heavy, payload, 6);
  REQUIRE(again.status.ok());
  CHECK(again.cached);
  info = heavy.Info();
  CHECK(info.scene_cache().compiles() == 1);
  CHECK(info.scene_cache().shared_loads() == 2);
}

// The value of the sample line `name` (no labels) of a /metrics page; NaN when none.
double Sample(const std::string& page, const std::string& name) {
  const std::size_t at = page.find("\n" + name + " ");
  if (at == std::string::npos) return NAN;
  return std::strtod(page.c_str() + at + name.size() + 2, nullptr);
}

TEST_CASE("The caches' counters are in /metrics, and the page passes promtool check metrics") {
  Heavy heavy({"--slots=2", "--metrics_listen=127.0.0.1:0"});
  REQUIRE(Eventually([&] { return heavy.Info().runners_alive() == 2; }));
  const Payload payload = PackExample("ramp_goal");
  REQUIRE(AskSimulate(heavy, payload).status.ok());    // a miss: sent, compiled
  REQUIRE(AskVerify(heavy, payload, 4).status.ok());   // a hit: one runner holds it, one loads
  std::string page = HttpGet(heavy.process().metrics_port(), "/metrics");
  page = page.substr(std::min(page.size(), page.find("\r\n\r\n") + 4));
  const std::vector<std::string> problems = CheckExposition(page);
  for (const std::string& problem : problems) UNSCOPED_INFO(problem);
  CHECK(problems.empty());
  TempDir dir;
  INFO("promtool check metrics: -1 means promtool is missing (scripts/setup.sh installs prometheus)");
  CHECK(PromtoolCheckMetrics(page, (dir.path() / "metrics.txt").string()) == 0);

  const v1::InfoResponse info = heavy.Info();
  CHECK(Sample(page, "workerpair_heavy_payload_cache_hits_total") == 1);
  CHECK(Sample(page, "workerpair_heavy_payload_cache_misses_total") == 1);
  CHECK(Sample(page, "workerpair_heavy_payload_cache_entries") == 1);
  CHECK(Sample(page, "workerpair_heavy_payload_cache_bytes") ==
        static_cast<double>(info.payload_cache().bytes()));
  CHECK(Sample(page, "workerpair_heavy_payload_cache_capacity_bytes") == 256 << 20);
  CHECK(Sample(page, "workerpair_heavy_payload_chunks_received_total") ==
        static_cast<double>(info.payload_cache().chunks_received()));
  CHECK(Sample(page, "workerpair_heavy_scene_compiles_total") == 1);
  CHECK(Sample(page, "workerpair_heavy_scene_reuses_total") ==
        static_cast<double>(info.scene_cache().reuses()));
  CHECK(Sample(page, "workerpair_heavy_scene_shared_loads_total") ==
        static_cast<double>(info.scene_cache().shared_loads()));
  CHECK(Sample(page, "workerpair_heavy_scene_reuses_total") +
            Sample(page, "workerpair_heavy_scene_shared_loads_total") == 2);  // the verify's shares
  CHECK(Sample(page, "workerpair_heavy_shared_scenes") == 1);
  CHECK(Sample(page, "workerpair_heavy_shared_scene_bytes") > 0);
}

TEST_CASE("Only exactly the same digest and size hit") {
  Heavy heavy({"--slots=1"});
  TempDir dir;
  const Payload payload = SceneOfSize(dir.path(), 1000, 1);
  REQUIRE(AskSimulate(heavy, payload).status.ok());
  REQUIRE(heavy.Info().payload_cache().entries() == 1);

  SECTION("one hex digit off: not cached; the bytes sent under it fail their digest check") {
    const AskResult wrong = AskSimulate(heavy, payload, true, false, OtherDigest(payload.sha256));
    CHECK(wrong.answered);
    CHECK_FALSE(wrong.cached);
    CHECK(wrong.status.error_code() == grpc::StatusCode::DATA_LOSS);
  }
  SECTION("the digest in upper case is the same digest: cached") {
    std::string upper = payload.sha256;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const AskResult same = AskSimulate(heavy, payload, true, false, upper);
    CHECK(same.cached);
    CHECK(same.status.ok());
  }
  SECTION("the right digest with another size: not cached") {
    const AskResult sized =
        AskSimulate(heavy, payload, true, false, {}, payload.archive.size() + 1);
    CHECK(sized.answered);
    CHECK_FALSE(sized.cached);
    CHECK_FALSE(sized.status.ok());
  }
  SECTION("a client that does not ask gets no answer and uploads as before") {
    const std::uint64_t before = heavy.Info().payload_cache().chunks_received();
    const AskResult old = AskSimulate(heavy, payload, /*ask=*/false);
    CHECK(old.status.ok());
    CHECK_FALSE(old.answered);
    CHECK(heavy.Info().payload_cache().chunks_received() > before);
  }
  SECTION("a client that sends the chunks after 'cached' still gets its result") {
    const AskResult anyway = AskSimulate(heavy, payload, true, /*send_anyway=*/true);
    CHECK(anyway.cached);
    CHECK(anyway.status.ok());
    CHECK(anyway.results == 1);
  }
}

TEST_CASE("The payload cache is bounded by bytes and evicts the least recently used") {
  Heavy heavy({"--slots=1", "--payload_cache_mb=1"});
  TempDir a_dir, b_dir, c_dir;
  const Payload a = SceneOfSize(a_dir.path(), 400 << 10, 1);
  const Payload b = SceneOfSize(b_dir.path(), 400 << 10, 2);
  const Payload c = SceneOfSize(c_dir.path(), 400 << 10, 3);
  REQUIRE(AskSimulate(heavy, a).status.ok());
  REQUIRE(AskSimulate(heavy, b).status.ok());
  CHECK(heavy.Info().payload_cache().entries() == 2);
  CHECK(AskSimulate(heavy, a).cached);  // a is now the most recently used
  REQUIRE(AskSimulate(heavy, c).status.ok());  // 3 x 400 KiB > 1 MiB: b goes
  const v1::InfoResponse info = heavy.Info();
  CHECK(info.payload_cache().entries() == 2);
  CHECK(info.payload_cache().evictions() == 1);
  CHECK(info.payload_cache().bytes() <= info.payload_cache().capacity_bytes());
  CHECK(AskSimulate(heavy, a).cached);
  CHECK(AskSimulate(heavy, c).cached);
  const AskResult evicted = AskSimulate(heavy, b);
  CHECK_FALSE(evicted.cached);
  CHECK(evicted.status.ok());  // asked for the bytes, got them, ran
}

TEST_CASE("Stateless for correctness: a replica or runner that lost what it kept asks again") {
  SECTION("cache off: never cached, every call uploads and runs") {
    Heavy heavy({"--slots=1", "--payload_cache_mb=0"});
    const Payload payload = PackExample("ramp_goal");
    for (int i = 0; i < 2; ++i) {
      const AskResult call = AskSimulate(heavy, payload);
      CHECK(call.answered);
      CHECK_FALSE(call.cached);
      CHECK(call.status.ok());
    }
  }
  SECTION("a runner replaced between jobs (recycled): it loads the replica's compile, same result") {
    Heavy heavy({"--slots=1", "--runner_max_jobs=1"});
    REQUIRE(Eventually([&] { return heavy.Info().runners_alive() == 1; }));
    const Payload payload = PackExample("ramp_goal");
    const AskResult first = AskSimulate(heavy, payload);
    REQUIRE(first.status.ok());
    REQUIRE(heavy.Info().scene_cache().compiles() == 1);
    REQUIRE(Eventually([&] { return heavy.Info().runners_alive() == 1; }));
    const AskResult again = AskSimulate(heavy, payload);
    INFO(again.status.error_message());
    REQUIRE(again.status.ok());
    const v1::InfoResponse info = heavy.Info();
    CHECK(info.scene_cache().compiles() == 1);  // the new runner did not compile
    CHECK(info.scene_cache().shared_loads() == 1);
    v1::SimulateResult a, b;
    REQUIRE(a.ParseFromString(first.result));
    REQUIRE(b.ParseFromString(again.result));
    a.mutable_metrics()->clear_wall_time_s();
    b.mutable_metrics()->clear_wall_time_s();
    CHECK(a.SerializeAsString() == b.SerializeAsString());
  }
  SECTION("a runner replaced, nothing shared: the held bytes are placed, compiled again") {
    Heavy heavy({"--slots=1", "--runner_max_jobs=1", "--shared_scene_cache_mb=0"});
    REQUIRE(Eventually([&] { return heavy.Info().runners_alive() == 1; }));
    const Payload payload = PackExample("ramp_goal");
    REQUIRE(AskSimulate(heavy, payload).status.ok());
    REQUIRE(heavy.Info().scene_cache().compiles() == 1);
    REQUIRE(Eventually([&] { return heavy.Info().runners_alive() == 1; }));
    const AskResult again = AskSimulate(heavy, payload);
    INFO(again.status.error_message());
    CHECK(again.cached);  // the replica still holds the bytes
    CHECK(again.status.ok());
    const v1::InfoResponse info = heavy.Info();
    CHECK(info.scene_cache().compiles() == 2);  // the new runner compiled it
    CHECK(info.scene_cache().reuses() == 0);
  }
}

}  // namespace
}  // namespace workerpair::heavy::testing
