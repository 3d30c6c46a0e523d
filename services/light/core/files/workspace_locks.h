// WorkspaceLocks: the one locking story of a workspace. Everything that changes a workspace, or
// reads its working tree for git, takes its locks here, in this order:
//
//   1. the workspace's tree lock,
//        shared     by single-file mutations: WriteFile, EditFile, publishing an upload,
//                   moving or deleting a file;
//        exclusive  by what touches many paths at once or reads the whole tree: moving or
//                   deleting a directory, every git call (init, status, diff, commit, log,
//                   branch, checkout, merge, conflict resolution, abort, complete, push), and
//                   deleting the workspace;
//   2. then the per-path locks of every path a shared holder touches, in sorted order
//      (a move locks both ends, an upload every destination).
//
// Nobody takes a tree lock while holding a path lock, and path locks are taken all at once in
// sorted order, so there is no deadlock. Consequences:
//   - a commit (exclusive) sees every file either before or after any write, never a missing
//     one, and never a temporary one (those live outside the tree, see staging_area.h);
//   - read-modify-write calls on one file (edit, write with an expected hash) never interleave;
//   - libgit2 never runs twice at once on one repository.
// Reads (read, list, stat, grep, lint, topology, bundle) take no lock: files are only ever
// replaced whole by a rename, so a reader sees the old or the new content. That holds for git
// too: checkout, merge, abort and conflict resolution write each file to the staging area and
// rename it into place (git_worktree.h), never rewrite it in place. Git calls that only read
// the working tree (status, diff, commit's staging) hold the tree lock exclusively like the
// others, so they see a checkout or merge before or after, never during.
//
// Entries are reference-counted and removed when the last holder or waiter leaves, so the tables
// hold only the workspaces and paths with a call in progress. An exclusive taker waits only for
// the holders already in: new shared takers queue behind it (no starvation of git calls).
//
//   WorkspaceLocks locks;
//   {
//     WorkspaceLocks::Guard guard = locks.Shared("agent-7", {"/srv/ws/agent-7/scene.xml"});
//     ... write scene.xml ...
//   }
//   WorkspaceLocks::Guard git = locks.Exclusive("agent-7");
#ifndef WORKERPAIR_SERVICES_LIGHT_CORE_FILES_WORKSPACE_LOCKS_H_
#define WORKERPAIR_SERVICES_LIGHT_CORE_FILES_WORKSPACE_LOCKS_H_

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace workerpair::light {

class WorkspaceLocks {
  struct Entry;

 public:
  WorkspaceLocks() = default;
  WorkspaceLocks(const WorkspaceLocks&) = delete;
  WorkspaceLocks& operator=(const WorkspaceLocks&) = delete;
  ~WorkspaceLocks();

  // Holds a tree lock (and path locks) until destroyed or Release()d. Movable.
  class Guard {
   public:
    Guard() = default;
    Guard(Guard&& other) noexcept { *this = std::move(other); }
    Guard& operator=(Guard&& other) noexcept;
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    ~Guard() { Release(); }
    void Release();

   private:
    friend class WorkspaceLocks;
    WorkspaceLocks* owner_ = nullptr;
    Entry* entry_ = nullptr;
    std::string workspace_;
    bool exclusive_ = false;
    std::vector<std::string> paths_;  // sorted, locked
  };

  // Shared tree lock of `workspace`, then the locks of `paths` (any order, duplicates allowed;
  // taken sorted). Blocks while an exclusive holder is in.
  Guard Shared(std::string_view workspace, std::vector<std::string> paths);

  // Exclusive tree lock of `workspace`. Blocks until every other holder has left.
  Guard Exclusive(std::string_view workspace);

  // Entries in the tables (workspaces, paths) now; for tests of the pruning.
  std::size_t workspace_entries() const;
  std::size_t path_entries() const;

 private:
  struct PathEntry {
    std::mutex mutex;
    std::size_t refs = 0;
  };
  struct Entry {
    // Turnstile in front of `tree`: an exclusive taker holds it while waiting, so a stream of
    // shared holders (glibc's rwlock prefers readers) cannot starve a commit.
    std::mutex gate;
    std::shared_mutex tree;
    std::size_t refs = 0;
    std::map<std::string, std::unique_ptr<PathEntry>, std::less<>> paths;
  };

  Entry* Acquire(std::string_view workspace);
  void Unref(const std::string& workspace);

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Entry>, std::less<>> entries_;
};

}  // namespace workerpair::light

#endif  // WORKERPAIR_SERVICES_LIGHT_CORE_FILES_WORKSPACE_LOCKS_H_
