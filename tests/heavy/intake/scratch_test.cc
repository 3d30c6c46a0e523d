#include "services/heavy/core/intake/scratch.h"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <stdexcept>

#include "libs/common/bundle.h"
#include "services/heavy/core/intake/payload_intake.h"
#include "tests/heavy/intake/test_archives.h"

namespace workerpair::heavy::intake {
namespace {
namespace fs = std::filesystem;
using testing::ArchiveEntry;
using testing::MakeTarGz;

// A fresh directory removed at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "wp-intake-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void WriteFile(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << content;
}

int CountEntries(const fs::path& dir) {
  int n = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++n;
  return n;
}

TEST_CASE("A job scratch directory is removed when it goes out of scope") {
  TempDir temp;
  auto space = ScratchSpace::Open(temp.path() / "scratch");
  REQUIRE(space.ok());
  fs::path job_path;
  {
    auto dir = (*space)->CreateJobDir("job-1-abc");
    REQUIRE(dir.ok());
    job_path = dir->path();
    CHECK(fs::is_directory(dir->payload_dir()));
    CHECK(fs::is_directory(dir->out_dir()));
    WriteFile(dir->payload_dir() / "deep/nested/file.txt", "content");
    CHECK((*space)->CountJobDirs() == 1);
  }
  CHECK_FALSE(fs::exists(job_path));
  CHECK((*space)->CountJobDirs() == 0);
}

TEST_CASE("A job scratch directory is removed when the job throws") {
  TempDir temp;
  auto space = ScratchSpace::Open(temp.path() / "scratch");
  REQUIRE(space.ok());
  fs::path job_path;
  try {
    auto dir = (*space)->CreateJobDir("throws");
    REQUIRE(dir.ok());
    job_path = dir->path();
    WriteFile(dir->out_dir() / "video.mp4", "partial");
    throw std::runtime_error("job failed");
  } catch (const std::runtime_error&) {
  }
  CHECK_FALSE(job_path.empty());
  CHECK_FALSE(fs::exists(job_path));
}

TEST_CASE("Moving a scratch directory hands over ownership, Remove is idempotent") {
  TempDir temp;
  auto space = ScratchSpace::Open(temp.path() / "scratch");
  REQUIRE(space.ok());
  auto dir = (*space)->CreateJobDir("moved");
  REQUIRE(dir.ok());
  const fs::path job_path = dir->path();
  ScratchDir owner = std::move(*dir);
  CHECK(dir->path().empty());
  CHECK(fs::exists(job_path));
  CHECK(owner.Remove());
  CHECK(owner.Remove());
  CHECK_FALSE(fs::exists(job_path));
}

TEST_CASE("Job ids with path characters are refused, a repeated id is ALREADY_EXISTS") {
  TempDir temp;
  auto space = ScratchSpace::Open(temp.path() / "scratch");
  REQUIRE(space.ok());
  CHECK((*space)->CreateJobDir("../x").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK((*space)->CreateJobDir("a/b").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK((*space)->CreateJobDir("").status().code() == absl::StatusCode::kInvalidArgument);
  auto first = (*space)->CreateJobDir("same");
  REQUIRE(first.ok());
  CHECK((*space)->CreateJobDir("same").status().code() == absl::StatusCode::kAlreadyExists);
}

TEST_CASE("Closing the scratch space removes this instance's directory and lock") {
  TempDir temp;
  const fs::path base = temp.path() / "scratch";
  {
    auto space = ScratchSpace::Open(base);
    REQUIRE(space.ok());
    CHECK(fs::is_directory((*space)->instance_dir()));
    CHECK((fs::status(base).permissions() & fs::perms::others_all) == fs::perms::none);
  }
  CHECK(CountEntries(base) == 0);
}

TEST_CASE("Start-up sweep removes a crashed process's scratch and nothing else") {
  TempDir temp;
  const fs::path base = temp.path() / "scratch";
  const fs::path outside = temp.path() / "outside";
  WriteFile(outside / "precious.txt", "keep");

  // A child process opens the space, writes a job's files and dies without cleaning up.
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    auto space = ScratchSpace::Open(base);
    if (!space.ok()) ::_exit(3);
    auto dir = (*space)->CreateJobDir("crashed");
    if (!dir.ok()) ::_exit(4);
    std::ofstream(dir->payload_dir() / "scene.xml") << "<mujoco/>";
    ::_exit(0);  // no destructors: what a crash leaves
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(CountEntries(base) == 2);  // the dead instance's directory and lock

  // Things that are not ours (or not shaped like ours) stay.
  WriteFile(base / "unrelated/file.txt", "keep");
  WriteFile(base / "instance-notanumber-0123456789abcdef/file.txt", "keep");
  fs::create_directory_symlink(outside, base / "instance-1-0123456789abcdef");

  // A live instance (its lock held by this process) stays too.
  auto live = ScratchSpace::Open(base);
  REQUIRE(live.ok());
  auto live_job = (*live)->CreateJobDir("live");
  REQUIRE(live_job.ok());

  // Another process starting now sweeps: only the crashed instance goes.
  SweepReport report;
  auto restarted = ScratchSpace::Open(base, &report);
  REQUIRE(restarted.ok());
  CHECK(report.instances_removed == 0);  // the first Open above already swept the dead one
  CHECK(fs::exists(live_job->path()));
  CHECK(fs::exists(base / "unrelated/file.txt"));
  CHECK(fs::exists(base / "instance-notanumber-0123456789abcdef/file.txt"));
  CHECK(fs::is_symlink(base / "instance-1-0123456789abcdef"));
  CHECK(fs::exists(outside / "precious.txt"));
  // Left: unrelated, the odd name, the symlink, and two live instances (dir + lock each).
  CHECK(CountEntries(base) == 3 + 4);
}

TEST_CASE("Sweep reports the dead instance it removes") {
  TempDir temp;
  const fs::path base = temp.path() / "scratch";
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    auto space = ScratchSpace::Open(base);
    if (!space.ok()) ::_exit(3);
    auto dir = (*space)->CreateJobDir("crashed");
    ::_exit(dir.ok() ? 0 : 4);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WEXITSTATUS(status) == 0);
  auto report = SweepScratch(base);
  REQUIRE(report.ok());
  CHECK(report->instances_removed == 1);
  CHECK(report->locks_removed == 1);
  CHECK(CountEntries(base) == 0);
}

TEST_CASE("A scratch base that is a symlink is FAILED_PRECONDITION") {
  TempDir temp;
  fs::create_directory(temp.path() / "real");
  fs::create_directory_symlink(temp.path() / "real", temp.path() / "link");
  auto space = ScratchSpace::Open(temp.path() / "link");
  CHECK(space.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(ScratchSpace::Open("relative/path").status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("A payload unpacks into the job's payload directory") {
  TempDir temp;
  WriteFile(temp.path() / "src/manifest.json", "{}");
  WriteFile(temp.path() / "src/meshes/ball.stl", "solid ball\nendsolid ball\n");
  auto packed = PackDirectory(temp.path() / "src", {}, PackOptions{});
  REQUIRE(packed.ok());
  auto space = ScratchSpace::Open(temp.path() / "scratch");
  REQUIRE(space.ok());
  auto dir = (*space)->CreateJobDir("unpack");
  REQUIRE(dir.ok());
  auto report = UnpackPayload(packed->archive, *dir, IntakeLimits{});
  REQUIRE(report.ok());
  CHECK(report->files == 2);
  CHECK(fs::exists(dir->payload_dir() / "meshes/ball.stl"));
}

TEST_CASE("Hostile payloads are refused, write nothing outside, and leave no scratch") {
  TempDir temp;
  const fs::path base = temp.path() / "scratch";
  auto space = ScratchSpace::Open(base);
  REQUIRE(space.ok());
  IntakeLimits limits;
  limits.unpack.max_unpacked_bytes = 32 << 20;

  struct Case {
    const char* name;
    std::vector<ArchiveEntry> entries;
  };
  const std::vector<Case> cases = {
      {"dot-dot", {{.path = "../escape.txt", .content = "x"}}},
      {"absolute", {{.path = (temp.path() / "abs.txt").string(), .content = "x"}}},
      {"symlink out",
       {{.path = "link", .type = ArchiveEntry::Type::kSymlink,
         .link_target = temp.path().string()},
        {.path = "link/escape.txt", .content = "x"}}},
      {"hardlink out",
       {{.path = "hard", .type = ArchiveEntry::Type::kHardlink, .link_target = "/etc/passwd"}}},
      {"bomb", {{.path = "zeros.bin", .zero_bytes = 64ull << 20}}},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      const std::string archive = MakeTarGz(c.entries);
      fs::path job_path;
      {
        auto dir = (*space)->CreateJobDir("hostile");
        REQUIRE(dir.ok());
        job_path = dir->path();
        auto report = UnpackPayload(archive, *dir, limits);
        INFO(report.status().ToString());
        REQUIRE_FALSE(report.ok());
        CHECK((report.status().code() == absl::StatusCode::kPermissionDenied ||
               report.status().code() == absl::StatusCode::kResourceExhausted ||
               report.status().code() == absl::StatusCode::kInvalidArgument));
        CHECK(CountEntries(dir->payload_dir()) == 0);
      }
      CHECK_FALSE(fs::exists(job_path));
      CHECK_FALSE(fs::exists(temp.path() / "escape.txt"));
      CHECK_FALSE(fs::exists(temp.path() / "abs.txt"));
      CHECK(CountEntries(temp.path()) == 1);  // only the scratch base
    }
  }
}

TEST_CASE("A truncated gzip payload is INVALID_ARGUMENT") {
  TempDir temp;
  auto space = ScratchSpace::Open(temp.path() / "scratch");
  REQUIRE(space.ok());
  std::string archive = MakeTarGz({{.path = "a.txt", .content = std::string(100000, 'a')},
                                   {.path = "b.txt", .content = "b"}});
  archive.resize(archive.size() / 2);
  auto dir = (*space)->CreateJobDir("truncated");
  REQUIRE(dir.ok());
  auto report = UnpackPayload(archive, *dir, IntakeLimits{});
  CHECK(report.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(CountEntries(dir->payload_dir()) == 0);
}

}  // namespace
}  // namespace workerpair::heavy::intake
