#include "services/light/light_git_service.h"

#include <utility>

#include "libs/rpc/grpc_status.h"

namespace workerpair::light {
namespace {

v1::GitChangeKind ToProto(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kNone: return v1::GIT_CHANGE_KIND_UNSPECIFIED;
    case ChangeKind::kAdded: return v1::GIT_CHANGE_KIND_ADDED;
    case ChangeKind::kModified: return v1::GIT_CHANGE_KIND_MODIFIED;
    case ChangeKind::kDeleted: return v1::GIT_CHANGE_KIND_DELETED;
    case ChangeKind::kRenamed: return v1::GIT_CHANGE_KIND_RENAMED;
    case ChangeKind::kTypeChanged: return v1::GIT_CHANGE_KIND_TYPE_CHANGED;
    case ChangeKind::kUntracked: return v1::GIT_CHANGE_KIND_UNTRACKED;
  }
  return v1::GIT_CHANGE_KIND_UNSPECIFIED;
}

v1::GitMergeOutcome ToProto(MergeOutcome outcome) {
  switch (outcome) {
    case MergeOutcome::kUpToDate: return v1::GIT_MERGE_OUTCOME_UP_TO_DATE;
    case MergeOutcome::kFastForward: return v1::GIT_MERGE_OUTCOME_FAST_FORWARD;
    case MergeOutcome::kMerged: return v1::GIT_MERGE_OUTCOME_MERGED;
    case MergeOutcome::kConflicted: return v1::GIT_MERGE_OUTCOME_CONFLICTED;
  }
  return v1::GIT_MERGE_OUTCOME_UNSPECIFIED;
}

GitAuthor ToCore(const v1::GitAuthor& author) { return GitAuthor{author.name(), author.email()}; }

}  // namespace

absl::StatusOr<LightGitService::AdmittedCall> LightGitService::Admit(
    grpc::ServerContext* context, const std::string& workspace, std::string_view what) {
  absl::StatusOr<Workspace> ws = store_->Get(workspace);
  if (!ws.ok()) return ws.status();
  absl::StatusOr<ExpensiveCall> admitted = policy_->Admit(context, ws->name, what);
  if (!admitted.ok()) return admitted.status();
  return AdmittedCall{*std::move(ws), *std::move(admitted)};
}

grpc::Status LightGitService::GitInit(grpc::ServerContext* context, const v1::GitInitRequest* request,
                                      v1::GitInitResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(AdmittedCall call, Admit(context, request->workspace(), "GitInit"));
  WP_GRPC_ASSIGN_OR_RETURN(bool created, git_->Init(call.ws, request->initial_branch()));
  response->set_created(created);
  return grpc::Status::OK;
}

grpc::Status LightGitService::GitStatus(grpc::ServerContext* context, const v1::GitStatusRequest* request,
                                        v1::GitStatusResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(AdmittedCall call, Admit(context, request->workspace(), "GitStatus"));
  WP_GRPC_ASSIGN_OR_RETURN(light::GitStatus status, git_->Status(call.ws, call.budget()));
  response->set_branch(status.branch);
  response->set_head(status.head);
  response->set_unborn(status.unborn);
  response->set_dirty(status.dirty);
  response->set_merging(status.merging);
  for (const FileChange& change : status.changes) {
    v1::GitFileChange* out = response->add_changes();
    out->set_path(change.path);
    out->set_staged(ToProto(change.staged));
    out->set_unstaged(ToProto(change.unstaged));
  }
  for (std::string& path : status.conflicts) response->add_conflicts(std::move(path));
  return grpc::Status::OK;
}

