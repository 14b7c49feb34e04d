// default_session_bus (adapters/store/libsecret.cpp): the session bus a trimmed host
// environment leaves out is found at $XDG_RUNTIME_DIR/bus, and used only when the socket
// and its directory are the user's alone.
#include <doctest/doctest.h>

#ifndef _WIN32  // the Secret Service backend's alone
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>

#include "adapters/store/stores.h"

using namespace mcp_auth;

namespace {

// A private directory with a listening-free Unix socket named "bus" in it.
struct RuntimeDir {
    std::string dir;
    RuntimeDir() {
        char tmpl[] = "/tmp/mcp-auth-bus-XXXXXX";
        dir = mkdtemp(tmpl);
    }
    ~RuntimeDir() {
        ::unlink((dir + "/bus").c_str());
        ::rmdir(dir.c_str());
    }
    void add_socket() {
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::string path = dir + "/bus";
        path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
        ::close(fd);
    }
};

EnvLookup env_of(std::map<std::string, std::string> vars) {
    return [vars](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

}  // namespace

TEST_CASE("session bus: an address in the environment is left alone") {
    RuntimeDir rt;
    rt.add_socket();
    std::string note;
    CHECK_FALSE(default_session_bus(
        env_of({{"DBUS_SESSION_BUS_ADDRESS", "unix:path=/x"}, {"XDG_RUNTIME_DIR", rt.dir}}),
        &note));
    CHECK(note.empty());
}

TEST_CASE("session bus: the user's socket in a private runtime directory is the address") {
    RuntimeDir rt;
    rt.add_socket();
    std::string note;
    auto address = default_session_bus(
        env_of({{"DBUS_SESSION_BUS_ADDRESS", ""}, {"XDG_RUNTIME_DIR", rt.dir}}), &note);
    REQUIRE(address);
    CHECK(*address == "unix:path=" + rt.dir + "/bus");
    CHECK(note.empty());
}

TEST_CASE("session bus: no socket, no address and no note") {
    RuntimeDir rt;
    std::string note;
    CHECK_FALSE(default_session_bus(env_of({{"XDG_RUNTIME_DIR", rt.dir}}), &note));
    CHECK(note.empty());
}

TEST_CASE("session bus: a socket in a directory others can write is refused, with a note") {
    RuntimeDir rt;
    rt.add_socket();
    REQUIRE(::chmod(rt.dir.c_str(), 0777) == 0);
    std::string note;
    CHECK_FALSE(default_session_bus(env_of({{"XDG_RUNTIME_DIR", rt.dir}}), &note));
    CHECK(note.find("is not yours alone") != std::string::npos);
    CHECK(note.find("set DBUS_SESSION_BUS_ADDRESS") != std::string::npos);
}

#endif  // !_WIN32
