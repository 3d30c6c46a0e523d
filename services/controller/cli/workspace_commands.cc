// `controller ping` and `controller ws ...`: worker-light pods and the workspaces on them
// (create, list, delete, move, rebalance). With several pods (--light=A,B,C or
// --light_statefulset) each workspace lives on the pod placement picks (core/placement.h).
#include <iostream>
#include <map>

#include "libs/rpc/client_channel.h"
#include "libs/common/str_cat.h"
#include "services/controller/cli/commands.h"
#include "services/controller/workspace_move.h"

namespace workerpair::controller::cli {
namespace {

nlohmann::json PodNames(const LightPool& pool, const std::vector<std::size_t>& indices) {
  nlohmann::json names = nlohmann::json::array();
  for (std::size_t i : indices) names.push_back(pool.targets()[i].name);
  return names;
}

// One copy of a workspace: the pod's name and client.
struct Holder {
  std::string pod;
  LightClient* client;
};

void PrintMove(CliContext& context, const std::string& from, const std::string& to,
               const MoveReport& report) {
  if (context.json()) {
    PrintJson({{"workspace", report.workspace}, {"moved", true}, {"from", from}, {"to", to},
               {"files", report.files}, {"bytes", std::to_string(report.bytes)},  // uint64 as the
               {"history", report.history},                                  // mapping says
               {"head", report.head}, {"branches", report.branches}});
  } else {
    std::cout << "moved " << report.workspace << " from " << from << " to " << to << " ("
              << report.files << " files, " << report.bytes << " bytes"
              << (report.history ? StrCat(", ", report.branches, " branches, HEAD ",
                                          report.head.empty() ? "unborn" : report.head.substr(0, 10))
                                 : std::string(", no git history"))
              << ")\n";
  }
}

int WorkspaceList(CliContext& context) {
  LightPool& pool = context.light_pool();
  auto all = pool.ListWorkspaces();
  if (!all.ok()) return context.Fail(all.status());
  for (const PooledWorkspace& found : *all) {
    if (context.json()) {
      nlohmann::json line = {{"workspace", found.name}};
      if (pool.size() > 1) {
        line["pods"] = PodNames(pool, found.found_on);
        line["placedOn"] = pool.targets()[found.placed_on].name;
        line["misplaced"] = found.misplaced();
      }
      PrintJson(line);
    } else if (pool.size() == 1) {
      std::cout << found.name << "\n";
    } else {
      std::string where;
      for (std::size_t i : found.found_on) {
        where += StrCat(where.empty() ? "" : ",", pool.targets()[i].name);
      }
      std::cout << found.name << "\t" << where
                << (found.misplaced()
                        ? StrCat("\t(belongs on ", pool.targets()[found.placed_on].name,
                                 ": controller ws move ", found.name, ")")
                        : std::string())
                << "\n";
    }
  }
  return kExitOk;
}

int WorkspaceCreate(CliContext& context, const std::string& name) {
  // After a resize the workspace may still be on its old pod: never make an empty twin.
  if (absl::Status placed = context.light_pool().RefuseMisplaced(name); !placed.ok()) {
    return context.Fail(placed);
  }
  auto created = context.light(name).CreateWorkspace(name, /*exist_ok=*/true);
  if (!created.ok()) return context.Fail(created.status());
  if (context.json()) {
    PrintJson({{"workspace", name}, {"created", *created}});
  } else {
    std::cout << (*created ? "created " : "exists ") << name << "\n";
  }
  return kExitOk;
}

int WorkspaceDelete(CliContext& context, const std::string& name) {
  v1::DeleteWorkspaceRequest request;
  request.set_workspace(name);
  LightClient& light = context.light(name);
  auto deleted = light.Call(light.files(), &v1::LightFilesService::Stub::DeleteWorkspace, request);
  if (!deleted.ok()) return context.Fail(deleted.status());
  if (context.json()) {
    nlohmann::json out = ProtoToJsonValue(*deleted);  // removedEntries
    out["workspace"] = name;
    out["deleted"] = true;
    PrintJson(out);
  } else {
    std::cout << "deleted " << name << " (" << deleted->removed_entries() << " entries)\n";
  }
  return kExitOk;
}

// `ws move NAME`, or `ws rebalance` (every misplaced workspace). `draining` names pods that are
// leaving the pool (a shrink): searched for workspaces, never placed on.
int WorkspaceMove(CliContext& context, const std::string& only, const std::string& draining) {
  LightPool& pool = context.light_pool();
  std::unique_ptr<LightPool> leaving;
  if (!draining.empty()) {
    auto targets = ParseLightTargets(draining);
    if (!targets.ok()) return context.Usage(targets.status());
    auto made = LightPool::Create(*std::move(targets), [&](const std::string& address) {
      return MakeClientChannel(address, context.options().security);
    });
    if (!made.ok()) return context.Fail(made.status());
    leaving = *std::move(made);
  }
  // Every copy of every workspace, on the pool's pods and on the leaving ones.
  std::map<std::string, std::vector<Holder>> copies;
  for (LightPool* each : {&pool, leaving.get()}) {
    if (each == nullptr) continue;
    auto all = each->ListWorkspaces();
    if (!all.ok()) return context.Fail(all.status());
    for (const PooledWorkspace& found : *all) {
      for (std::size_t i : found.found_on) {
        copies[found.name].push_back({each->targets()[i].name, &each->At(i)});
      }
    }
  }
  if (!only.empty() && copies.count(only) == 0) {
    return context.Fail(absl::NotFoundError(
        StrCat("workspace '", only, "' is on none of the worker-light pods given")));
  }
  int moved = 0;
  for (const auto& [name, holders] : copies) {
    if (!only.empty() && name != only) continue;
    const LightTarget& placed = pool.targets()[pool.IndexFor(name)];
    if (holders.size() == 1 && holders[0].pod == placed.name) {
      if (!only.empty()) {
        if (context.json()) {
          PrintJson({{"workspace", name}, {"moved", false}, {"on", placed.name}});
        } else {
          std::cout << name << " already is on " << placed.name << "\n";
        }
      }
      continue;
    }
    if (holders.size() != 1) {
      std::string where;
      for (const Holder& holder : holders) where += StrCat(where.empty() ? "" : ", ", holder.pod);
      return context.Fail(absl::FailedPreconditionError(StrCat(
          "workspace '", name, "' is on several pods (", where, "); compare the copies, delete "
          "the ones to drop (controller --light=POD ws delete ", name, "), then move")));
    }
    context.progress().Line(StrCat("moving ", name, " from ", holders[0].pod, " to ", placed.name));
    absl::StatusOr<MoveReport> report =
        MoveWorkspace(*holders[0].client, pool.For(name), name);
    if (!report.ok()) {
      return context.Fail(absl::Status(
          report.status().code(),
          StrCat("moving '", name, "': ", std::string(report.status().message()))));
    }
    PrintMove(context, holders[0].pod, placed.name, *report);
    ++moved;
  }
  if (only.empty() && moved == 0 && !context.json()) {
    std::cout << "every workspace is on its pod\n";
  }
  return kExitOk;
}

}  // namespace

int RunPingCommand(CliContext& context, const Args& args) {
  if (!args.empty()) return context.Usage("ping takes no arguments");
  LightPool& pool = context.light_pool();
  for (std::size_t i = 0; i < pool.size(); ++i) {
    absl::Status status = pool.At(i).Ping();
    if (!status.ok()) {
      return context.Fail(absl::Status(
          status.code(), StrCat("worker-light ", pool.targets()[i].name, ": ", std::string(status.message()))));
    }
    if (context.json()) {
      PrintJson({{"ok", true}, {"light", pool.targets()[i].address}});
    } else {
      std::cout << "worker-light at " << pool.targets()[i].address << " answers\n";
    }
  }
  return kExitOk;
}

int RunWorkspaceCommand(CliContext& context, const Args& args) {
  auto parsed = CommandArgs::Parse(args, {{"draining", kTakesValue}});
  if (!parsed.ok()) return context.Usage(parsed.status());
  const std::string action = parsed->size() > 0 ? (*parsed)[0] : "";
  if (action == "list" && parsed->size() == 1) return WorkspaceList(context);
  if (action == "create" && parsed->size() == 2) return WorkspaceCreate(context, (*parsed)[1]);
  if (action == "delete" && parsed->size() == 2) return WorkspaceDelete(context, (*parsed)[1]);
  const std::string draining = parsed->String("draining");
  if (action == "move" && parsed->size() == 2) {
    return WorkspaceMove(context, (*parsed)[1], draining);
  }
  if (action == "rebalance" && parsed->size() == 1) return WorkspaceMove(context, "", draining);
  return context.Usage(
      "ws takes: create NAME | list | delete NAME | move NAME [--draining=PODS] | rebalance "
      "[--draining=PODS]");
}

}  // namespace workerpair::controller::cli
