#include <doctest/doctest.h>

#include "core/base64.h"
#include "core/jwt.h"

using namespace mcp_auth;

TEST_CASE("jwt_claims") {
    std::string payload = R"({"sub":"dev-1","email":"dev@example.com","scope":"search"})";
    std::string token =
        base64url_encode(R"({"alg":"RS256"})") + "." + base64url_encode(payload) + ".sig";
    auto claims = jwt_claims(token);
    REQUIRE(claims);
    CHECK((*claims)["sub"] == "dev-1");
    CHECK(identity_from_claims(*claims) == "dev@example.com");
    CHECK_FALSE(jwt_claims("opaque-token"));
    CHECK_FALSE(jwt_claims("a.b"));
    CHECK_FALSE(jwt_claims("a.b.c.d"));
    CHECK_FALSE(jwt_claims("x." + base64url_encode("not json") + ".y"));
}

TEST_CASE("identity_from_claims prefers email, then usernames, then sub, then client_id") {
    using nlohmann::json;
    CHECK(identity_from_claims(json{{"sub", "s"}, {"username", "u"}}) == "u");
    CHECK(identity_from_claims(
              json{{"sub", "s"}, {"preferred_username", "p"}, {"username", "u"}}) == "p");
    CHECK(identity_from_claims(json{{"sub", "s"}}) == "s");
    CHECK(identity_from_claims(json{{"client_id", "machine-agent"}}) == "machine-agent");
    CHECK(identity_from_claims(json{{"email", ""}, {"sub", "s"}}) == "s");
    CHECK(identity_from_claims(json::object()) == "");
}
