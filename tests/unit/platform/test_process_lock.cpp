// platform/process_lock.h: the login and refresh locks between mcp-auth processes. Two
// services on one directory stand for two processes: each open() is its own open file,
// and flock(2) locks belong to the open file, so they conflict as two processes' would.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>

#include "platform/process_lock.h"
#include "platform/temp_dir.h"

using namespace mcp_auth;
using mcp_auth::testing::contains;
using mcp_auth::testing::TempDir;
using std::chrono::milliseconds;

namespace {

const std::string kServer = "https://mcp.example.com/mcp";

std::unique_ptr<ProcessLock> open_lock(FileLockService& service, const std::string& purpose,
                                       const std::string& server = kServer) {
    auto lock = service.open(server, purpose);
    REQUIRE_MESSAGE(lock, (lock ? "" : lock.error().message));
    return std::move(*lock);
}

}  // namespace

TEST_CASE("process lock: exclusive between two processes until the holder releases it") {
    TempDir tmp;
    FileLockService first(tmp / "locks"), second(tmp / "locks");
    auto a = open_lock(first, "login");
    auto b = open_lock(second, "login");
    CHECK(a->handle() >= 0);
    CHECK(a->try_lock());
    CHECK_FALSE(b->try_lock());
    auto waited = b->lock(true, milliseconds(0));
    REQUIRE_FALSE(waited);
    CHECK(waited.error().kind == ErrorKind::Timeout);
    a->release();
    CHECK(a->handle() == -1);
    CHECK(b->try_lock());
}

TEST_CASE("process lock: a holder that goes away (its handle closed) frees the lock") {
    TempDir tmp;
    FileLockService service(tmp / "locks");
    auto a = open_lock(service, "refresh");
    REQUIRE(a->lock(true, milliseconds(0)));
    auto b = open_lock(service, "refresh");
    CHECK_FALSE(b->try_lock());
    a.reset();  // what the end of a process does to its descriptors
    CHECK(b->lock(true, milliseconds(0)));
}

TEST_CASE("process lock: shared holders coexist and keep an exclusive one out") {
    TempDir tmp;
    FileLockService service(tmp / "locks");
    auto reader1 = open_lock(service, "login");
    auto reader2 = open_lock(service, "login");
    auto writer = open_lock(service, "login");
    REQUIRE(reader1->lock(false, milliseconds(0)));
    CHECK(reader2->lock(false, milliseconds(0)));
    CHECK_FALSE(writer->try_lock());
    reader1->release();
    CHECK_FALSE(writer->try_lock());  // one shared holder is still there
    reader2->release();
    REQUIRE(writer->try_lock());
    auto late_reader = open_lock(service, "login");
    CHECK(late_reader->lock(false, milliseconds(0)).error().kind == ErrorKind::Timeout);
}

TEST_CASE("process lock: one lock per server and purpose") {
    TempDir tmp;
    FileLockService service(tmp / "locks");
    auto login = open_lock(service, "login");
    REQUIRE(login->try_lock());
    CHECK(open_lock(service, "refresh")->try_lock());
    CHECK(open_lock(service, "login", "https://other.example.com/mcp")->try_lock());
    CHECK_FALSE(open_lock(service, "login")->try_lock());
    // The file names do not spell out the server.
    for (const auto& entry : std::filesystem::directory_iterator(tmp / "locks"))
        CHECK_FALSE(contains(entry.path().filename().string(), "example"));
}

TEST_CASE("process lock: a wait ends when it is cancelled (shutdown)") {
    TempDir tmp;
    FileLockService service(tmp / "locks");
    auto holder = open_lock(service, "login");
    REQUIRE(holder->try_lock());
    auto waiter = open_lock(service, "login");
    std::atomic<bool> cancelled{true};
    auto start = std::chrono::steady_clock::now();
    auto waited = waiter->lock(true, std::chrono::seconds(10), &cancelled);
    REQUIRE_FALSE(waited);
    CHECK(waited.error().kind == ErrorKind::Cancelled);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
}

TEST_CASE("process lock: change_stamp changes after every note_change, seen by every process") {
    TempDir tmp;
    FileLockService relay(tmp / "locks"), agent(tmp / "locks");
    std::string before = relay.change_stamp(kServer);
    CHECK(before == "none");
    CHECK(relay.change_stamp(kServer) == before);  // nothing changed: the same stamp
    agent.note_change(kServer);
    std::string after_one = relay.change_stamp(kServer);
    CHECK(after_one != before);
    CHECK(agent.change_stamp(kServer) == after_one);
    agent.note_change(kServer);  // within the same second: the size still moves
    std::string after_two = relay.change_stamp(kServer);
    CHECK(after_two != after_one);
    CHECK(relay.change_stamp("https://other.example.com/mcp") == "none");
}

TEST_CASE("process lock: the marker stays small and its stamp keeps changing") {
    TempDir tmp;
    FileLockService service(tmp / "locks");
    std::string last = service.change_stamp(kServer);
    for (int i = 0; i < 4200; ++i) {
        service.note_change(kServer);
        std::string now = service.change_stamp(kServer);
        REQUIRE(now != last);
        last = now;
    }
    for (const auto& entry : std::filesystem::directory_iterator(tmp / "locks"))
        CHECK(entry.file_size() <= 4096);
}

TEST_CASE("process lock: no directory: open says what to set, the stamp is empty") {
    FileLockService service("");
    auto lock = service.open(kServer, "login");
    REQUIRE_FALSE(lock);
    CHECK(contains(lock.error().message, "set HOME"));
    CHECK(service.change_stamp(kServer).empty());
    service.note_change(kServer);  // harmless
}

// POSIX: modes, and XDG_RUNTIME_DIR (test_private_dir_win32.cpp has the Windows forms).
#ifndef _WIN32
TEST_CASE("process lock: a lock directory other users can write to is refused") {
    TempDir tmp;
    std::filesystem::create_directories(tmp / "locks");
    std::filesystem::permissions(tmp / "locks", std::filesystem::perms::all,
                                 std::filesystem::perm_options::replace);
    FileLockService service(tmp / "locks");
    auto lock = service.open(kServer, "login");
    REQUIRE_FALSE(lock);
    CHECK(contains(lock.error().message, "the lock directory"));
    CHECK(contains(lock.error().message, "writable by other users"));
    CHECK(contains(lock.error().message, "chmod 700"));
}

TEST_CASE("lock_directory: the runtime directory when it is private, else the state directory") {
    TempDir tmp;
    std::string runtime = tmp / "run";
    std::filesystem::create_directories(runtime);
    std::filesystem::permissions(runtime, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace);
    CHECK(lock_directory(runtime, "/home/u/.local/state/mcp-auth") == runtime + "/mcp-auth");
    CHECK(lock_directory("", "/s") == "/s/locks");
    CHECK(lock_directory("relative/run", "/s") == "/s/locks");
    CHECK(lock_directory(tmp / "missing", "/s") == "/s/locks");
    std::filesystem::permissions(runtime, std::filesystem::perms::all,
                                 std::filesystem::perm_options::replace);
    CHECK(lock_directory(runtime, "/s") == "/s/locks");  // others could plant locks there
    CHECK(lock_directory("", "").empty());
}

#endif  // !_WIN32
