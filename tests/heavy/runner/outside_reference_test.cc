// Scenes that point MuJoCo at files outside their payload, in every way MJCF names a file and
// with XML a naive scanner misreads. Whatever the XML says, a runner's sandbox lets it read
// only its own directory: the job fails with SANDBOX_DENIED (or the reference scan's early
// error), the message is the same whether the outside file exists or not, and the canary's
// content never shows up in anything the caller receives.
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

// Replaces every occurrence of `from` in `text` by `to`.
std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

struct Variant {
  std::string name;
  // MJCF with PATH where the outside file goes (absolute) and DIR for its directory.
  std::string mjcf;
};

const char kBox[] =
    "<geom type=\"plane\" size=\"5 5 0.1\"/><body name=\"b\" pos=\"0 0 1\"><freejoint/>"
    "<geom type=\"box\" size=\".1 .1 .1\"/></body>";

std::vector<Variant> Variants() {
  const std::string box = kBox;
  return {
      {"include", "<mujoco><include file=\"PATH\"/><worldbody>" + box + "</worldbody></mujoco>"},
      {"mesh", "<mujoco><asset><mesh name=\"m\" file=\"PATH\"/></asset><worldbody>" + box +
                   "<geom type=\"mesh\" mesh=\"m\"/></worldbody></mujoco>"},
      {"texture", "<mujoco><asset><texture name=\"t\" type=\"2d\" file=\"PATH\"/>"
                  "<material name=\"mt\" texture=\"t\"/></asset><worldbody>" + box +
                      "<geom type=\"sphere\" size=\".1\" material=\"mt\"/></worldbody></mujoco>"},
      {"hfield", "<mujoco><asset><hfield name=\"h\" file=\"PATH\" size=\"1 1 1 1\"/></asset>"
                 "<worldbody>" + box + "<geom type=\"hfield\" hfield=\"h\"/></worldbody></mujoco>"},
      {"skin", "<mujoco><worldbody>" + box + "</worldbody><deformable><skin file=\"PATH\"/>"
               "</deformable></mujoco>"},
      {"meshdir", "<mujoco><compiler meshdir=\"DIR\"/><asset><mesh name=\"m\" file=\"NAME\"/>"
                  "</asset><worldbody>" + box + "<geom type=\"mesh\" mesh=\"m\"/></worldbody></mujoco>"},
      {"texturedir", "<mujoco><compiler texturedir=\"DIR\"/><asset><texture name=\"t\" "
                     "type=\"2d\" file=\"NAME\"/><material name=\"mt\" texture=\"t\"/></asset>"
                     "<worldbody>" + box +
                         "<geom type=\"sphere\" size=\".1\" material=\"mt\"/></worldbody></mujoco>"},
      {"assetdir", "<mujoco><compiler assetdir=\"DIR\"/><asset><mesh name=\"m\" file=\"NAME\"/>"
                   "</asset><worldbody>" + box + "<geom type=\"mesh\" mesh=\"m\"/></worldbody></mujoco>"},
      // A form feed is whitespace to MuJoCo's XML parser but not to a scanner that knows
      // only space, tab and newlines: the scanner never sees the attribute.
      {"form feed before the attribute",
       "<mujoco><asset><mesh\fname=\"m\"\ffile=\"PATH\"/></asset><worldbody>" + box +
           "<geom type=\"mesh\" mesh=\"m\"/></worldbody></mujoco>"},
      {"form feed before include", "<mujoco><include\ffile=\"PATH\"/><worldbody>" + box +
                                       "</worldbody></mujoco>"},
      // A comment and CDATA section a scanner may take for markup, and a relative climb.
      {"comment and CDATA", "<mujoco><!-- <mesh file=\"x\"/> --><asset><![CDATA[ > ]]>"
                            "<mesh name=\"m\" file=\"PATH\"/></asset><worldbody>" + box +
                                "<geom type=\"mesh\" mesh=\"m\"/></worldbody></mujoco>"},
      {"climbing relative path", "<mujoco><asset><mesh name=\"m\" file=\"../../../../../../../../../..PATH\"/>"
                                 "</asset><worldbody>" + box +
                                     "<geom type=\"mesh\" mesh=\"m\"/></worldbody></mujoco>"},
      {"single quotes and spaces", "<mujoco><asset><mesh name='m' file = 'PATH' /></asset>"
                                   "<worldbody>" + box +
                                       "<geom type='mesh' mesh='m'/></worldbody></mujoco>"},
  };
}

