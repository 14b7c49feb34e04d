// platform/private_dir.h: the directory the file store and the locks live in. Another
// local user must not be able to read, plant or redirect what is in it.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "platform/private_dir.h"
#include "platform/temp_dir.h"

using namespace mcp_auth;
using mcp_auth::testing::contains;
using mcp_auth::testing::TempDir;
namespace fs = std::filesystem;

namespace {

const PrivateDirectoryUse kUse{"the test store", "read your test secrets",
                               ErrorKind::StoreUnavailable};

PrivateDirectory open_dir(const std::string& path) {
    auto dir = PrivateDirectory::open(path, kUse);
    REQUIRE_MESSAGE(dir, (dir ? "" : dir.error().message));
    return std::move(*dir);
}

#ifndef _WIN32
fs::perms mode_of(const std::string& path) {
    return fs::symlink_status(path).permissions() & fs::perms::mask;
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

#endif  // !_WIN32

}  // namespace

// POSIX: modes and symbolic links (the Windows forms: test_private_dir_win32.cpp).
#ifndef _WIN32
TEST_CASE("private directory: created for this user alone, with its missing parents") {
    TempDir tmp;
    std::string path = tmp / "a/b/store";
    auto dir = open_dir(path);
    CHECK(dir.path() == path);
    CHECK(mode_of(path) == fs::perms::owner_all);
    CHECK(mode_of(tmp / "a") == fs::perms::owner_all);
    CHECK(is_private_directory(path));
}

TEST_CASE("private directory: refused when others can write to it or the path is relative") {
    TempDir tmp;
    fs::create_directories(tmp / "open");
    fs::permissions(tmp / "open", fs::perms::all, fs::perm_options::replace);
    auto open = PrivateDirectory::open(tmp / "open", kUse);
    REQUIRE_FALSE(open);
    CHECK(open.error().kind == ErrorKind::StoreUnavailable);
    CHECK(contains(open.error().message, "refusing to use the test store at " + (tmp / "open")));
    CHECK(contains(open.error().message, "writable by other users (mode 0777)"));
    CHECK(contains(open.error().message, "another user could read your test secrets"));
    CHECK_FALSE(is_private_directory(tmp / "open"));

    auto relative = PrivateDirectory::open("relative/dir", kUse);
    REQUIRE_FALSE(relative);
    CHECK(contains(relative.error().message, "absolute"));
    CHECK_FALSE(fs::exists("relative"));  // never created in the working directory
}

TEST_CASE("private directory: read and replace") {
    TempDir tmp;
    auto dir = open_dir(tmp / "store");
    auto absent = dir.read("data.json");
    REQUIRE(absent);
    CHECK_FALSE(*absent);
    REQUIRE(dir.replace("data.json", "first"));
    REQUIRE(dir.replace("data.json", "second, longer"));
    auto read = dir.read("data.json");
    REQUIRE(read);
    REQUIRE(*read);
    CHECK(**read == "second, longer");
    CHECK(mode_of(tmp / "store/data.json") == (fs::perms::owner_read | fs::perms::owner_write));
    int files = 0;
    for (const auto& entry : fs::directory_iterator(tmp / "store")) {
        ++files;
        CHECK(entry.path().filename() == "data.json");  // no temporary file left behind
    }
    CHECK(files == 1);
}

TEST_CASE("private directory: a swap of the path after the check changes nothing") {
    TempDir tmp;
    auto dir = open_dir(tmp / "store");
    fs::rename(tmp / "store", tmp / "moved");
    fs::create_directories(tmp / "store");  // what an attacker would put in its place
    REQUIRE(dir.replace("data.json", "secret"));
    CHECK(fs::exists(tmp / "moved/data.json"));
    CHECK_FALSE(fs::exists(tmp / "store/data.json"));
}

TEST_CASE("private directory: a symlink inside it is never followed") {
    TempDir tmp;
    auto dir = open_dir(tmp / "store");
    write_file(tmp / "elsewhere", "not yours");
    fs::create_symlink(tmp / "elsewhere", tmp / "store/data.json");
    auto read = dir.read("data.json");
    REQUIRE_FALSE(read);
    CHECK(contains(read.error().message, "symbolic link"));
    auto lock = dir.open_lock("data.json");
    REQUIRE_FALSE(lock);
    CHECK(contains(lock.error().message, "symbolic link"));
    // replace() puts a new file in place of the link, never writes through it.
    REQUIRE(dir.replace("data.json", "mine"));
    std::ifstream elsewhere(tmp / "elsewhere");
    std::string text((std::istreambuf_iterator<char>(elsewhere)), std::istreambuf_iterator<char>());
    CHECK(text == "not yours");
}

TEST_CASE("private directory: a file others can read is refused, with the fix") {
    TempDir tmp;
    auto dir = open_dir(tmp / "store");
    REQUIRE(dir.replace("data.json", "secret"));
    fs::permissions(tmp / "store/data.json", fs::perms::others_read, fs::perm_options::add);
    auto read = dir.read("data.json");
    REQUIRE_FALSE(read);
    CHECK(contains(read.error().message, "open to other users (mode 0604)"));
    CHECK(contains(read.error().message, "chmod 600"));

    fs::create_directories(tmp / "store/dir.json");
    auto not_file = dir.read("dir.json");
    REQUIRE_FALSE(not_file);
    CHECK(contains(not_file.error().message, "not a regular file"));
}

#endif  // !_WIN32

TEST_CASE("private directory: lock files conflict as two processes' locks do") {
    TempDir tmp;
    auto dir = open_dir(tmp / "store");
    auto a = dir.open_lock("x.lock");
    auto b = dir.open_lock("x.lock");
    REQUIRE(a);
    REQUIRE(b);
    CHECK(*a->try_lock(false));
    CHECK(*b->try_lock(false));  // shared with shared
    a->release();
    CHECK(*b->try_lock(true));  // upgraded once alone
    auto c = dir.open_lock("x.lock");
    REQUIRE(c);
    CHECK_FALSE(*c->try_lock(false));
    LockFile moved = std::move(*b);
    CHECK(b->handle() == -1);
    CHECK_FALSE(*c->try_lock(false));  // the moved-to handle still holds it
    moved.release();
    CHECK(c->lock(true));
    CHECK(moved.try_lock(true).error().kind == ErrorKind::StoreUnavailable);
}

TEST_CASE("file_stamp: changes with every touch_marker; \"none\" without a file") {
    TempDir tmp;
    auto dir = open_dir(tmp / "store");
    std::string path = tmp / "store/changed";
    CHECK(file_stamp(path) == "none");
    REQUIRE(dir.touch_marker("changed"));
    std::string one = file_stamp(path);
    CHECK(one != "none");
    CHECK(file_stamp(path) == one);
    REQUIRE(dir.touch_marker("changed"));
    CHECK(file_stamp(path) != one);
}
