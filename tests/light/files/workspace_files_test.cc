#include "services/light/core/files/workspace_files.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "libs/common/sha256.h"
#include "services/light/core/files/grep.h"
#include "services/light/core/files/upload_session.h"
#include "services/light/core/files/workspace_store.h"
#include "libs/common/utf8.h"
#include "tests/common/temp_root.h"

namespace fs = std::filesystem;
using namespace workerpair::light;

namespace {

struct Fixture {
  Fixture() {
    store = std::move(*WorkspaceStore::Open(tmp.root));
    REQUIRE(store->Create("ws", false).ok());
    ws = *store->Get("ws");
  }
  std::string Read(const std::string& path) {
    auto r = files.Read(ws, path, std::monostate{});
    REQUIRE(r.ok());
    return r->content;
  }
  TempRoot tmp;
  std::unique_ptr<WorkspaceStore> store;
  FileLimits limits;
  WorkspaceFiles files{limits};
  Workspace ws;
};

}  // namespace

TEST_CASE("Workspace names are validated and workspaces created, listed, deleted", "[store]") {
  TempRoot tmp;
  auto store = std::move(*WorkspaceStore::Open(tmp.root));
  CHECK(absl::IsInvalidArgument(store->Create("", false).status()));
  CHECK(absl::IsInvalidArgument(store->Create("../x", false).status()));
  CHECK(absl::IsInvalidArgument(store->Create(".hidden", false).status()));
  CHECK(absl::IsInvalidArgument(store->Create(std::string(65, 'a'), false).status()));
  CHECK(*store->Create("b-ws", false));
  CHECK(*store->Create("a_ws.1", false));
  CHECK(absl::IsAlreadyExists(store->Create("a_ws.1", false).status()));
  CHECK_FALSE(*store->Create("a_ws.1", true));
  CHECK(*store->List() == std::vector<std::string>{"a_ws.1", "b-ws"});
  CHECK(absl::IsNotFound(store->Get("zzz").status()));
  CHECK(*store->Delete("b-ws") >= 1);
  CHECK(absl::IsNotFound(store->Delete("b-ws").status()));
  CHECK(*store->List() == std::vector<std::string>{"a_ws.1"});
}

TEST_CASE("Write then read whole, byte range and line range", "[files]") {
  Fixture f;
  auto written = f.files.Write(f.ws, "dir/a.txt", "one\ntwo\nthree\n", {});
  REQUIRE(written.ok());
  CHECK(written->created);
  CHECK(written->sha256 == workerpair::Sha256Hex("one\ntwo\nthree\n"));
  CHECK(f.Read("dir/a.txt") == "one\ntwo\nthree\n");

  auto bytes = f.files.Read(f.ws, "dir/a.txt", ByteRange{4, 3});
  REQUIRE(bytes.ok());
  CHECK(bytes->content == "two");
  CHECK(bytes->file_size == 14);
  auto tail = f.files.Read(f.ws, "dir/a.txt", ByteRange{100, 0});
  REQUIRE(tail.ok());
  CHECK(tail->content.empty());

  auto lines = f.files.Read(f.ws, "dir/a.txt", LineRange{2, 2});
  REQUIRE(lines.ok());
  CHECK(lines->content == "two\nthree\n");
  CHECK(lines->total_lines == 3);
  CHECK(lines->sha256 == written->sha256);
  CHECK(absl::IsInvalidArgument(f.files.Read(f.ws, "dir/a.txt", LineRange{0, 1}).status()));
}

TEST_CASE("Reads are binary safe and capped", "[files]") {
  Fixture f;
  std::string binary("\0\xff\x01\n\0", 5);
  REQUIRE(f.files.Write(f.ws, "b.bin", binary, {}).ok());
  CHECK(f.Read("b.bin") == binary);

  FileLimits small;
  small.max_read_bytes = 10;
  WorkspaceFiles capped(small);
  REQUIRE(f.files.Write(f.ws, "big.txt", std::string(11, 'x'), {}).ok());
  auto whole = capped.Read(f.ws, "big.txt", std::monostate{});
  CHECK(absl::IsResourceExhausted(whole.status()));
  CHECK(std::string(whole.status().message()).find("big.txt") != std::string::npos);
  CHECK(absl::IsResourceExhausted(capped.Read(f.ws, "big.txt", ByteRange{0, 11}).status()));
  CHECK(capped.Read(f.ws, "big.txt", ByteRange{0, 10}).ok());
}

