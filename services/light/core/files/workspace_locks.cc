#include "services/light/core/files/workspace_locks.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace workerpair::light {

WorkspaceLocks::~WorkspaceLocks() { assert(entries_.empty()); }

WorkspaceLocks::Entry* WorkspaceLocks::Acquire(std::string_view workspace) {
  std::lock_guard guard(mutex_);
  auto it = entries_.find(workspace);
  if (it == entries_.end()) {
    it = entries_.emplace(std::string(workspace), std::make_unique<Entry>()).first;
  }
  ++it->second->refs;
  return it->second.get();
}

void WorkspaceLocks::Unref(const std::string& workspace) {
  std::lock_guard guard(mutex_);
  auto it = entries_.find(workspace);
  if (it != entries_.end() && --it->second->refs == 0) entries_.erase(it);
}

WorkspaceLocks::Guard WorkspaceLocks::Shared(std::string_view workspace,
                                             std::vector<std::string> paths) {
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  Guard result;
  result.owner_ = this;
  result.workspace_ = std::string(workspace);
  result.entry_ = Acquire(workspace);
  {
    std::lock_guard gate(result.entry_->gate);
    result.entry_->tree.lock_shared();
  }
  // Reference every path entry first (under the table mutex), then lock them in sorted order.
  std::vector<PathEntry*> path_entries;
  {
    std::lock_guard guard(mutex_);
    for (const std::string& path : paths) {
      auto it = result.entry_->paths.find(path);
      if (it == result.entry_->paths.end()) {
        it = result.entry_->paths.emplace(path, std::make_unique<PathEntry>()).first;
      }
      ++it->second->refs;
      path_entries.push_back(it->second.get());
    }
  }
  for (PathEntry* entry : path_entries) entry->mutex.lock();
  result.paths_ = std::move(paths);
  return result;
}

WorkspaceLocks::Guard WorkspaceLocks::Exclusive(std::string_view workspace) {
  Guard result;
  result.owner_ = this;
  result.workspace_ = std::string(workspace);
  result.exclusive_ = true;
  result.entry_ = Acquire(workspace);
  std::lock_guard gate(result.entry_->gate);
  result.entry_->tree.lock();
  return result;
}

WorkspaceLocks::Guard& WorkspaceLocks::Guard::operator=(Guard&& other) noexcept {
  if (this != &other) {
    Release();
    owner_ = std::exchange(other.owner_, nullptr);
    entry_ = std::exchange(other.entry_, nullptr);
    workspace_ = std::move(other.workspace_);
    exclusive_ = other.exclusive_;
    paths_ = std::move(other.paths_);
  }
  return *this;
}

void WorkspaceLocks::Guard::Release() {
  if (owner_ == nullptr) return;
  {
    std::lock_guard guard(owner_->mutex_);
    for (const std::string& path : paths_) {
      auto it = entry_->paths.find(path);
      it->second->mutex.unlock();
      if (--it->second->refs == 0) entry_->paths.erase(it);
    }
  }
  paths_.clear();
  if (exclusive_) {
    entry_->tree.unlock();
  } else {
    entry_->tree.unlock_shared();
  }
  owner_->Unref(workspace_);
  owner_ = nullptr;
  entry_ = nullptr;
}

std::size_t WorkspaceLocks::workspace_entries() const {
  std::lock_guard guard(mutex_);
  return entries_.size();
}

std::size_t WorkspaceLocks::path_entries() const {
  std::lock_guard guard(mutex_);
  std::size_t total = 0;
  for (const auto& [name, entry] : entries_) total += entry->paths.size();
  return total;
}

}  // namespace workerpair::light
