#include <doctest/doctest.h>

#include "mcp_auth/url.h"

using namespace mcp_auth;

TEST_CASE("parse_url") {
    std::string error;
    SUBCASE("https with default port and path") {
        auto u = parse_url("https://MCP.Example.com/mcp?x=1", &error);
        REQUIRE(u);
        CHECK(u->scheme == "https");
        CHECK(u->host == "mcp.example.com");
        CHECK(u->port == 443);
        CHECK(u->target == "/mcp?x=1");
        CHECK(u->origin() == "https://mcp.example.com:443");
    }
    SUBCASE("explicit port, no path") {
        auto u = parse_url("http://127.0.0.1:8080", &error);
        REQUIRE(u);
        CHECK(u->port == 8080);
        CHECK(u->target == "/");
    }
    SUBCASE("IPv6 literal") {
        auto u = parse_url("http://[::1]:3000/mcp", &error);
        REQUIRE(u);
        CHECK(u->host == "[::1]");
        CHECK(u->port == 3000);
    }
    SUBCASE("rejections say why") {
        CHECK_FALSE(parse_url("ftp://x/y", &error));
        CHECK(error.find("ftp") != std::string::npos);
        CHECK_FALSE(parse_url("mcp.example.com/mcp", &error));
        CHECK_FALSE(parse_url("https://user:pw@host/", &error));
        CHECK(error.find("credentials") != std::string::npos);
        CHECK_FALSE(parse_url("https://host:99999/", &error));
        CHECK_FALSE(parse_url("https://host/a#frag", &error));
        CHECK_FALSE(parse_url("https:///path", &error));
    }
}

TEST_CASE("is_loopback_host") {
    CHECK(is_loopback_host("localhost"));
    CHECK(is_loopback_host("LOCALHOST"));
    CHECK(is_loopback_host("app.localhost"));
    CHECK(is_loopback_host("127.0.0.1"));
    CHECK(is_loopback_host("127.10.20.30"));
    CHECK(is_loopback_host("[::1]"));
    CHECK_FALSE(is_loopback_host("127.0.0.1.evil.com"));
    CHECK_FALSE(is_loopback_host("128.0.0.1"));
    CHECK_FALSE(is_loopback_host("localhost.evil.com"));
    CHECK_FALSE(is_loopback_host("10.0.0.1"));
    CHECK_FALSE(is_loopback_host("127.0.0.256"));
}

TEST_CASE("check_url_policy") {
    std::string error;
    CHECK(check_url_policy(*parse_url("https://mcp.example.com/mcp", &error), false).empty());
    CHECK(check_url_policy(*parse_url("http://localhost:3000/mcp", &error), false).empty());
    auto refusal = check_url_policy(*parse_url("http://mcp.example.com/mcp", &error), false);
    CHECK(refusal.find("--allow-http") != std::string::npos);
    CHECK(check_url_policy(*parse_url("http://mcp.example.com/mcp", &error), true).empty());
}