TEST_CASE("Write without overwrite keeps the existing file, expected sha256 guards", "[files]") {
  Fixture f;
  REQUIRE(f.files.Write(f.ws, "a.txt", "v1", {}).ok());
  CHECK(absl::IsAlreadyExists(f.files.Write(f.ws, "a.txt", "v2", {}).status()));
  CHECK(f.Read("a.txt") == "v1");

  WriteOptions stale{false, workerpair::Sha256Hex("something else")};
  CHECK(absl::IsFailedPrecondition(f.files.Write(f.ws, "a.txt", "v2", stale).status()));
  CHECK(f.Read("a.txt") == "v1");
  WriteOptions fresh{false, workerpair::Sha256Hex("v1")};
  REQUIRE(f.files.Write(f.ws, "a.txt", "v2", fresh).ok());
  CHECK(f.Read("a.txt") == "v2");
  WriteOptions bad_hash{true, "not-a-hash"};
  CHECK(absl::IsInvalidArgument(f.files.Write(f.ws, "a.txt", "v3", bad_hash).status()));
  CHECK(absl::IsFailedPrecondition(f.files.Write(f.ws, "new.txt", "x", fresh).status()));
}

TEST_CASE("Edits apply all or nothing and name the failing edit", "[files]") {
  Fixture f;
  REQUIRE(f.files.Write(f.ws, "s.py", "a = 1\nb = 1\nc = 2\n", {}).ok());
  auto ambiguous = f.files.Edit(f.ws, "s.py", {{"c = 2", "c = 3"}, {"= 1", "= 9"}}, "");
  CHECK(absl::IsFailedPrecondition(ambiguous.status()));
  CHECK(std::string(ambiguous.status().message()).find("edit 1") != std::string::npos);
  CHECK(std::string(ambiguous.status().message()).find("lines 1, 2") != std::string::npos);
  CHECK(f.Read("s.py") == "a = 1\nb = 1\nc = 2\n");

  auto missing = f.files.Edit(f.ws, "s.py", {{"zzz", "y"}}, "");
  CHECK(absl::IsFailedPrecondition(missing.status()));
  CHECK(std::string(missing.status().message()).find("edit 0") != std::string::npos);

  auto ok = f.files.Edit(f.ws, "s.py", {{"c = 2", "c = 3"}, {"= 1", "= 9", true}}, "");
  REQUIRE(ok.ok());
  CHECK(ok->replacements == std::vector<std::uint32_t>{1, 2});
  CHECK(f.Read("s.py") == "a = 9\nb = 9\nc = 3\n");
  CHECK(absl::IsInvalidArgument(f.files.Edit(f.ws, "s.py", {{"", "x"}}, "").status()));
  CHECK(absl::IsNotFound(f.files.Edit(f.ws, "nope.py", {{"a", "b"}}, "").status()));
}

TEST_CASE("List is sorted, recursive on request, glob-filtered, skips .git and truncates",
          "[files]") {
  Fixture f;
  for (const char* p : {"b.xml", "a.txt", "sub/c.xml", "sub/deep/d.xml"}) {
    REQUIRE(f.files.Write(f.ws, p, "x", {}).ok());
  }
  fs::create_directories(f.ws.root / ".git");  // as LightGit would make it
  std::ofstream(f.ws.root / ".git/config") << "x";
  auto top = f.files.List(f.ws, {"", false, "", 0});
  REQUIRE(top.ok());
  std::vector<std::string> names;
  for (auto& e : top->entries) names.push_back(e.path);
  CHECK(names == std::vector<std::string>{"a.txt", "b.xml", "sub"});

  auto xml = f.files.List(f.ws, {"", true, "*.xml", 0});
  REQUIRE(xml.ok());
  names.clear();
  for (auto& e : xml->entries) names.push_back(e.path);
  CHECK(names == std::vector<std::string>{"b.xml", "sub/c.xml", "sub/deep/d.xml"});

  auto cut = f.files.List(f.ws, {"", true, "", 2});
  REQUIRE(cut.ok());
  CHECK(cut->entries.size() == 2);
  CHECK(cut->truncated);
  CHECK(absl::IsNotFound(f.files.List(f.ws, {"nope", false, "", 0}).status()));
  CHECK(absl::IsFailedPrecondition(f.files.List(f.ws, {"a.txt", false, "", 0}).status()));
}

