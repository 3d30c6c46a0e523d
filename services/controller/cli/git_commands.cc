// `controller git ...`: git in a worker-light workspace (init, status, diff, commit, log,
// branch, checkout, merge, resolve, abort-merge, complete-merge, push).
#include <iostream>

#include "absl/time/time.h"
#include "libs/common/str_cat.h"
#include "services/controller/cli/commands.h"

namespace workerpair::controller::cli {
namespace {

// The same author the end-to-end flow commits as, so a workspace's history reads the same
// whichever way the controller touched it.
constexpr char kDefaultAuthor[] = "workerpair controller <controller@workerpair.invalid>";

constexpr char kGitUsage[] =
    "git takes: init | status | diff | commit | log | branch | checkout | merge | resolve | "
    "abort-merge | complete-merge | push, then WS";

// "Name <email>" -> GitAuthor; INVALID_ARGUMENT when the shape is wrong.
absl::StatusOr<v1::GitAuthor> ParseAuthor(const std::string& text) {
  const std::size_t open = text.find('<');
  const std::size_t close = text.rfind('>');
  if (open == std::string::npos || close == std::string::npos || close < open + 2 ||
      close + 1 != text.size()) {
    return absl::InvalidArgumentError(
        StrCat("--author takes \"Name <email>\", not '", text, "'"));
  }
  std::string name = text.substr(0, open);
  while (!name.empty() && name.back() == ' ') name.pop_back();
  if (name.empty()) return absl::InvalidArgumentError("--author has no name before <email>");
  v1::GitAuthor author;
  author.set_name(name);
  author.set_email(text.substr(open + 1, close - open - 1));
  return author;
}

const char* ChangeName(v1::GitChangeKind kind) {
  switch (kind) {
    case v1::GIT_CHANGE_KIND_ADDED: return "added";
    case v1::GIT_CHANGE_KIND_MODIFIED: return "modified";
    case v1::GIT_CHANGE_KIND_DELETED: return "deleted";
    case v1::GIT_CHANGE_KIND_RENAMED: return "renamed";
    case v1::GIT_CHANGE_KIND_TYPE_CHANGED: return "type changed";
    case v1::GIT_CHANGE_KIND_UNTRACKED: return "untracked";
    default: return "";
  }
}

std::string Short(const std::string& hash) { return hash.substr(0, 10); }

int GitInit(CliContext& context, const CommandArgs& parsed) {
  v1::GitInitRequest request;
  request.set_workspace(parsed[1]);
  request.set_initial_branch(parsed.String("branch"));
  auto done = context.light(request.workspace())
          .Call(context.light(request.workspace()).git(), &v1::LightGitService::Stub::GitInit, request);
  if (!done.ok()) return context.Fail(done.status());
  if (context.json()) {
    PrintJson(ProtoToJsonValue(*done));
  } else {
    std::cout << (done->created() ? "initialised a git repository in "
                                  : "already a git repository: ")
              << parsed[1] << "\n";
  }
  return kExitOk;
}

int GitStatus(CliContext& context, const CommandArgs& parsed) {
  v1::GitStatusRequest request;
  request.set_workspace(parsed[1]);
  auto status =
      context.light(request.workspace())
          .Call(context.light(request.workspace()).git(), &v1::LightGitService::Stub::GitStatus, request);
  if (!status.ok()) return context.Fail(status.status());
  if (context.json()) {
    PrintJson(ProtoToJsonValue(*status));
    return kExitOk;
  }
  std::cout << "on branch " << (status->branch().empty() ? "(detached)" : status->branch());
  if (status->unborn()) {
    std::cout << ", no commit yet";
  } else {
    std::cout << " at " << Short(status->head());
  }
  if (status->merging()) std::cout << ", merging";
  std::cout << (status->dirty() ? "" : ", clean") << "\n";
  for (const v1::GitFileChange& change : status->changes()) {
    std::string kinds = ChangeName(change.staged());
    if (change.staged() != v1::GIT_CHANGE_KIND_UNSPECIFIED) kinds += " (staged)";
    if (change.unstaged() != v1::GIT_CHANGE_KIND_UNSPECIFIED) {
      if (!kinds.empty()) kinds += ", ";
      kinds += ChangeName(change.unstaged());
    }
    std::cout << "  " << change.path() << ": " << kinds << "\n";
  }
  for (const std::string& path : status->conflicts()) std::cout << "  " << path << ": CONFLICT\n";
  return kExitOk;
}

int GitDiff(CliContext& context, const CommandArgs& parsed) {
  auto context_lines = parsed.OptionalUint("context");
  if (!context_lines.ok()) return context.Usage(context_lines.status());
  v1::GitDiffRequest request;
  request.set_workspace(parsed[1]);
  request.set_from(parsed.String("from"));
  request.set_to(parsed.String("to"));
  for (std::size_t i = 2; i < parsed.size(); ++i) request.add_paths(parsed[i]);
  if (*context_lines) request.set_context_lines(static_cast<std::uint32_t>(**context_lines));
  auto diff = context.light(request.workspace())
          .Call(context.light(request.workspace()).git(), &v1::LightGitService::Stub::GitDiff, request);
  if (!diff.ok()) return context.Fail(diff.status());
  if (context.json()) {
    PrintJson(ProtoToJsonValue(*diff));
    return kExitOk;
  }
  if (parsed.Bool("stat")) {
    for (const v1::GitFileDiff& file : diff->files()) {
      std::cout << "  " << file.path();
      if (file.kind() == v1::GIT_CHANGE_KIND_RENAMED) std::cout << " (from " << file.old_path() << ")";
      if (file.binary()) {
        std::cout << "  binary, " << ChangeName(file.kind()) << "\n";
      } else {
        std::cout << "  +" << file.added_lines() << " -" << file.removed_lines() << "\n";
      }
    }
    std::cout << diff->files_size() << " file(s), +" << diff->added_lines() << " -"
              << diff->removed_lines() << "\n";
  } else {
    std::cout << diff->patch();
  }
  if (diff->truncated()) std::cerr << "(patch truncated at the server's limit)\n";
  return kExitOk;
}

int GitCommit(CliContext& context, const CommandArgs& parsed) {
  auto author = ParseAuthor(parsed.String("author", kDefaultAuthor));
  if (!author.ok()) return context.Usage(author.status());
  v1::GitCommitRequest request;
  request.set_workspace(parsed[1]);
  *request.mutable_author() = *author;
  request.set_message(parsed.String("message"));
  for (std::size_t i = 2; i < parsed.size(); ++i) request.add_paths(parsed[i]);
  auto commit =
      context.light(request.workspace())
          .Call(context.light(request.workspace()).git(), &v1::LightGitService::Stub::GitCommit, request);
  if (!commit.ok()) return context.Fail(commit.status());
  if (context.json()) {
    PrintJson(ProtoToJsonValue(*commit));
  } else {
    std::cout << "committed " << Short(commit->hash()) << " on " << commit->branch()
              << (commit->merge() ? " (merge)" : "") << "\n";
  }
  return kExitOk;
}

int GitLog(CliContext& context, const CommandArgs& parsed) {
  auto limit = parsed.Uint("limit", 0);
  if (!limit.ok()) return context.Usage(limit.status());
  v1::GitLogRequest request;
  request.set_workspace(parsed[1]);
  request.set_from(parsed.String("from"));
  request.set_limit(static_cast<std::uint32_t>(*limit));
  auto log = context.light(request.workspace())
          .Call(context.light(request.workspace()).git(), &v1::LightGitService::Stub::GitLog, request);
  if (!log.ok()) return context.Fail(log.status());
  for (const v1::GitLogEntry& entry : log->entries()) {
    if (context.json()) {
      PrintJson(ProtoToJsonValue(entry));
      continue;
    }
    const std::string when =
        absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixSeconds(entry.time_unix_seconds()),
                         absl::FixedTimeZone(entry.time_offset_minutes() * 60));
    std::cout << Short(entry.hash()) << "  " << when << "  " << entry.author().name() << "  "
              << entry.summary() << "\n";
  }
  return kExitOk;
}

int GitBranch(CliContext& context, const CommandArgs& parsed) {
  if (parsed.size() != 3) return context.Usage("git branch takes WS NAME [--start=REV]");
  v1::GitCreateBranchRequest request;
  request.set_workspace(parsed[1]);
  request.set_branch(parsed[2]);
  request.set_start(parsed.String("start"));
  auto made =
      context.light(request.workspace())
          .Call(context.light(request.workspace()).git(), &v1::LightGitService::Stub::GitCreateBranch, request);
  if (!made.ok()) return context.Fail(made.status());
  if (context.json()) {
    nlohmann::json out = ProtoToJsonValue(*made);
    out["branch"] = parsed[2];
    PrintJson(out);
  } else {
    std::cout << "created branch " << parsed[2] << " at " << Short(made->hash()) << "\n";
  }
  return kExitOk;
}

int GitCheckout(CliContext& context, const CommandArgs& parsed) {
  if (parsed.size() != 3) return context.Usage("git checkout takes WS BRANCH");
  v1::GitCheckoutRequest request;
  request.set_workspace(parsed[1]);
  request.set_branch(parsed[2]);
  auto done =
      context.light(request.workspace())
          .Call(context.light(request.workspace()).git(), &v1::LightGitService::Stub::GitCheckout, request);
  if (!done.ok()) return context.Fail(done.status());
  if (context.json()) {
    nlohmann::json out = ProtoToJsonValue(*done);
    out["branch"] = parsed[2];
    PrintJson(out);
  } else {
    std::cout << "on branch " << parsed[2] << " at " << Short(done->hash()) << "\n";
  }
  return kExitOk;
}

int GitMerge(CliContext& context, const CommandArgs& parsed) {
  if (parsed.size() != 3) return context.Usage("git merge takes WS BRANCH");
  auto author = ParseAuthor(parsed.String("author", kDefaultAuthor));
  if (!author.ok()) return context.Usage(author.status());
  v1::GitMergeRequest request;
  request.set_workspace(parsed[1]);
  request.set_branch(parsed[2]);
  *request.mutable_author() = *author;
  request.set_message(parsed.String("message"));
  request.set_no_fast_forward(parsed.Bool("no_ff"));
  auto merged =
      context.light(request.workspace())
          .Call(context.light(request.workspace()).git(), &v1::LightGitService::Stub::GitMerge, request);
  if (!merged.ok()) return context.Fail(merged.status());
  const bool conflicted = merged->outcome() == v1::GIT_MERGE_OUTCOME_CONFLICTED;
  if (context.json()) {
    PrintJson(ProtoToJsonValue(*merged));
  } else {
    switch (merged->outcome()) {
      case v1::GIT_MERGE_OUTCOME_UP_TO_DATE: std::cout << "already up to date\n"; break;
      case v1::GIT_MERGE_OUTCOME_FAST_FORWARD:
        std::cout << "fast-forward to " << Short(merged->hash()) << "\n";
        break;
      case v1::GIT_MERGE_OUTCOME_MERGED:
        std::cout << "merged " << parsed[2] << " as " << Short(merged->hash()) << "\n";
        break;
      default:
        std::cout << "merge conflicts in:\n";
        for (const std::string& path : merged->conflicts()) std::cout << "  " << path << "\n";
        std::cout << "resolve each (git resolve), then git complete-merge, or git abort-merge\n";
    }
  }
  // Conflicts are a result, but a script must not carry on as if the merge were done.
  return conflicted ? kExitRejected : kExitOk;
}

int GitResolve(CliContext& context, const CommandArgs& parsed) {
  if (parsed.size() != 3) return context.Usage("git resolve takes WS PATH --side=SIDE");
  const std::string side = parsed.String("side");
  v1::GitResolveConflictRequest request;
  if (side == "ours") {
    request.set_side(v1::GIT_CONFLICT_SIDE_OURS);
  } else if (side == "theirs") {
    request.set_side(v1::GIT_CONFLICT_SIDE_THEIRS);
  } else if (side == "working_tree" || side == "working-tree") {
    request.set_side(v1::GIT_CONFLICT_SIDE_WORKING_TREE);
  } else {
    return context.Usage("--side takes ours, theirs or working_tree");
  }
  request.set_workspace(parsed[1]);
  request.set_path(parsed[2]);
  auto resolved = context.light(request.workspace())
          .Call(context.light(request.workspace()).git(), &v1::LightGitService::Stub::GitResolveConflict, request);
  if (!resolved.ok()) return context.Fail(resolved.status());
  if (context.json()) {
    PrintJson(ProtoToJsonValue(*resolved));
  } else if (resolved->remaining_conflicts().empty()) {
    std::cout << "resolved " << parsed[2] << "; no conflict left: run git complete-merge\n";
  } else {
    std::cout << "resolved " << parsed[2] << "; still conflicted:\n";
    for (const std::string& path : resolved->remaining_conflicts()) {
      std::cout << "  " << path << "\n";
    }
  }
  return kExitOk;
}

int GitAbortMerge(CliContext& context, const CommandArgs& parsed) {
  v1::GitAbortMergeRequest request;
  request.set_workspace(parsed[1]);
  auto aborted =
      context.light(request.workspace())
          .Call(context.light(request.workspace()).git(), &v1::LightGitService::Stub::GitAbortMerge, request);
  if (!aborted.ok()) return context.Fail(aborted.status());
  if (context.json()) {
    PrintJson(ProtoToJsonValue(*aborted));
  } else {
    std::cout << "merge aborted; back at " << Short(aborted->hash()) << "\n";
  }
  return kExitOk;
}

int GitCompleteMerge(CliContext& context, const CommandArgs& parsed) {
  auto author = ParseAuthor(parsed.String("author", kDefaultAuthor));
  if (!author.ok()) return context.Usage(author.status());
  v1::GitCompleteMergeRequest request;
  request.set_workspace(parsed[1]);
  *request.mutable_author() = *author;
  request.set_message(parsed.String("message"));
  auto done = context.light(request.workspace())
          .Call(context.light(request.workspace()).git(), &v1::LightGitService::Stub::GitCompleteMerge, request);
  if (!done.ok()) return context.Fail(done.status());
  if (context.json()) {
    PrintJson(ProtoToJsonValue(*done));
  } else {
    std::cout << "merge committed " << Short(done->hash()) << " on " << done->branch() << "\n";
  }
  return kExitOk;
}

int GitPush(CliContext& context, const CommandArgs& parsed) {
  if (parsed.size() != 4) return context.Usage("git push takes WS REMOTE URL");
  v1::GitPushRequest request;
  request.set_workspace(parsed[1]);
  request.set_remote(parsed[2]);
  request.set_url(parsed[3]);
  request.set_branch(parsed.String("branch"));
  request.set_force(parsed.Bool("force"));
  auto pushed = context.light(request.workspace())
          .Call(context.light(request.workspace()).git(), &v1::LightGitService::Stub::GitPush, request);
  if (!pushed.ok()) return context.Fail(pushed.status());
  if (context.json()) {
    PrintJson(ProtoToJsonValue(*pushed));
  } else {
    std::cout << "pushed " << pushed->ref() << " = " << Short(pushed->hash()) << " to "
              << parsed[2] << "\n";
  }
  return kExitOk;
}

}  // namespace

