// light_checkout_bench: a checkout that switches N files, before and after checkouts went
// through the staging area, side by side in one run on the same disk.
//
//   before  what GitCore::Checkout did until then: libgit2's git_checkout_tree (SAFE) after the
//           same uncommitted-changes check, then HEAD; libgit2 removes each old file and
//           writes the new one in place, without fsync.
//   after   GitCore::Checkout now: each new file written to the staging area, fsynced once,
//           renamed into place, each directory fsynced once (git_worktree.h).
//
// Both switch the same two branches of one repository, alternately, so they read the same
// objects and write the same bytes.
//
//   build-g/benchmarks/light_checkout_bench [--files=200] [--kib=16] [--rounds=10]
#include <git2.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "benchmarks/bench_stats.h"
#include "services/light/core/git/git_core.h"
#include "tests/support/server_process.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using workerpair::light::GitCore;

namespace {

void WriteFiles(const fs::path& ws, int files, int kib, const std::string& version) {
  for (int i = 0; i < files; ++i) {
    const fs::path file = ws / ("d" + std::to_string(i % 8)) / ("f" + std::to_string(i));
    fs::create_directories(file.parent_path());
    std::string content;
    while (content.size() < static_cast<std::size_t>(kib) * 1024) {
      content += version + " file " + std::to_string(i) + " line " +
                 std::to_string(content.size()) + "\n";
    }
    std::ofstream(file, std::ios::binary | std::ios::trunc) << content;
  }
}

// The previous GitCore::Checkout's work: status check, git_checkout_tree SAFE, set HEAD.
bool LibgitCheckout(const fs::path& ws, const std::string& branch) {
  git_repository* repo = nullptr;
  if (git_repository_open(&repo, ws.c_str()) < 0) return false;
  git_status_options status_options = GIT_STATUS_OPTIONS_INIT;
  status_options.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
  git_status_list* status = nullptr;
  bool ok = git_status_list_new(&status, repo, &status_options) == 0 &&
            git_status_list_entrycount(status) == 0;
  git_status_list_free(status);
  git_object* target = nullptr;
  ok = ok && git_revparse_single(&target, repo, branch.c_str()) == 0;
  git_checkout_options options = GIT_CHECKOUT_OPTIONS_INIT;
  options.checkout_strategy = GIT_CHECKOUT_SAFE;
  ok = ok && git_checkout_tree(repo, target, &options) == 0 &&
       git_repository_set_head(repo, ("refs/heads/" + branch).c_str()) == 0;
  git_object_free(target);
  git_repository_free(repo);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  int files = 200, kib = 16, rounds = 10;
  for (int i = 1; i < argc; ++i) {
    if (std::sscanf(argv[i], "--files=%d", &files) == 1) continue;
    if (std::sscanf(argv[i], "--kib=%d", &kib) == 1) continue;
    if (std::sscanf(argv[i], "--rounds=%d", &rounds) == 1) continue;
    std::fprintf(stderr, "usage: light_checkout_bench [--files=N] [--kib=K] [--rounds=R]\n");
    return 2;
  }
  workerpair::TempDir dir;
  fs::create_directories(dir.path() / "ws");
  fs::create_directories(dir.path() / ".staging");
  const workerpair::light::Workspace ws{"ws", fs::canonical(dir.path() / "ws"),
                                        fs::canonical(dir.path() / ".staging"), nullptr};
  GitCore git(workerpair::light::GitOptions{});
  const workerpair::light::GitAuthor author{"Bench", "bench@example.org"};
  if (!git.Init(ws, "a").ok()) return 1;
  WriteFiles(ws.root, files, kib, "a");
  if (!git.Commit(ws, {author, "a", {}}).ok() || !git.CreateBranch(ws, "b", "").ok() ||
      !git.Checkout(ws, "b").ok()) {
    return 1;
  }
  WriteFiles(ws.root, files, kib, "b");
  if (!git.Commit(ws, {author, "b", {}}).ok()) return 1;

  std::printf("checkout switching %d files of %d KiB (%d directories), %d checkouts per row, "
              "repository in %s\n\n",
              files, kib, std::min(files, 8), rounds, fs::temp_directory_path().c_str());
  std::printf("| checkout | files | p50 (ms) | max (ms) | per file (us) |\n|---|---|---|---|---|\n");
  for (const bool after : {false, true}) {
    std::vector<double> ms;
    for (int round = 0; round < rounds; ++round) {
      const std::string branch = round % 2 == 0 ? "a" : "b";
      const auto start = Clock::now();
      const bool ok = after ? git.Checkout(ws, branch).ok() : LibgitCheckout(ws.root, branch);
      if (!ok) {
        std::fprintf(stderr, "checkout of %s failed\n", branch.c_str());
        return 1;
      }
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
    // Leave b checked out for the next row, whatever `rounds` is.
    if (!git.Checkout(ws, "b").ok()) return 1;
    const double p50 = workerpair::bench::Median(ms);
    const double slowest = workerpair::bench::Percentile(ms, 1.0);
    std::printf("| %s | %d | %.1f | %.1f | %.0f |\n",
                after ? "after: staging + rename, fsynced" : "before: libgit2 in place",
                files, p50, slowest, p50 * 1000.0 / files);
    std::fflush(stdout);
  }
  return 0;
}