TEST_CASE("Stat reports existence without an error for missing paths", "[files]") {
  Fixture f;
  REQUIRE(f.files.Write(f.ws, "x/y.txt", "hello", {}).ok());
  auto present = f.files.Stat(f.ws, "x/y.txt");
  REQUIRE(present.ok());
  REQUIRE(present->has_value());
  CHECK((*present)->size == 5);
  CHECK((*present)->type == EntryType::kFile);
  auto absent = f.files.Stat(f.ws, "x/z.txt");
  REQUIRE(absent.ok());
  CHECK_FALSE(absent->has_value());
}

TEST_CASE("ReadMany returns found contents and missing paths", "[files]") {
  Fixture f;
  REQUIRE(f.files.Write(f.ws, "a", "A", {}).ok());
  REQUIRE(f.files.Write(f.ws, "b", "B", {}).ok());
  auto batch = f.files.ReadMany(f.ws, {"a", "missing", "b"});
  REQUIRE(batch.ok());
  REQUIRE(batch->files.size() == 2);
  CHECK(batch->files[1].content == "B");
  CHECK(batch->missing == std::vector<std::string>{"missing"});
}

TEST_CASE("Move renames, refuses to clobber without overwrite, and into itself", "[files]") {
  Fixture f;
  REQUIRE(f.files.Write(f.ws, "a.txt", "A", {}).ok());
  REQUIRE(f.files.Write(f.ws, "b.txt", "B", {}).ok());
  CHECK(absl::IsAlreadyExists(f.files.Move(f.ws, "a.txt", "b.txt", false)));
  CHECK(f.Read("b.txt") == "B");
  REQUIRE(f.files.Move(f.ws, "a.txt", "new/dir/a.txt", false).ok());
  CHECK(f.Read("new/dir/a.txt") == "A");
  CHECK(absl::IsNotFound(f.files.Move(f.ws, "a.txt", "c.txt", false)));
  CHECK(absl::IsInvalidArgument(f.files.Move(f.ws, "new", "new/dir/inner", false)));
  REQUIRE(f.files.Move(f.ws, "new/dir/a.txt", "b.txt", true).ok());
  CHECK(f.Read("b.txt") == "A");
}

TEST_CASE("Delete needs recursive for a non-empty directory", "[files]") {
  Fixture f;
  REQUIRE(f.files.Write(f.ws, "d/e/f.txt", "x", {}).ok());
  CHECK(absl::IsFailedPrecondition(f.files.Delete(f.ws, "d", false).status()));
  CHECK(*f.files.Delete(f.ws, "d", true) == 3);
  CHECK(absl::IsNotFound(f.files.Delete(f.ws, "d", true).status()));
  CHECK(absl::IsInvalidArgument(f.files.Delete(f.ws, "", true).status()));
}

