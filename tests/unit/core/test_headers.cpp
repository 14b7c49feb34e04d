#include <doctest/doctest.h>

#include <map>

#include "core/headers.h"

using namespace mcp_auth;

namespace {
EnvLookup env_of(std::map<std::string, std::string> vars) {
    return [vars](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}
}  // namespace

TEST_CASE("expand_env") {
    auto env = env_of({{"TOKEN", "abc"}, {"EMPTY", ""}});
    std::string error;
    CHECK(expand_env("Bearer ${TOKEN}", env, &error) == "Bearer abc");
    CHECK(expand_env("${TOKEN}${TOKEN}", env, &error) == "abcabc");
    CHECK(expand_env("x${EMPTY}y", env, &error) == "xy");
    CHECK(expand_env("cost $$5 and $HOME", env, &error) == "cost $5 and $HOME");
    CHECK_FALSE(expand_env("${MISSING}", env, &error));
    CHECK(error == "environment variable MISSING is not set");
    CHECK_FALSE(expand_env("${TOKEN", env, &error));
    CHECK_FALSE(expand_env("${BAD-NAME}", env, &error));
}

TEST_CASE("parse_header") {
    auto env = env_of({{"TOKEN", "s3cret"}, {"EVIL", "a\r\nX-Injected: 1"}});
    std::string error;
    auto h = parse_header("Authorization: Bearer ${TOKEN}", env, &error);
    REQUIRE(h);
    CHECK(h->name == "Authorization");
    CHECK(h->value == "Bearer s3cret");
    auto tight = parse_header("X-A:b", env, &error);
    REQUIRE(tight);
    CHECK(tight->value == "b");
    CHECK_FALSE(parse_header("no colon here", env, &error));
    CHECK_FALSE(parse_header("Bad Name: v", env, &error));
    CHECK_FALSE(parse_header("X-Evil: ${EVIL}", env, &error));
    CHECK(error.find("control characters") != std::string::npos);
    CHECK(error.find("Injected") == std::string::npos);  // never echo a value
}

TEST_CASE("iequals") {
    CHECK(iequals("Mcp-Session-Id", "mcp-session-id"));
    CHECK_FALSE(iequals("Mcp-Session-Id", "mcp-session"));
}
