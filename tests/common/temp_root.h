// A canonical temporary root with a sibling "outside" directory holding a secret file, for
// tests that check nothing escapes the root.
#ifndef WORKERPAIR_TESTS_COMMON_TEMP_ROOT_H_
#define WORKERPAIR_TESTS_COMMON_TEMP_ROOT_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

struct TempRoot {
  TempRoot() {
    std::string pattern = (std::filesystem::temp_directory_path() / "wp-test-XXXXXX").string();
    base = std::filesystem::canonical(::mkdtemp(pattern.data()));
    root = base / "root";
    outside = base / "outside";
    std::filesystem::create_directories(root);
    std::filesystem::create_directories(outside);
    std::ofstream(outside / "secret.txt") << "secret";
  }
  ~TempRoot() {
    std::error_code ec;
    std::filesystem::remove_all(base, ec);
  }
  std::filesystem::path base, root, outside;
};

#endif  // WORKERPAIR_TESTS_COMMON_TEMP_ROOT_H_