TEST_CASE("Grep finds lines in path order, honours glob, case and the cap", "[grep]") {
  Fixture f;
  REQUIRE(f.files.Write(f.ws, "b.xml", "<site name=\"zone_goal_a\"/>\nnothing\n", {}).ok());
  REQUIRE(f.files.Write(f.ws, "a.xml", "x\nZONE_goal_b\n", {}).ok());
  REQUIRE(f.files.Write(f.ws, "c.bin", std::string("zone_goal\0", 10), {}).ok());
  REQUIRE(f.files.Write(f.ws, "d.txt", "zone_goal_c\n", {}).ok());

  auto result = Grep(f.ws, {"zone_goal_\\w", "", "*.xml", true, 0}, f.limits);
  REQUIRE(result.ok());
  REQUIRE(result->matches.size() == 2);
  CHECK(result->matches[0].path == "a.xml");
  CHECK(result->matches[0].line_number == 2);
  CHECK(result->matches[1].line == "<site name=\"zone_goal_a\"/>");

  auto sensitive = Grep(f.ws, {"zone_goal", "", "", false, 0}, f.limits);
  REQUIRE(sensitive.ok());
  CHECK(sensitive->matches.size() == 2);  // b.xml and d.txt; a.xml differs in case
  CHECK(sensitive->files_skipped == 1);   // c.bin is binary

  auto capped = Grep(f.ws, {"zone", "", "", true, 1}, f.limits);
  REQUIRE(capped.ok());
  CHECK(capped->matches.size() == 1);
  CHECK(capped->truncated);
  CHECK(absl::IsInvalidArgument(Grep(f.ws, {"(unclosed", "", "", false, 0}, f.limits).status()));
}

TEST_CASE("Grep never reads through a symlink leading outside", "[grep]") {
  Fixture f;
  fs::create_symlink(f.tmp.outside / "secret.txt", f.ws.root / "leak.txt");
  auto result = Grep(f.ws, {"secret", "", "", false, 0}, f.limits);
  REQUIRE(result.ok());
  CHECK(result->matches.empty());
}

TEST_CASE("Names and lines that are not UTF-8 never break a list or a grep", "[grep]") {
  Fixture f;
  // A Latin-1 name (made outside the API, e.g. by git) and a Latin-1 line in a valid file.
  { std::ofstream(f.ws.root / "caf\xe9.txt") << "zone\n"; }
  REQUIRE(f.files.Write(f.ws, "notes.txt", "zone caf\xe9 au lait\n", {}).ok());
  auto listed = f.files.List(f.ws, {"", true, "", 0});
  REQUIRE(listed.ok());
  for (const auto& entry : listed->entries) CHECK(workerpair::IsValidUtf8(entry.path));
  auto result = Grep(f.ws, {"zone", "", "", false, 0}, f.limits);
  REQUIRE(result.ok());
  REQUIRE(result->matches.size() == 1);
  CHECK(result->matches[0].path == "notes.txt");
  CHECK(result->matches[0].line == "zone caf\xef\xbf\xbd au lait");
}

TEST_CASE("Upload commits all files at the end, or none", "[upload]") {
  Fixture f;
  REQUIRE(f.files.Write(f.ws, "exists.bin", "old", {}).ok());
  {
    UploadSession upload(f.ws, f.files, false);
    REQUIRE(upload.StartFile("u/one.bin").ok());
    REQUIRE(upload.Append(std::string("\0\1", 2)).ok());
    REQUIRE(upload.StartFile("exists.bin").ok());
    REQUIRE(upload.Append("new").ok());
    CHECK(absl::IsAlreadyExists(upload.Commit().status()));
  }
  CHECK_FALSE(f.files.Stat(f.ws, "u/one.bin")->has_value());
  CHECK(f.Read("exists.bin") == "old");
  {
    UploadSession upload(f.ws, f.files, true);
    REQUIRE(upload.StartFile("u/one.bin").ok());
    REQUIRE(upload.Append(std::string("\0\1", 2)).ok());
    REQUIRE(upload.Append(std::string("\2", 1)).ok());
    REQUIRE(upload.StartFile("exists.bin").ok());
    REQUIRE(upload.Append("new").ok());
    CHECK(absl::IsInvalidArgument(upload.StartFile("u/one.bin")));
    auto written = upload.Commit();
    REQUIRE(written.ok());
    CHECK(written->size() == 2);
  }
  CHECK(f.Read("u/one.bin") == std::string("\0\1\2", 3));
  CHECK(f.Read("exists.bin") == "new");
  {
    UploadSession upload(f.ws, f.files, false);
    CHECK(absl::IsFailedPrecondition(upload.Append("x")));
  }
}

