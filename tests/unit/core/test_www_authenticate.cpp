#include <doctest/doctest.h>

#include "core/www_authenticate.h"

using namespace mcp_auth;

TEST_CASE("parse_www_authenticate") {
    SUBCASE("a Bearer challenge with quoted parameters (RFC 9728 §5.1)") {
        auto c = parse_www_authenticate(
            R"(Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="search read")");
        REQUIRE(c.size() == 1);
        CHECK(c[0].scheme == "bearer");
        CHECK(c[0].param("resource_metadata") ==
              "https://mcp.example.com/.well-known/oauth-protected-resource/mcp");
        CHECK(c[0].param("scope") == "search read");
    }
    SUBCASE("insufficient_scope (RFC 6750 §3)") {
        auto c = find_bearer_challenge(
            R"(Bearer error="insufficient_scope", scope="extract", error_description="needs \"extract\"")");
        REQUIRE(c);
        CHECK(c->param("error") == "insufficient_scope");
        CHECK(c->param("scope") == "extract");
        CHECK(c->param("error_description") == "needs \"extract\"");
    }
    SUBCASE("several challenges, token values, odd spacing and case") {
        auto c = parse_www_authenticate(
            R"(Basic realm="x", BEARER realm = mcp ,error=invalid_token, Negotiate abc123==)");
        REQUIRE(c.size() == 3);
        CHECK(c[0].scheme == "basic");
        CHECK(c[0].param("realm") == "x");
        CHECK(c[1].scheme == "bearer");
        CHECK(c[1].param("realm") == "mcp");
        CHECK(c[1].param("error") == "invalid_token");
        CHECK(c[2].scheme == "negotiate");
        CHECK(c[2].token68 == "abc123==");
    }
    SUBCASE("a bare scheme") {
        auto c = find_bearer_challenge("Bearer");
        REQUIRE(c);
        CHECK(c->params.empty());
    }
    SUBCASE("junk never throws and finds nothing usable") {
        CHECK_FALSE(find_bearer_challenge(""));
        CHECK_FALSE(find_bearer_challenge(",,,"));
        auto c = find_bearer_challenge(R"(Bearer realm="unterminated)");
        REQUIRE(c);
        CHECK(c->param("realm") == "");
        CHECK(parse_www_authenticate("@@@ ===").size() <= 1);
    }
}
