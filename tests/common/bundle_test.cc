// The payload bundle: deterministic packing, and unpacking that refuses hostile archives.
//
// Hostile archives are written here with libarchive's own writer, so each test holds exactly
// the entry it is about: `..`, absolute paths, links, devices, bombs, truncation, garbage.
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "libs/common/bundle.h"
#include "libs/common/sha256.h"
#include "tests/support/server_process.h"

namespace fs = std::filesystem;
using workerpair::PackDirectory;
using workerpair::PackOptions;
using workerpair::PackResult;
using workerpair::UnpackArchive;
using workerpair::UnpackLimits;
using workerpair::UnpackReport;
using workerpair::testing::TempDir;

namespace {

void WriteFile(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
  REQUIRE(out.good());
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// Every file under `root` (not following symlinks) -> its bytes; directories map to "<dir>".
std::map<std::string, std::string> Snapshot(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const std::string relative = it->path().lexically_relative(root).generic_string();
    const fs::file_status status = it->symlink_status();
    if (fs::is_symlink(status)) {
      out[relative] = "<symlink>";
    } else if (fs::is_directory(status)) {
      out[relative] = "<dir>";
    } else {
      out[relative] = ReadFile(it->path());
    }
  }
  return out;
}

// One entry of a hand-made archive.
struct TestEntry {
  std::string name;
  mode_t type = AE_IFREG;
  std::string content;
  std::string symlink;             // target, for AE_IFLNK
  std::string hardlink;            // target, makes this a hardlink entry
  std::uint64_t zero_bytes = 0;    // content of this many zero bytes instead of `content`
};

// Writes `entries` as a tar, gzipped unless `gzip` is false.
std::string MakeArchive(const std::vector<TestEntry>& entries, bool gzip = true) {
  std::string out;
  archive* a = archive_write_new();
  REQUIRE(archive_write_set_format_pax_restricted(a) == ARCHIVE_OK);
  if (gzip) REQUIRE(archive_write_add_filter_gzip(a) == ARCHIVE_OK);
  REQUIRE(archive_write_set_bytes_in_last_block(a, 1) == ARCHIVE_OK);
  auto append = [](archive*, void* data, const void* buffer, size_t length) -> la_ssize_t {
    static_cast<std::string*>(data)->append(static_cast<const char*>(buffer), length);
    return static_cast<la_ssize_t>(length);
  };
  REQUIRE(archive_write_open2(a, &out, nullptr, append, nullptr, nullptr) == ARCHIVE_OK);
  for (const TestEntry& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.name.c_str());
    archive_entry_set_filetype(entry, e.type);
    archive_entry_set_perm(entry, 0644);
    if (!e.symlink.empty()) archive_entry_set_symlink(entry, e.symlink.c_str());
    if (!e.hardlink.empty()) archive_entry_set_hardlink(entry, e.hardlink.c_str());
    if (e.type == AE_IFCHR) archive_entry_set_rdev(entry, makedev(1, 3));
    const std::uint64_t size =
        e.type == AE_IFREG && e.hardlink.empty() ? (e.zero_bytes > 0 ? e.zero_bytes : e.content.size())
                                                 : 0;
    archive_entry_set_size(entry, static_cast<la_int64_t>(size));
    REQUIRE(archive_write_header(a, entry) == ARCHIVE_OK);
    if (e.zero_bytes > 0) {
      const std::string zeros(1 << 20, '\0');
      for (std::uint64_t left = e.zero_bytes; left > 0;) {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, zeros.size()));
        REQUIRE(archive_write_data(a, zeros.data(), n) == static_cast<la_ssize_t>(n));
        left -= n;
      }
    } else if (size > 0) {
      REQUIRE(archive_write_data(a, e.content.data(), e.content.size()) ==
              static_cast<la_ssize_t>(e.content.size()));
    }
    archive_entry_free(entry);
  }
  REQUIRE(archive_write_close(a) == ARCHIVE_OK);
  archive_write_free(a);
  return out;
}

