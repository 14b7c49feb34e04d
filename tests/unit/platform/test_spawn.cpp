// platform/spawn.h: what a detached child (the browser, the login agent) gets from us:
// the environment without secrets, no descriptor but the one passed, and the lock it holds.
#include <doctest/doctest.h>

#ifndef _WIN32
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "app/lines.h"
#include "platform/process_lock.h"
#include "platform/spawn.h"
#include "platform/temp_dir.h"

using namespace mcp_auth;
using mcp_auth::testing::contains;
using mcp_auth::testing::Lines;
using mcp_auth::testing::TempDir;

namespace {

// Runs `script` with /bin/sh in a detached child and returns what it wrote to $1 (the
// child writes a temporary file and renames it: the rename says it is complete).
std::string run_child(const TempDir& tmp, const std::string& script,
                      SpawnOptions options = SpawnOptions{}) {
    std::string out = tmp / "out";
    Lines lines;
    Log log(lines, false);
    REQUIRE(spawn_detached(
        {"/bin/sh", "-c", "{ " + script + "; } > \"$1.tmp\"; mv \"$1.tmp\" \"$1\"", "sh", out},
        options, log));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!std::filesystem::exists(out) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    REQUIRE(std::filesystem::exists(out));
    std::ifstream in(out);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::filesystem::remove(out);
    return text;
}

}  // namespace

TEST_CASE("spawn: the child's environment has none of mcp-auth's secrets") {
    TempDir tmp;
    setenv("MCP_AUTH_CLIENT_SECRET", "client-secret-value", 1);
    setenv("MCP_AUTH_IDP_ID_TOKEN", "id-token-value", 1);
    setenv("MCP_AUTH_UNIT_HEADER_SECRET", "header-secret-value", 1);
    setenv("MCP_AUTH_UNIT_PLAIN", "plain-value", 1);
    mark_secret_variable("MCP_AUTH_UNIT_HEADER_SECRET");

    std::string env = run_child(tmp, "env");
    CHECK(contains(env, "MCP_AUTH_UNIT_PLAIN=plain-value"));
    CHECK_FALSE(contains(env, "client-secret-value"));
    CHECK_FALSE(contains(env, "id-token-value"));
    CHECK_FALSE(contains(env, "header-secret-value"));

    // A copy of mcp-auth (the login agent) keeps the auth secrets, never a header's.
    SpawnOptions agent;
    agent.keep_auth_secrets = true;
    std::string agent_env = run_child(tmp, "env", agent);
    CHECK(contains(agent_env, "MCP_AUTH_CLIENT_SECRET=client-secret-value"));
    CHECK(contains(agent_env, "MCP_AUTH_IDP_ID_TOKEN=id-token-value"));
    CHECK_FALSE(contains(agent_env, "header-secret-value"));

    for (const char* name : {"MCP_AUTH_CLIENT_SECRET", "MCP_AUTH_IDP_ID_TOKEN",
                             "MCP_AUTH_UNIT_HEADER_SECRET", "MCP_AUTH_UNIT_PLAIN"})
        unsetenv(name);
}

TEST_CASE("spawn: empty stdin, no descriptor leaks but the one passed") {
    TempDir tmp;
    // Opened without close-on-exec, as a library might: the child must still not get it.
    int plain = ::open("/dev/null", O_RDONLY);
    REQUIRE(plain >= 0);
    // Far above 10: the child's /bin/sh saves its own stdout at the lowest free descriptor
    // from 10 for the redirection below, and that is not ours.
    int leaky = fcntl(plain, F_DUPFD, 100);
    ::close(plain);
    REQUIRE(leaky >= 100);
    std::string probe = "cat; for fd in 3 " + std::to_string(leaky) +
                        "; do if [ -e /dev/fd/$fd ]; then echo open:$fd; fi; done";
    std::string seen = run_child(tmp, probe);
    INFO("the child saw: " << seen);
    CHECK(seen.empty());  // stdin had nothing; neither descriptor is open
    ::close(leaky);
}

TEST_CASE("spawn: the child's stdout goes to our stderr (our stdout is JSON-RPC's)") {
    TempDir tmp;
    std::string captured = tmp / "stderr";
    int file = ::open(captured.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(file >= 0);
    int saved = dup(STDERR_FILENO);
    dup2(file, STDERR_FILENO);
    ::close(file);
    std::string done = tmp / "done";
    Lines lines;
    Log log(lines, false);
    bool started = spawn_detached(
        {"/bin/sh", "-c", "echo on-stdout; echo on-stderr >&2; : > \"$1\"", "sh", done}, {}, log);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (started && !std::filesystem::exists(done) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    dup2(saved, STDERR_FILENO);
    ::close(saved);
    REQUIRE(started);
    std::ifstream in(captured);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(text == "on-stdout\non-stderr\n");
}

TEST_CASE("spawn: the child holds the passed lock after we let go of it") {
    TempDir tmp;
    FileLockService locks(tmp / "locks");
    auto lock = locks.open("https://mcp.example.com/mcp", "login");
    REQUIRE(lock);
    REQUIRE((*lock)->try_lock());
    SpawnOptions options;
    options.pass_handle = (*lock)->handle();
    options.new_session = true;
    CHECK(handle_in_child(options.pass_handle) == 3);
    CHECK(handle_in_child(-1) == -1);
    std::string out = tmp / "started";
    Lines lines;
    Log log(lines, false);
    REQUIRE(spawn_detached(
        {"/bin/sh", "-c", "[ -e /dev/fd/3 ] && : > \"$1\"; sleep 0.2", "sh", out}, options, log));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!std::filesystem::exists(out) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    REQUIRE(std::filesystem::exists(out));  // the child has descriptor 3
    (*lock)->release();
    auto other = locks.open("https://mcp.example.com/mcp", "login");
    REQUIRE(other);
    CHECK_FALSE((*other)->try_lock());                     // the child still holds it
    CHECK((*other)->lock(true, std::chrono::seconds(5)));  // and it dies with the child
}

TEST_CASE("spawn: a program that cannot be started is a logged false, not a crash") {
    Lines lines;
    Log log(lines, false);
    CHECK_FALSE(spawn_detached({"/nonexistent/mcp-auth-unit-no-such-program"}, {}, log));
    CHECK(lines.contains("could not start \"/nonexistent/mcp-auth-unit-no-such-program\""));
    CHECK_FALSE(spawn_detached({}, {}, log));
}

TEST_CASE("self_executable: the path this executable was started by") {
    remember_self_executable("ignored-bare-name");
    std::string self = self_executable();
    REQUIRE(!self.empty());
    CHECK(self[0] == '/');
    CHECK(std::filesystem::path(self).filename() == "unit_platform");
    CHECK(access(self.c_str(), X_OK) == 0);
}

#endif  // !_WIN32