grpc::Status LightGitService::GitDiff(grpc::ServerContext* context, const v1::GitDiffRequest* request,
                                      v1::GitDiffResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(AdmittedCall call, Admit(context, request->workspace(), "GitDiff"));
  DiffRequest diff{request->from(), request->to(),
                   std::vector<std::string>(request->paths().begin(), request->paths().end()),
                   request->has_context_lines() ? static_cast<int>(request->context_lines()) : -1,
                   call.budget()};
  WP_GRPC_ASSIGN_OR_RETURN(DiffResult result, git_->Diff(call.ws, diff));
  response->set_patch(std::move(result.patch));
  response->set_truncated(result.truncated);
  for (const FileDiff& file : result.files) {
    v1::GitFileDiff* out = response->add_files();
    out->set_path(file.path);
    out->set_old_path(file.old_path);
    out->set_kind(ToProto(file.kind));
    out->set_added_lines(file.added_lines);
    out->set_removed_lines(file.removed_lines);
    out->set_binary(file.binary);
  }
  response->set_added_lines(result.added_lines);
  response->set_removed_lines(result.removed_lines);
  return grpc::Status::OK;
}

grpc::Status LightGitService::GitCommit(grpc::ServerContext* context, const v1::GitCommitRequest* request,
                                        v1::GitCommitResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(AdmittedCall call, Admit(context, request->workspace(), "GitCommit"));
  CommitRequest commit{ToCore(request->author()), request->message(),
                       std::vector<std::string>(request->paths().begin(), request->paths().end()),
                       call.budget()};
  WP_GRPC_ASSIGN_OR_RETURN(CommitResult result, git_->Commit(call.ws, commit));
  response->set_hash(result.hash);
  response->set_branch(result.branch);
  response->set_merge(result.merge);
  return grpc::Status::OK;
}

grpc::Status LightGitService::GitLog(grpc::ServerContext* context, const v1::GitLogRequest* request,
                                     v1::GitLogResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(AdmittedCall call, Admit(context, request->workspace(), "GitLog"));
  WP_GRPC_ASSIGN_OR_RETURN(std::vector<LogEntry> entries,
                           git_->Log(call.ws,
                                     LogRequest{request->from(), request->limit(), call.budget()}));
  for (LogEntry& entry : entries) {
    v1::GitLogEntry* out = response->add_entries();
    out->set_hash(entry.hash);
    for (std::string& parent : entry.parents) out->add_parents(std::move(parent));
    out->mutable_author()->set_name(entry.author_name);
    out->mutable_author()->set_email(entry.author_email);
    out->set_time_unix_seconds(entry.time_unix_seconds);
    out->set_time_offset_minutes(entry.time_offset_minutes);
    out->set_message(std::move(entry.message));
    out->set_summary(std::move(entry.summary));
  }
  return grpc::Status::OK;
}

grpc::Status LightGitService::GitCreateBranch(grpc::ServerContext* context,
                                              const v1::GitCreateBranchRequest* request,
                                              v1::GitCreateBranchResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(AdmittedCall call,
                           Admit(context, request->workspace(), "GitCreateBranch"));
  WP_GRPC_ASSIGN_OR_RETURN(std::string hash,
                           git_->CreateBranch(call.ws, request->branch(), request->start()));
  response->set_hash(std::move(hash));
  return grpc::Status::OK;
}

grpc::Status LightGitService::GitCheckout(grpc::ServerContext* context,
                                          const v1::GitCheckoutRequest* request,
                                          v1::GitCheckoutResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(AdmittedCall call, Admit(context, request->workspace(), "GitCheckout"));
  WP_GRPC_ASSIGN_OR_RETURN(std::string hash,
                           git_->Checkout(call.ws, request->branch(), call.budget()));
  response->set_hash(std::move(hash));
  return grpc::Status::OK;
}

grpc::Status LightGitService::GitMerge(grpc::ServerContext* context, const v1::GitMergeRequest* request,
                                       v1::GitMergeResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(AdmittedCall call, Admit(context, request->workspace(), "GitMerge"));
  MergeRequest merge{request->branch(), ToCore(request->author()), request->message(),
                     request->no_fast_forward(), call.budget()};
  WP_GRPC_ASSIGN_OR_RETURN(MergeResult result, git_->Merge(call.ws, merge));
  response->set_outcome(ToProto(result.outcome));
  response->set_hash(result.hash);
  for (std::string& path : result.conflicts) response->add_conflicts(std::move(path));
  return grpc::Status::OK;
}