TEST_CASE("A scene cannot read a file outside its payload, however its MJCF names it") {
  Heavy heavy({"--slots=3"});
  // The canary: a file outside the scratch directory whose content must never come back.
  const std::string secret = "CANARY-7f3c9a1e-do-not-leak";
  const fs::path outside = heavy.temp() / "outside";
  fs::create_directories(outside);
  const std::vector<std::string> names = {"canary.obj", "canary.png", "canary.xml", "canary.skn",
                                          "canary.bin"};
  for (const std::string& name : names) {
    std::ofstream(outside / name) << "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n# " << secret << "\n";
  }
  std::ofstream(outside / "canary.xml") << "<mujoco><!-- " << secret << " --></mujoco>";

  // Each variant as written, and with every file attribute hidden from a scanner that knows
  // only space, tab and newlines as whitespace (a form feed before it): then nothing but the
  // sandbox stands between MuJoCo and the file.
  std::vector<Variant> variants = Variants();
  for (const Variant& plain : Variants()) {
    Variant hidden{plain.name + ", hidden from the scan", plain.mjcf};
    for (const std::string attribute : {"file", "meshdir", "texturedir", "assetdir"}) {
      hidden.mjcf = ReplaceAll(hidden.mjcf, " " + attribute + "=", "\f" + attribute + "=");
    }
    if (hidden.mjcf != plain.mjcf) variants.push_back(hidden);
  }
  // One replica for every variant (a SECTION per variant would start a replica each time):
  // each variant's two scenes and a good job run at once, one slot each.
  for (const Variant& variant : variants) {
    INFO("variant: " << variant.name);
    // The same scene twice: once naming the canary, once a file that does not exist.
    std::vector<std::future<CallResult>> pending;
    std::vector<TempDir> dirs(2);
    int index = 0;
    for (const std::string& file : {std::string("canary.obj"), std::string("absent.obj")}) {
      const std::string name =
          variant.name.rfind("include", 0) == 0 || variant.name.rfind("form feed before include", 0) == 0
              ? ReplaceAll(file, ".obj", ".xml")
              : file;
      std::string mjcf = ReplaceAll(variant.mjcf, "PATH", (outside / name).string());
      mjcf = ReplaceAll(mjcf, "DIR", outside.string() + "/");
      mjcf = ReplaceAll(mjcf, "NAME", name);
      const Payload payload = PackScene(dirs[static_cast<std::size_t>(index++)].path(), mjcf);
      const bool render = variant.name.rfind("texture", 0) == 0;
      pending.push_back(std::async(std::launch::async, [&heavy, payload, render] {
        return render ? heavy.RenderViews(payload) : heavy.Simulate(payload);
      }));
    }
    std::future<CallResult> good = std::async(std::launch::async, [&heavy] {
      return heavy.Simulate(PackExample("ramp_goal"));
    });
    std::vector<CallResult> calls;
    for (std::future<CallResult>& call : pending) calls.push_back(call.get());
    CallResult good_call = good.get();
    INFO("good job: " << good_call.status.error_message());
    CHECK(good_call.status.ok());
    for (const CallResult& call : calls) {
      INFO(call.status.error_code() << " " << call.status.error_message());
      CHECK_FALSE(call.status.ok());
      CHECK((call.reason == ErrorReason::kSandboxDenied ||
             call.reason == ErrorReason::kPayloadInvalid));
      CHECK(call.AllText().find(secret) == std::string::npos);
      CHECK(call.status.error_message().find(heavy.scratch().string()) == std::string::npos);
    }
    // Existing and missing files look the same (the file's own name aside).
    const std::string existing = ReplaceAll(calls[0].status.error_message(), "canary", "X");
    const std::string missing = ReplaceAll(calls[1].status.error_message(), "absent", "X");
    CHECK(existing == missing);
    CHECK(calls[0].status.error_code() == calls[1].status.error_code());
    CHECK(heavy.Serving());
  }
}

}  // namespace
}  // namespace workerpair::heavy::testing

namespace workerpair::heavy::testing {
namespace {

TEST_CASE("A scene cannot read the system's own files either (a host image on a box)") {
  Heavy heavy({"--slots=1"});
  // Libraries under /usr are readable to a runner only while it starts; its jobs see nothing
  // of them. A texture hidden from the reference scan, naming a PNG that exists on the host
  // and one that does not: the same refusal, and no image comes back.
  std::vector<CallResult> calls;
  for (const std::string path : {"/usr/share/gitweb/static/git-logo.png",
                                 "/usr/share/gitweb/static/git-absent.png"}) {
    TempDir dir;
    const std::string mjcf = StrCat(
        "<mujoco><asset><texture name=\"t\" type=\"2d\"\ffile=\"", path,
        "\"/><material name=\"mt\" texture=\"t\"/></asset><worldbody>", kBox,
        "<geom type=\"sphere\" size=\".1\" material=\"mt\"/></worldbody></mujoco>");
    calls.push_back(heavy.RenderViews(PackScene(dir.path(), mjcf)));
  }
  // MuJoCo's PNG loader says only "failed to open file for reading", without the name: that
  // stays a payload error, and it is the same for both files.
  for (const CallResult& call : calls) {
    INFO(call.status.error_code() << " " << call.status.error_message());
    CHECK_FALSE(call.status.ok());
    CHECK((call.reason == ErrorReason::kSandboxDenied ||
           call.reason == ErrorReason::kPayloadInvalid));
    CHECK(call.streamed.find("PNG") == std::string::npos);
  }
  CHECK(calls[0].status.error_code() == calls[1].status.error_code());
  CHECK(calls[0].status.error_message() == calls[1].status.error_message());
}

}  // namespace
}  // namespace workerpair::heavy::testing