// Bytes that gzip cannot shrink (a fixed pseudo-random sequence).
std::string Incompressible(std::size_t size, std::uint32_t seed = 12345) {
  std::string out(size, '\0');
  std::uint32_t x = seed;
  for (char& c : out) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return out;
}

// A base directory holding an empty `dest/` to unpack into and a `sentinel/` that must never
// change; Unpack checks both after every call.
struct Sandbox {
  Sandbox() {
    fs::create_directories(dest());
    WriteFile(sentinel() / "secret.txt", "secret");
    before = Snapshot(dir.path());
  }
  fs::path dest() const { return dir.path() / "dest"; }
  fs::path sentinel() const { return dir.path() / "sentinel"; }

  // Unpacks and returns the result; on failure also requires that dest is empty and that nothing
  // anywhere else under the base directory changed.
  absl::StatusOr<UnpackReport> Unpack(const std::string& archive, const UnpackLimits& limits = {}) {
    absl::StatusOr<UnpackReport> result = UnpackArchive(archive, dest(), limits);
    if (!result.ok()) {
      CHECK(fs::is_directory(dest()));
      CHECK(fs::is_empty(dest()));
      CHECK(Snapshot(dir.path()) == before);
    }
    return result;
  }

  TempDir dir;
  std::map<std::string, std::string> before;
};

// A small tree with nested directories, a binary file, an empty file and an empty directory,
// plus things a bundle must leave out (a symlink, .git, a temporary file).
void MakeTree(const fs::path& root) {
  std::string binary;
  for (int i = 0; i < 256 * 64; ++i) binary.push_back(static_cast<char>(i % 256));
  WriteFile(root / "scene.xml", "<mujoco model=\"m\"/>\n");
  WriteFile(root / "manifest.json", "{\"version\": 1, \"scene\": \"scene.xml\"}\n");
  WriteFile(root / "meshes/part.stl", binary);
  WriteFile(root / "meshes/deep/er/empty.bin", "");
  WriteFile(root / "notes/readme.md", "notes\n");
  fs::create_directories(root / "empty_dir");
  WriteFile(root / ".git/HEAD", "ref: refs/heads/main\n");
  WriteFile(root / "meshes/.wp-tmp-123", "partial");
  fs::create_symlink("/etc/passwd", root / "passwd_link");
  fs::create_directory_symlink("/etc", root / "etc_link");
}

}  // namespace

TEST_CASE("PackDirectory then UnpackArchive gives back every file byte for byte", "[bundle]") {
  TempDir source;
  MakeTree(source.path());
  absl::StatusOr<PackResult> packed = PackDirectory(source.path(), {}, PackOptions{});
  REQUIRE(packed.ok());
  const std::vector<std::string> expected_files = {"manifest.json", "meshes/deep/er/empty.bin",
                                                   "meshes/part.stl", "notes/readme.md",
                                                   "scene.xml"};
  CHECK(packed->files == expected_files);
  CHECK(packed->file_count == 5);
  std::uint64_t expected_bytes = 0;
  for (const std::string& file : expected_files) expected_bytes += fs::file_size(source.path() / file);
  CHECK(expected_bytes == 256 * 64 + 20 + 37 + 6);  // part.stl, scene.xml, manifest, readme
  CHECK(packed->total_bytes == expected_bytes);
  CHECK(packed->sha256 == workerpair::Sha256Hex(packed->archive));

  Sandbox box;
  absl::StatusOr<UnpackReport> report = box.Unpack(packed->archive);
  REQUIRE(report.ok());
  CHECK(report->files == 5);
  CHECK(report->unpacked_bytes == packed->total_bytes);
  CHECK(report->paths == expected_files);  // archive order is sorted order
  // meshes, meshes/deep, meshes/deep/er, notes, empty_dir
  CHECK(report->directories == 5);

  // The unpacked tree is the source minus what bundles leave out.
  std::map<std::string, std::string> want = Snapshot(source.path());
  for (const char* left_out : {".git", ".git/HEAD", "meshes/.wp-tmp-123", "passwd_link", "etc_link"}) {
    REQUIRE(want.erase(left_out) == 1);
  }
  CHECK(Snapshot(box.dest()) == want);
}

