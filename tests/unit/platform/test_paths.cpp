// platform/paths.h: where mcp-auth keeps its state, from the environment it is given.
#include <doctest/doctest.h>

#include <map>

#include "platform/paths.h"

using namespace mcp_auth;

namespace {

EnvLookup env_of(std::map<std::string, std::string> values) {
    return [values](const std::string& name) -> std::optional<std::string> {
        auto it = values.find(name);
        if (it == values.end()) return std::nullopt;
        return it->second;
    };
}

}  // namespace

#ifndef _WIN32
TEST_CASE("state_directory: XDG_STATE_HOME, else HOME/.local/state; only absolute paths") {
    CHECK(state_directory(env_of({{"XDG_STATE_HOME", "/x/state"}, {"HOME", "/home/u"}})) ==
          "/x/state/mcp-auth");
    CHECK(state_directory(env_of({{"HOME", "/home/u"}})) == "/home/u/.local/state/mcp-auth");
    // Relative or empty values are ignored, as the XDG Base Directory spec asks.
    CHECK(state_directory(env_of({{"XDG_STATE_HOME", "state"}, {"HOME", "/home/u"}})) ==
          "/home/u/.local/state/mcp-auth");
    CHECK(state_directory(env_of({{"XDG_STATE_HOME", ""}, {"HOME", "/home/u"}})) ==
          "/home/u/.local/state/mcp-auth");
}

TEST_CASE("state_directory: nothing absolute known: \"\", never the working directory") {
    CHECK(state_directory(env_of({})).empty());
    CHECK(state_directory(env_of({{"HOME", ""}})).empty());
    CHECK(state_directory(env_of({{"HOME", "."}, {"XDG_STATE_HOME", "relative"}})).empty());
}

#else
TEST_CASE(
    "state_directory (Windows): %USERPROFILE%\\.mcp-auth, outside AppData; only absolute paths") {
    CHECK(state_directory(env_of({{"USERPROFILE", "C:\\Users\\u"}})) == "C:\\Users\\u\\.mcp-auth");
    CHECK(state_directory(env_of({{"USERPROFILE", "D:/profiles/u/"}})) ==
          "D:/profiles/u\\.mcp-auth");
    CHECK(state_directory(env_of({{"USERPROFILE", "\\\\server\\share\\u"}})) ==
          "\\\\server\\share\\u\\.mcp-auth");
    CHECK(state_directory(env_of({{"USERPROFILE", "C:\\"}})) == "C:\\.mcp-auth");
    // AppData is redirected inside an MSIX package (win32/paths.cpp): never used. HOME and
    // XDG_STATE_HOME mean nothing here; relative, drive-relative or rooted values depend on
    // the current drive or directory and are ignored.
    CHECK(state_directory(env_of({{"LOCALAPPDATA", "C:\\Users\\u\\AppData\\Local"}})).empty());
    CHECK(state_directory(env_of({{"HOME", "C:\\Users\\u"}})).empty());
    for (const char* bad : {"", "relative", "C:relative", "\\rooted", "\\\\"})
        CHECK(state_directory(env_of({{"USERPROFILE", bad}})).empty());
}
#endif
