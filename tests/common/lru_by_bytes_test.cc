#include "libs/common/lru_by_bytes.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace workerpair {
namespace {

using Keys = std::vector<std::string>;

TEST_CASE("LruByBytes drops the least recently used beyond its byte bound") {
  LruByBytes<std::string> lru(/*max_bytes=*/10);
  lru.Insert("a", "aaaa", 4);
  lru.Insert("b", "bbbb", 4);
  REQUIRE(lru.Find("a") != nullptr);  // a is now the most recently used
  lru.Insert("c", "cccc", 4);         // 12 > 10: b goes, not a
  CHECK(lru.Keys() == Keys{"c", "a"});
  CHECK(lru.bytes() == 8);
  CHECK(lru.evictions() == 1);
  CHECK(lru.insertions() == 3);
  CHECK(lru.Find("b") == nullptr);
}

TEST_CASE("LruByBytes drops the least recently used beyond its entry bound") {
  LruByBytes<int> lru(/*max_bytes=*/1000, /*max_entries=*/2);
  lru.Insert("a", 1, 1);
  lru.Insert("b", 2, 1);
  lru.Insert("c", 3, 1);
  CHECK(lru.Keys() == Keys{"c", "b"});
  CHECK(lru.size() == 2);
}

TEST_CASE("LruByBytes replaces a key, refuses a value over the bound, and Peek keeps the order") {
  LruByBytes<std::string> lru(/*max_bytes=*/10);
  lru.Insert("a", "old", 3);
  lru.Insert("b", "b", 1);
  REQUIRE(lru.Insert("a", "new", 5) != nullptr);
  CHECK(*lru.Find("a") == "new");
  CHECK(lru.bytes() == 6);
  REQUIRE(lru.Peek("b") != nullptr);
  CHECK(lru.Keys() == Keys{"a", "b"});  // Peek did not move b
  CHECK(lru.Insert("a", "huge", 11) == nullptr);
  CHECK_FALSE(lru.Contains("a"));  // the old value is gone too
  CHECK(lru.bytes() == 1);
  CHECK(lru.Erase("b"));
  CHECK_FALSE(lru.Erase("b"));
  CHECK(lru.bytes() == 0);
}

TEST_CASE("LruByBytes with a zero bound keeps nothing") {
  LruByBytes<int> by_bytes(0);
  LruByBytes<int> by_entries(100, 0);
  CHECK_FALSE(by_bytes.enabled());
  CHECK(by_bytes.Insert("a", 1, 0) == nullptr);
  CHECK(by_entries.Insert("a", 1, 1) == nullptr);
  CHECK(by_entries.size() == 0);
}

}  // namespace
}  // namespace workerpair
