#include "libs/common/path_confinement.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "tests/common/temp_root.h"

namespace fs = std::filesystem;
using workerpair::ConfineOptions;
using workerpair::ConfinePath;

TEST_CASE("ConfinePath resolves plain relative paths inside the root", "[confine]") {
  TempRoot tmp;
  auto path = ConfinePath(tmp.root, "a/b/c.txt");
  REQUIRE(path.ok());
  CHECK(*path == tmp.root / "a/b/c.txt");
  auto dotted = ConfinePath(tmp.root, "./a//b/../c.txt");
  REQUIRE(dotted.ok());
  CHECK(*dotted == tmp.root / "a/c.txt");
}

TEST_CASE("ConfinePath refuses absolute paths with PERMISSION_DENIED", "[confine]") {
  TempRoot tmp;
  auto path = ConfinePath(tmp.root, "/etc/passwd");
  CHECK(absl::IsPermissionDenied(path.status()));
  CHECK(std::string(path.status().message()).find("/etc/passwd") != std::string::npos);
}

TEST_CASE("ConfinePath refuses .. that climbs above the root", "[confine]") {
  TempRoot tmp;
  CHECK(absl::IsPermissionDenied(ConfinePath(tmp.root, "../x").status()));
  CHECK(absl::IsPermissionDenied(ConfinePath(tmp.root, "a/../../x").status()));
  CHECK(absl::IsPermissionDenied(ConfinePath(tmp.root, "..").status()));
}

TEST_CASE("ConfinePath refuses NUL bytes, over-long paths and empty paths", "[confine]") {
  TempRoot tmp;
  CHECK(absl::IsInvalidArgument(ConfinePath(tmp.root, std::string("a\0b", 3)).status()));
  CHECK(absl::IsInvalidArgument(ConfinePath(tmp.root, std::string(2000, 'a')).status()));
  CHECK(absl::IsInvalidArgument(ConfinePath(tmp.root, std::string(300, 'a') + "/b").status()));
  CHECK(absl::IsInvalidArgument(ConfinePath(tmp.root, "").status()));
  CHECK(absl::IsInvalidArgument(ConfinePath(tmp.root, "a/..").status()));
  ConfineOptions allow_root;
  allow_root.allow_root = true;
  auto root = ConfinePath(tmp.root, ".", allow_root);
  REQUIRE(root.ok());
  CHECK(*root == tmp.root);
}

TEST_CASE("ConfinePath refuses a symlink leading outside, at any depth", "[confine]") {
  TempRoot tmp;
  fs::create_directories(tmp.root / "dir");
  fs::create_directory_symlink(tmp.outside, tmp.root / "dir/out");
  fs::create_symlink(tmp.outside / "secret.txt", tmp.root / "leak.txt");
  auto through_dir = ConfinePath(tmp.root, "dir/out/secret.txt");
  CHECK(absl::IsPermissionDenied(through_dir.status()));
  CHECK(std::string(through_dir.status().message()).find("dir/out") != std::string::npos);
  CHECK(absl::IsPermissionDenied(ConfinePath(tmp.root, "leak.txt").status()));
  // Even a path that would create something new below the outward link is refused.
  CHECK(absl::IsPermissionDenied(ConfinePath(tmp.root, "dir/out/new/file").status()));
}

TEST_CASE("ConfinePath follows symlinks that stay inside, or keeps the link when asked",
          "[confine]") {
  TempRoot tmp;
  fs::create_directories(tmp.root / "real");
  std::ofstream(tmp.root / "real/f.txt") << "x";
  fs::create_directory_symlink(tmp.root / "real", tmp.root / "alias");
  auto followed = ConfinePath(tmp.root, "alias/f.txt");
  REQUIRE(followed.ok());
  CHECK(*followed == tmp.root / "real/f.txt");
  ConfineOptions no_follow;
  no_follow.follow_final_symlink = false;
  auto link = ConfinePath(tmp.root, "alias", no_follow);
  REQUIRE(link.ok());
  CHECK(*link == tmp.root / "alias");
}

TEST_CASE("IsWithin compares whole components", "[confine]") {
  CHECK(workerpair::IsWithin("/a/b", "/a/b/c"));
  CHECK(workerpair::IsWithin("/a/b", "/a/b"));
  CHECK_FALSE(workerpair::IsWithin("/a/b", "/a/bc"));
  CHECK_FALSE(workerpair::IsWithin("/a/b", "/a"));
}
