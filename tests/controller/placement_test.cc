// Workspace placement by rendezvous hashing: stable, order-free, balanced, minimal movement.
#include "services/controller/core/placement.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <string>

using namespace workerpair::controller;

namespace {

std::vector<LightTarget> Pods(int n) {
  auto pods = StatefulSetTargets("worker-light", n, "worker-light.ns.svc:50051");
  REQUIRE(pods.ok());
  return *pods;
}

std::string Name(int i) { return "agent-" + std::to_string(i); }

}  // namespace

TEST_CASE("Placement weights are SHA-256 based and stable across versions", "[placement]") {
  // Pinned: a change here would move every workspace of every deployment.
  CHECK(PlacementWeight("worker-light-0", "agent-7") == 9601058322584156873ull);
  CHECK(PlacementWeight("a:1", "x") == 14487224857651425810ull);
}

TEST_CASE("Every caller agrees whatever the order of its pods", "[placement]") {
  std::vector<LightTarget> pods = Pods(5);
  std::vector<LightTarget> shuffled = pods;
  std::mt19937 random(7);
  for (int i = 0; i < 200; ++i) {
    std::shuffle(shuffled.begin(), shuffled.end(), random);
    const std::string name = Name(i);
    CHECK(shuffled[PlaceWorkspace(name, shuffled)].name == pods[PlaceWorkspace(name, pods)].name);
  }
}

TEST_CASE("Workspaces spread over the pods", "[placement]") {
  const std::vector<LightTarget> pods = Pods(4);
  std::map<std::size_t, int> counts;
  for (int i = 0; i < 2000; ++i) ++counts[PlaceWorkspace(Name(i), pods)];
  REQUIRE(counts.size() == 4);
  for (const auto& [pod, count] : counts) CHECK((count > 350 && count < 650));
}

TEST_CASE("Adding a pod moves only workspaces onto it, removing one moves only its own",
          "[placement]") {
  const std::vector<LightTarget> three = Pods(3);
  const std::vector<LightTarget> four = Pods(4);
  int moved = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string before = three[PlaceWorkspace(Name(i), three)].name;
    const std::string after = four[PlaceWorkspace(Name(i), four)].name;
    if (before != after) {
      CHECK(after == "worker-light-3");
      ++moved;
    }
  }
  CHECK((moved > 150 && moved < 350));  // about a quarter
}

TEST_CASE("Pod lists parse from --light and from a StatefulSet", "[placement]") {
  auto listed = ParseLightTargets("a:1, b:2 ,c:3");
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 3);
  CHECK((*listed)[1].name == "b:2");
  CHECK((*listed)[1].address == "b:2");
  CHECK(absl::IsInvalidArgument(ParseLightTargets("a:1,,b:2").status()));
  CHECK(absl::IsInvalidArgument(ParseLightTargets("a:1,a:1").status()));
  CHECK(absl::IsInvalidArgument(ParseLightTargets("").status()));

  const std::vector<LightTarget> pods = Pods(3);
  CHECK(pods[2].name == "worker-light-2");
  CHECK(pods[2].address == "worker-light-2.worker-light.ns.svc:50051");
  CHECK(absl::IsInvalidArgument(StatefulSetTargets("", 3, "s:1").status()));
  CHECK(absl::IsInvalidArgument(StatefulSetTargets("w", 0, "s:1").status()));
  CHECK(absl::IsInvalidArgument(StatefulSetTargets("w", 3, "no-port").status()));
}