int RunGitCommand(CliContext& context, const Args& args) {
  struct Action {
    const char* name;
    std::vector<OptionSpec> options;
    int (*run)(CliContext&, const CommandArgs&);
    bool workspace_only;  // takes WS and nothing else
  };
  const OptionSpec author{"author", kTakesValue}, message{"message", kTakesValue};
  const Action actions[] = {
      {"init", {{"branch", kTakesValue}}, GitInit, true},
      {"status", {}, GitStatus, true},
      {"diff", {{"from", kTakesValue}, {"to", kTakesValue}, {"context", kTakesValue}, {"stat"}},
       GitDiff, false},
      {"commit", {message, author}, GitCommit, false},
      {"log", {{"from", kTakesValue}, {"limit", kTakesValue}}, GitLog, true},
      {"branch", {{"start", kTakesValue}}, GitBranch, false},
      {"checkout", {}, GitCheckout, false},
      {"merge", {message, author, {"no_ff"}}, GitMerge, false},
      {"resolve", {{"side", kTakesValue}}, GitResolve, false},
      {"abort-merge", {}, GitAbortMerge, true},
      {"complete-merge", {message, author}, GitCompleteMerge, true},
      {"push", {{"branch", kTakesValue}, {"force"}}, GitPush, false},
  };
  const std::string action_name = args.empty() ? "" : args[0];
  for (const Action& action : actions) {
    if (action_name != action.name) continue;
    auto parsed = CommandArgs::Parse(args, action.options);
    if (!parsed.ok()) return context.Usage(parsed.status());
    if (parsed->size() < 2 || (action.workspace_only && parsed->size() != 2)) {
      return context.Usage(StrCat("git ", action.name, " takes WS",
                                  action.workspace_only ? "" : " and more, see below"));
    }
    return action.run(context, *parsed);
  }
  return context.Usage(action_name.empty()
                           ? std::string(kGitUsage)
                           : StrCat("unknown git command '", action_name, "'; ", kGitUsage));
}

}  // namespace workerpair::controller::cli
