// Small common utilities: SHA-256 and StrCat.
#include <catch2/catch.hpp>
#include <string>

#include "libs/common/sha256.h"
#include "libs/common/str_cat.h"

TEST_CASE("Sha256Hex matches known digests, whole and incremental", "[sha256]") {
  CHECK(workerpair::Sha256Hex("") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(workerpair::Sha256Hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  workerpair::Sha256Hasher hasher;
  hasher.Update("a");
  hasher.Update("bc");
  CHECK(hasher.FinishHex() == workerpair::Sha256Hex("abc"));
  CHECK(workerpair::IsSha256Hex(workerpair::Sha256Hex("x")));
  CHECK_FALSE(workerpair::IsSha256Hex("abc"));
}

TEST_CASE("StrCat joins views, literals, numbers and chars", "[str_cat]") {
  std::string_view view = "view";
  std::string owned = "owned";
  CHECK(workerpair::StrCat("a", view, owned, 42, '-', -7, 1.5, true) ==
        "aviewowned42--71.5true");
}

TEST_CASE("FixedDecimals prints exactly the given number of decimals", "[str_cat]") {
  CHECK(workerpair::FixedDecimals(2.0, 1) == "2.0");
  CHECK(workerpair::FixedDecimals(3.14159, 2) == "3.14");
  CHECK(workerpair::FixedDecimals(-0.125, 3) == "-0.125");
  // Longer than any fixed buffer the callers used to have.
  CHECK(workerpair::FixedDecimals(1e100, 1).size() == 103);
}