TEST_CASE("PackDirectory is deterministic whatever the timestamps and permissions", "[bundle]") {
  TempDir source;
  MakeTree(source.path());
  absl::StatusOr<PackResult> first = PackDirectory(source.path(), {}, PackOptions{});
  REQUIRE(first.ok());

  // Touch every file and change modes: none of it may reach the archive.
  const auto past = fs::file_time_type::clock::now() - std::chrono::hours(1000);
  for (const auto& entry : fs::recursive_directory_iterator(source.path())) {
    if (entry.is_symlink()) continue;
    fs::last_write_time(entry.path(), past);
    if (entry.is_regular_file()) fs::permissions(entry.path(), fs::perms::owner_read | fs::perms::owner_write);
  }
  absl::StatusOr<PackResult> second = PackDirectory(source.path(), {}, PackOptions{});
  REQUIRE(second.ok());
  CHECK(second->archive == first->archive);
  CHECK(second->sha256 == first->sha256);

  // The gzip header: no file name flag, no timestamp.
  REQUIRE(first->archive.size() > 10);
  CHECK(static_cast<unsigned char>(first->archive[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(first->archive[1]) == 0x8b);
  CHECK(first->archive[3] == 0);  // FLG: no FNAME, no FCOMMENT, no FEXTRA
  CHECK(first->archive.substr(4, 4) == std::string(4, '\0'));  // MTIME
}

TEST_CASE("PackDirectory entries carry no owner, time or original mode", "[bundle]") {
  TempDir source;
  WriteFile(source.path() / "a/run.sh", "#!/bin/sh\n");
  fs::permissions(source.path() / "a/run.sh", fs::perms::owner_all);
  absl::StatusOr<PackResult> packed = PackDirectory(source.path(), {}, PackOptions{});
  REQUIRE(packed.ok());

  archive* a = archive_read_new();
  archive_read_support_filter_gzip(a);
  archive_read_support_format_tar(a);
  REQUIRE(archive_read_open_memory(a, packed->archive.data(), packed->archive.size()) == ARCHIVE_OK);
  std::vector<std::string> names;
  archive_entry* entry = nullptr;
  while (archive_read_next_header(a, &entry) == ARCHIVE_OK) {
    names.push_back(archive_entry_pathname(entry));
    CHECK(archive_entry_mtime(entry) == 0);
    CHECK(archive_entry_uid(entry) == 0);
    CHECK(archive_entry_gid(entry) == 0);
    const char* uname = archive_entry_uname(entry);  // libarchive gives "" or null for none
    const char* gname = archive_entry_gname(entry);
    CHECK(std::string(uname != nullptr ? uname : "").empty());
    CHECK(std::string(gname != nullptr ? gname : "").empty());
    CHECK(archive_entry_perm(entry) == (archive_entry_filetype(entry) == AE_IFDIR ? 0755 : 0644));
  }
  archive_read_free(a);
  CHECK(names == std::vector<std::string>{"a/", "a/run.sh"});
}

TEST_CASE("PackDirectory with named paths packs only those, with their parent directories",
          "[bundle]") {
  TempDir source;
  MakeTree(source.path());
  absl::StatusOr<PackResult> packed =
      PackDirectory(source.path(), {"scene.xml", "meshes/deep", "scene.xml", "./notes/../manifest.json"},
                    PackOptions{});
  REQUIRE(packed.ok());
  CHECK(packed->files ==
        std::vector<std::string>{"manifest.json", "meshes/deep/er/empty.bin", "scene.xml"});

  Sandbox box;
  absl::StatusOr<UnpackReport> report = box.Unpack(packed->archive);
  REQUIRE(report.ok());
  CHECK(ReadFile(box.dest() / "scene.xml") == "<mujoco model=\"m\"/>\n");
  CHECK(fs::is_regular_file(box.dest() / "meshes/deep/er/empty.bin"));
  CHECK_FALSE(fs::exists(box.dest() / "meshes/part.stl"));

  // "." names the whole root.
  absl::StatusOr<PackResult> whole = PackDirectory(source.path(), {"."}, PackOptions{});
  absl::StatusOr<PackResult> all = PackDirectory(source.path(), {}, PackOptions{});
  REQUIRE(whole.ok());
  REQUIRE(all.ok());
  CHECK(whole->archive == all->archive);
}

TEST_CASE("PackDirectory refuses missing, escaping and link paths with their codes", "[bundle]") {
  TempDir source;
  MakeTree(source.path());
  auto code = [&](std::vector<std::string> paths) {
    return PackDirectory(source.path(), paths, PackOptions{}).status().code();
  };
  CHECK(code({"missing.xml"}) == absl::StatusCode::kNotFound);
  CHECK(code({"scene.xml", "meshes/nope"}) == absl::StatusCode::kNotFound);
  CHECK(code({"../outside"}) == absl::StatusCode::kPermissionDenied);
  CHECK(code({"/etc/passwd"}) == absl::StatusCode::kPermissionDenied);
  CHECK(code({"etc_link/passwd"}) == absl::StatusCode::kPermissionDenied);
  CHECK(code({"passwd_link"}) == absl::StatusCode::kInvalidArgument);
  CHECK(code({".git"}) == absl::StatusCode::kInvalidArgument);
  CHECK(code({std::string("a\0b", 3)}) == absl::StatusCode::kInvalidArgument);
  CHECK(PackDirectory(source.path() / "no_such_dir", {}, PackOptions{}).status().code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("PackDirectory over its limits is RESOURCE_EXHAUSTED naming the limit", "[bundle]") {
  TempDir source;
  MakeTree(source.path());
  SECTION("max_file_bytes") {
    absl::StatusOr<PackResult> packed = PackDirectory(source.path(), {}, {.max_file_bytes = 1000});
    REQUIRE(packed.status().code() == absl::StatusCode::kResourceExhausted);
    CHECK_THAT(std::string(packed.status().message()), Catch::Contains("max_file_bytes") &&
                                                           Catch::Contains("meshes/part.stl"));
  }
  SECTION("max_total_bytes") {
    absl::StatusOr<PackResult> packed = PackDirectory(source.path(), {}, {.max_total_bytes = 100});
    REQUIRE(packed.status().code() == absl::StatusCode::kResourceExhausted);
    CHECK_THAT(std::string(packed.status().message()), Catch::Contains("max_total_bytes"));
  }
  SECTION("max_entries") {
    absl::StatusOr<PackResult> packed = PackDirectory(source.path(), {}, {.max_entries = 4});
    REQUIRE(packed.status().code() == absl::StatusCode::kResourceExhausted);
    CHECK_THAT(std::string(packed.status().message()), Catch::Contains("max_entries"));
  }
}

TEST_CASE("UnpackArchive refuses entries that would escape, writing nothing", "[bundle]") {
  Sandbox box;
  const std::string outside_file = (box.sentinel() / "secret.txt").string();
  const std::string outside_new = (box.sentinel() / "planted.txt").string();
  struct Case {
    const char* what;
    std::vector<TestEntry> entries;
  };
  const std::vector<Case> cases = {
      {"dot-dot entry", {{.name = "ok.txt", .content = "fine"}, {.name = "../sentinel/planted.txt", .content = "x"}}},
      {"dot-dot in the middle", {{.name = "a/../../sentinel/planted.txt", .content = "x"}}},
      {"absolute path", {{.name = "ok.txt", .content = "fine"}, {.name = outside_new, .content = "x"}}},
      {"symlink pointing out", {{.name = "link", .type = AE_IFLNK, .symlink = box.sentinel().string()},
                                {.name = "link/planted.txt", .content = "x"}}},
      {"relative symlink", {{.name = "link", .type = AE_IFLNK, .symlink = "../sentinel"}}},
      {"hardlink to an absolute outside file", {{.name = "hl", .hardlink = outside_file}}},
      {"hardlink climbing out", {{.name = "hl", .hardlink = "../sentinel/secret.txt"}}},
      {"hardlink inside", {{.name = "a.txt", .content = "a"}, {.name = "b.txt", .hardlink = "a.txt"}}},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    absl::StatusOr<UnpackReport> result = box.Unpack(MakeArchive(c.entries));
    CHECK(result.status().code() == absl::StatusCode::kPermissionDenied);
  }
  CHECK_FALSE(fs::exists(box.sentinel() / "planted.txt"));
  CHECK(ReadFile(box.sentinel() / "secret.txt") == "secret");
}

TEST_CASE("UnpackArchive refuses devices, fifos and sockets", "[bundle]") {
  Sandbox box;
  for (mode_t type : {AE_IFCHR, AE_IFBLK, AE_IFIFO}) {
    INFO("type " << type);
    absl::StatusOr<UnpackReport> result =
        box.Unpack(MakeArchive({{.name = "ok.txt", .content = "fine"}, {.name = "dev", .type = type}}));
    CHECK(result.status().code() == absl::StatusCode::kPermissionDenied);
  }
}

TEST_CASE("UnpackArchive stops a decompression bomb on the ratio of bytes actually unpacked",
          "[bundle]") {
  Sandbox box;
  // 200 MB of zeros compresses to ~200 KB: a ratio near 1000.
  const std::string bomb = MakeArchive({{.name = "zeros.bin", .zero_bytes = 200ull << 20}});
  REQUIRE(bomb.size() < (1u << 20));
  absl::StatusOr<UnpackReport> result = box.Unpack(bomb);
  REQUIRE(result.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK_THAT(std::string(result.status().message()),
             Catch::Contains("max_compression_ratio") && Catch::Contains("zeros.bin"));

  // Allowed a ratio, it is still stopped by the size caps.
  UnpackLimits lenient;
  lenient.max_compression_ratio = 1e9;
  lenient.max_file_bytes = 64ull << 20;
  result = box.Unpack(bomb, lenient);
  REQUIRE(result.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK_THAT(std::string(result.status().message()), Catch::Contains("max_file_bytes"));

  lenient.max_file_bytes = 1ull << 30;
  lenient.max_unpacked_bytes = 100ull << 20;
  result = box.Unpack(bomb, lenient);
  REQUIRE(result.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK_THAT(std::string(result.status().message()), Catch::Contains("max_unpacked_bytes"));
}

TEST_CASE("UnpackArchive caps entries, file sizes, total size and archive size", "[bundle]") {
  Sandbox box;
  SECTION("too many entries") {
    std::vector<TestEntry> entries;
    for (int i = 0; i < 11; ++i) {
      std::string name = "f";
      name += std::to_string(i);  // not "f" + ...: GCC 12 warns falsely (-Wrestrict) on that
      entries.push_back({.name = name, .content = "x"});
    }
    UnpackLimits limits;
    limits.max_entries = 10;
    absl::StatusOr<UnpackReport> result = box.Unpack(MakeArchive(entries), limits);
    REQUIRE(result.status().code() == absl::StatusCode::kResourceExhausted);
    CHECK_THAT(std::string(result.status().message()), Catch::Contains("max_entries"));
    entries.pop_back();
    CHECK(box.Unpack(MakeArchive(entries), limits).ok());
  }
  SECTION("a file over max_file_bytes") {
    UnpackLimits limits;
    limits.max_file_bytes = 1000;
    absl::StatusOr<UnpackReport> result =
        box.Unpack(MakeArchive({{.name = "big.bin", .content = Incompressible(1001)}}), limits);
    REQUIRE(result.status().code() == absl::StatusCode::kResourceExhausted);
    CHECK_THAT(std::string(result.status().message()), Catch::Contains("max_file_bytes") &&
                                                           Catch::Contains("big.bin"));
  }
  SECTION("files together over max_unpacked_bytes") {
    UnpackLimits limits;
    limits.max_unpacked_bytes = 1000;
    absl::StatusOr<UnpackReport> result =
        box.Unpack(MakeArchive({{.name = "a.bin", .content = Incompressible(600, 1)},
                                {.name = "b.bin", .content = Incompressible(600, 2)}}),
                   limits);
    REQUIRE(result.status().code() == absl::StatusCode::kResourceExhausted);
    CHECK_THAT(std::string(result.status().message()), Catch::Contains("max_unpacked_bytes") &&
                                                           Catch::Contains("b.bin"));
  }
  SECTION("an archive over max_compressed_bytes") {
    const std::string archive = MakeArchive({{.name = "a.bin", .content = Incompressible(5000)}});
    UnpackLimits limits;
    limits.max_compressed_bytes = archive.size() - 1;
    absl::StatusOr<UnpackReport> result = box.Unpack(archive, limits);
    REQUIRE(result.status().code() == absl::StatusCode::kResourceExhausted);
    CHECK_THAT(std::string(result.status().message()), Catch::Contains("max_compressed_bytes"));
  }
}

TEST_CASE("UnpackArchive refuses empty, garbage, plain-tar and truncated payloads", "[bundle]") {
  Sandbox box;
  const std::string good = MakeArchive({{.name = "a.bin", .content = Incompressible(20000)},
                                        {.name = "b.bin", .content = Incompressible(20000, 7)}});
  REQUIRE(box.Unpack(good).ok());
  fs::remove_all(box.dest());
  fs::create_directory(box.dest());

  auto code = [&](const std::string& payload) { return box.Unpack(payload).status().code(); };
  CHECK(code("") == absl::StatusCode::kInvalidArgument);
  CHECK(code(Incompressible(4096)) == absl::StatusCode::kInvalidArgument);
  CHECK(code(std::string("\x1f\x8b", 2) + Incompressible(4096)) == absl::StatusCode::kInvalidArgument);
  CHECK(code(MakeArchive({{.name = "a.txt", .content = "plain"}}, /*gzip=*/false)) ==
        absl::StatusCode::kInvalidArgument);
  for (std::size_t cut : {good.size() / 4, good.size() / 2, good.size() - 20, good.size() - 1}) {
    INFO("truncated to " << cut << " of " << good.size() << " bytes");
    CHECK(code(good.substr(0, cut)) == absl::StatusCode::kInvalidArgument);
  }
  // A flipped byte in the middle of the deflate stream.
  std::string corrupt = good;
  corrupt[corrupt.size() / 2] ^= 0x55;
  CHECK(code(corrupt) == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("UnpackArchive refuses duplicate and conflicting names", "[bundle]") {
  Sandbox box;
  CHECK(box.Unpack(MakeArchive({{.name = "a.txt", .content = "1"}, {.name = "a.txt", .content = "2"}}))
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
  CHECK(box.Unpack(MakeArchive({{.name = "a", .content = "file"}, {.name = "a/b.txt", .content = "x"}}))
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
  CHECK(box.Unpack(MakeArchive({{.name = "a/b.txt", .content = "x"}, {.name = "a", .content = "file"}}))
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
  CHECK(box.Unpack(MakeArchive({{.name = std::string(300, 'n'), .content = "x"}})).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("UnpackArchive accepts ./-prefixed names and needs an empty destination", "[bundle]") {
  Sandbox box;
  const std::string archive = MakeArchive({{.name = ".", .type = AE_IFDIR},
                                           {.name = "./sub", .type = AE_IFDIR},
                                           {.name = "./sub/x.txt", .content = "x"},
                                           {.name = "y.txt", .content = ""}});
  absl::StatusOr<UnpackReport> report = box.Unpack(archive);
  REQUIRE(report.ok());
  CHECK(report->paths == std::vector<std::string>{"sub/x.txt", "y.txt"});
  CHECK(report->directories == 1);
  CHECK(ReadFile(box.dest() / "sub/x.txt") == "x");
  const mode_t mask = ::umask(0);
  ::umask(mask);
  struct stat st;
  REQUIRE(::stat((box.dest() / "sub/x.txt").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == (0644 & ~mask));

  // Not empty now: refused, and what is there stays.
  absl::StatusOr<UnpackReport> again = UnpackArchive(archive, box.dest(), {});
  CHECK(again.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(ReadFile(box.dest() / "sub/x.txt") == "x");
  CHECK(UnpackArchive(archive, box.dir.path() / "missing", {}).status().code() ==
        absl::StatusCode::kFailedPrecondition);
}
