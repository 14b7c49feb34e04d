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