TEST_CASE("Concurrent edits on one file are serialised, none lost", "[files]") {
  Fixture f;
  REQUIRE(f.files.Write(f.ws, "counter.txt", "", {}).ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const std::string line = "line-" + std::to_string(t) + "\n";
      for (int i = 0; i < 10; ++i) {
        // Read-modify-write through expected_sha256: retry on conflict, as a client would.
        while (true) {
          auto current = f.files.Read(f.ws, "counter.txt", std::monostate{});
          REQUIRE(current.ok());
          WriteOptions guarded{true, current->sha256};
          auto written = f.files.Write(f.ws, "counter.txt", current->content + line, guarded);
          if (written.ok()) break;
          REQUIRE(absl::IsFailedPrecondition(written.status()));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const std::string content = f.Read("counter.txt");
  CHECK(std::count(content.begin(), content.end(), '\n') == 80);
}

TEST_CASE("Escapes through the files core are PERMISSION_DENIED and touch nothing", "[files]") {
  Fixture f;
  fs::create_directory_symlink(f.tmp.outside, f.ws.root / "out");
  CHECK(absl::IsPermissionDenied(f.files.Write(f.ws, "../x", "x", {}).status()));
  CHECK(absl::IsPermissionDenied(f.files.Write(f.ws, "/tmp/x", "x", {}).status()));
  CHECK(absl::IsPermissionDenied(f.files.Write(f.ws, "out/secret.txt", "x", {true}).status()));
  CHECK(absl::IsPermissionDenied(f.files.Read(f.ws, "out/secret.txt", {}).status()));
  CHECK(absl::IsPermissionDenied(f.files.Delete(f.ws, "out/secret.txt", false).status()));
  CHECK(absl::IsPermissionDenied(f.files.Move(f.ws, "out/secret.txt", "mine.txt", false)));
  std::ifstream secret(f.tmp.outside / "secret.txt");
  std::string content((std::istreambuf_iterator<char>(secret)), {});
  CHECK(content == "secret");
  // Deleting the planted link itself is allowed: it lives inside the workspace.
  auto removed_link = f.files.Delete(f.ws, "out", false);
  INFO(removed_link.status().ToString());
  CHECK(removed_link.ok());
  CHECK(fs::exists(f.tmp.outside / "secret.txt"));
}

TEST_CASE("Files under .git change only through LightGit: writes, edits, moves, deletes and "
          "uploads there are PERMISSION_DENIED", "[files]") {
  Fixture f;
  fs::create_directories(f.ws.root / ".git/objects/info");
  std::ofstream(f.ws.root / ".git/config") << "[core]\n";
  REQUIRE(f.files.Write(f.ws, "a.txt", "x", {}).ok());
  CHECK(absl::IsPermissionDenied(
      f.files.Write(f.ws, ".git/objects/info/alternates", "/elsewhere", {}).status()));
  CHECK(absl::IsPermissionDenied(f.files.Write(f.ws, "sub/../.git/config", "x", {true}).status()));
  CHECK(absl::IsPermissionDenied(f.files.Write(f.ws, "vendor/.git/config", "x", {}).status()));
  CHECK(absl::IsPermissionDenied(f.files.Edit(f.ws, ".git/config", {{"core", "x"}}, "").status()));
  CHECK(absl::IsPermissionDenied(f.files.Move(f.ws, "a.txt", ".git/hooks/pre-commit", false)));
  CHECK(absl::IsPermissionDenied(f.files.Move(f.ws, ".git/config", "stolen", false)));
  CHECK(absl::IsPermissionDenied(f.files.Delete(f.ws, ".git", true).status()));
  {
    UploadSession upload(f.ws, f.files, true);
    CHECK(absl::IsPermissionDenied(upload.StartFile(".git/config")));
  }
  CHECK_FALSE(fs::exists(f.ws.root / ".git/objects/info/alternates"));
  // Reading is harmless and stays allowed; so are names that merely contain ".git".
  CHECK(f.files.Read(f.ws, ".git/config", std::monostate{}).ok());
  CHECK(f.files.Write(f.ws, ".gitignore", "build/\n", {}).ok());
  CHECK(f.files.Write(f.ws, "docs/my.git/notes", "x", {}).ok());
}