grpc::Status LightGitService::GitResolveConflict(grpc::ServerContext* context,
                                                 const v1::GitResolveConflictRequest* request,
                                                 v1::GitResolveConflictResponse* response) {
  ConflictSide side;
  switch (request->side()) {
    case v1::GIT_CONFLICT_SIDE_OURS: side = ConflictSide::kOurs; break;
    case v1::GIT_CONFLICT_SIDE_THEIRS: side = ConflictSide::kTheirs; break;
    case v1::GIT_CONFLICT_SIDE_WORKING_TREE: side = ConflictSide::kWorkingTree; break;
    default:
      return {grpc::StatusCode::INVALID_ARGUMENT, "side must be OURS, THEIRS or WORKING_TREE"};
  }
  WP_GRPC_ASSIGN_OR_RETURN(AdmittedCall call,
                           Admit(context, request->workspace(), "GitResolveConflict"));
  WP_GRPC_ASSIGN_OR_RETURN(std::vector<std::string> remaining,
                           git_->ResolveConflict(call.ws, request->path(), side));
  for (std::string& path : remaining) response->add_remaining_conflicts(std::move(path));
  return grpc::Status::OK;
}

grpc::Status LightGitService::GitAbortMerge(grpc::ServerContext* context,
                                            const v1::GitAbortMergeRequest* request,
                                            v1::GitAbortMergeResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(AdmittedCall call,
                           Admit(context, request->workspace(), "GitAbortMerge"));
  WP_GRPC_ASSIGN_OR_RETURN(std::string hash, git_->AbortMerge(call.ws, call.budget()));
  response->set_hash(std::move(hash));
  return grpc::Status::OK;
}

grpc::Status LightGitService::GitCompleteMerge(grpc::ServerContext* context,
                                               const v1::GitCompleteMergeRequest* request,
                                               v1::GitCompleteMergeResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(AdmittedCall call,
                           Admit(context, request->workspace(), "GitCompleteMerge"));
  WP_GRPC_ASSIGN_OR_RETURN(CommitResult result,
                           git_->CompleteMerge(call.ws, ToCore(request->author()),
                                               request->message(), call.budget()));
  response->set_hash(result.hash);
  response->set_branch(result.branch);
  return grpc::Status::OK;
}

grpc::Status LightGitService::GitPush(grpc::ServerContext* context, const v1::GitPushRequest* request,
                                      v1::GitPushResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(AdmittedCall call, Admit(context, request->workspace(), "GitPush"));
  PushRequest push{request->remote(), request->url(), request->branch(), request->force(),
                   call.budget()};
  WP_GRPC_ASSIGN_OR_RETURN(PushResult result, git_->Push(call.ws, push));
  response->set_ref(result.ref);
  response->set_hash(result.hash);
  return grpc::Status::OK;
}

grpc::Status LightGitService::GitExportHistory(grpc::ServerContext* context,
                                              const v1::GitExportHistoryRequest* request,
                                              v1::GitExportHistoryResponse* out) {
  WP_GRPC_ASSIGN_OR_RETURN(AdmittedCall call,
                           Admit(context, request->workspace(), "GitExportHistory"));
  WP_GRPC_ASSIGN_OR_RETURN(GitHistory history, git_->ExportHistory(call.ws));
  v1::GitHistory* response = out->mutable_history();
  response->set_pack(std::move(history.pack));
  for (auto& [name, hash] : history.branches) {
    v1::GitBranchRef* branch = response->add_branches();
    branch->set_name(std::move(name));
    branch->set_hash(std::move(hash));
  }
  response->set_head(std::move(history.head));
  return grpc::Status::OK;
}

grpc::Status LightGitService::GitImportHistory(grpc::ServerContext* context,
                                              const v1::GitImportHistoryRequest* request,
                                              v1::GitImportHistoryResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(AdmittedCall call,
                           Admit(context, request->workspace(), "GitImportHistory"));
  GitHistory history;
  history.pack = request->history().pack();
  for (const v1::GitBranchRef& branch : request->history().branches()) {
    history.branches.emplace_back(branch.name(), branch.hash());
  }
  history.head = request->history().head();
  WP_GRPC_ASSIGN_OR_RETURN(std::string head, git_->ImportHistory(call.ws, history));
  response->set_head(std::move(head));
  return grpc::Status::OK;
}

}  // namespace workerpair::light
