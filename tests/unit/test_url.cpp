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
        CHECK_FALSE(parse_url("https://a:b:443/mcp", &error));
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

TEST_CASE("Url::to_string is the canonical resource form") {
    std::string error;
    CHECK(parse_url("HTTPS://MCP.Example.com:443/mcp", &error)->to_string() ==
          "https://mcp.example.com/mcp");
    CHECK(parse_url("https://mcp.example.com/", &error)->to_string() == "https://mcp.example.com");
    CHECK(parse_url("http://127.0.0.1:8080/a/b?x=1", &error)->to_string() ==
          "http://127.0.0.1:8080/a/b?x=1");
}

TEST_CASE("percent encoding and queries") {
    CHECK(percent_encode("a b&c=d/é") == "a%20b%26c%3Dd%2F%C3%A9");
    CHECK(percent_decode("a+b%20c%2") == "a b c%2");
    CHECK(percent_decode("a+b", false) == "a+b");
    auto q = parse_query("code=abc%2Fd&state=x+y&empty=&flag");
    CHECK(query_value(q, "code") == "abc/d");
    CHECK(query_value(q, "state") == "x y");
    CHECK(query_value(q, "empty") == "");
    CHECK(query_value(q, "flag") == "");
    CHECK_FALSE(query_value(q, "missing"));
    CHECK(append_query("https://x/a", {{"k", "v w"}}) == "https://x/a?k=v%20w");
    CHECK(append_query("https://x/a?t=1", {{"k", "v"}}) == "https://x/a?t=1&k=v");
    CHECK(form_encode({{"a", "1"}, {"b", "x y"}}) == "a=1&b=x%20y");
}

TEST_CASE("Url::display") {
    std::string error;
    CHECK(parse_url("https://mcp.example.com/mcp?api_key=s3cret", &error)->display() ==
          "https://mcp.example.com/mcp?\u2026");
    CHECK(parse_url("https://mcp.example.com:8443/mcp", &error)->display() ==
          "https://mcp.example.com:8443/mcp");
}
