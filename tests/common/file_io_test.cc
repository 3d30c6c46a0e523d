#include "libs/common/file_io.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/common/temp_root.h"

namespace fs = std::filesystem;
using workerpair::AtomicWriteOptions;
using workerpair::ReadFileCapped;
using workerpair::WriteFileAtomically;

TEST_CASE("WriteFileAtomically creates parents and leaves no temporary file", "[file_io]") {
  TempRoot tmp;
  REQUIRE(WriteFileAtomically(tmp.root / "a/b/c.bin", std::string("x\0y", 3), {}, "a/b/c.bin")
              .ok());
  auto content = ReadFileCapped(tmp.root / "a/b/c.bin", "a/b/c.bin", 100);
  REQUIRE(content.ok());
  CHECK(*content == std::string("x\0y", 3));
  int entries = 0;
  for (auto& e : fs::directory_iterator(tmp.root / "a/b")) entries += e.is_regular_file();
  CHECK(entries == 1);
}

TEST_CASE("WriteFileAtomically without replace refuses an existing file and keeps it",
          "[file_io]") {
  TempRoot tmp;
  REQUIRE(WriteFileAtomically(tmp.root / "f", "old", {}, "f").ok());
  AtomicWriteOptions no_replace;
  no_replace.replace = false;
  auto status = WriteFileAtomically(tmp.root / "f", "new", no_replace, "f");
  CHECK(absl::IsAlreadyExists(status));
  CHECK(*ReadFileCapped(tmp.root / "f", "f", 100) == "old");
}

TEST_CASE("WriteFileAtomically refuses to replace a directory", "[file_io]") {
  TempRoot tmp;
  fs::create_directories(tmp.root / "d");
  CHECK(absl::IsFailedPrecondition(WriteFileAtomically(tmp.root / "d", "x", {}, "d")));
}

TEST_CASE("ReadFileCapped: missing, directory, symlink and over-cap files", "[file_io]") {
  TempRoot tmp;
  CHECK(absl::IsNotFound(ReadFileCapped(tmp.root / "nope", "nope", 10).status()));
  CHECK(absl::IsFailedPrecondition(ReadFileCapped(tmp.root, "dir", 10).status()));
  fs::create_symlink(tmp.outside / "secret.txt", tmp.root / "link");
  CHECK(absl::IsFailedPrecondition(ReadFileCapped(tmp.root / "link", "link", 100).status()));
  std::ofstream(tmp.root / "big") << std::string(100, 'x');
  auto big = ReadFileCapped(tmp.root / "big", "big", 99);
  CHECK(absl::IsResourceExhausted(big.status()));
  CHECK(std::string(big.status().message()).find("'big' is 100 bytes") != std::string::npos);
}

TEST_CASE("Concurrent atomic writers never leave a torn or mixed file", "[file_io]") {
  TempRoot tmp;
  const fs::path path = tmp.root / "shared.txt";
  std::vector<std::thread> writers;
  for (char c = 'a'; c < 'a' + 8; ++c) {
    writers.emplace_back([&, c] {
      for (int i = 0; i < 20; ++i) {
        REQUIRE(WriteFileAtomically(path, std::string(256 * 1024, c), {}, "shared.txt").ok());
      }
    });
  }
  for (int i = 0; i < 200; ++i) {
    auto content = ReadFileCapped(path, "shared.txt", 1 << 20);
    if (!content.ok()) continue;  // not written yet
    REQUIRE(content->size() == 256 * 1024);
    REQUIRE(content->find_first_not_of((*content)[0]) == std::string::npos);
  }
  for (auto& t : writers) t.join();
}
