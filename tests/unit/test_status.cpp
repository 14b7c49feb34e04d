#include <doctest/doctest.h>

#include "mcp_auth/status.h"

using namespace mcp_auth;

namespace {
TokenRecord sample() {
    TokenRecord r;
    r.server = "https://mcp.example.com/mcp";
    r.issuer = "https://idp.example.com";
    r.client_id = "abc";
    r.grant = "authorization_code";
    r.access_token = "SECRET-ACCESS";
    r.refresh_token = "SECRET-REFRESH";
    r.scope = "openid tavily-mcp/search";
    r.identity = "dev@example.com";
    r.obtained_at = 1000;
    r.expires_at = 4600;
    return r;
}
}  // namespace

TEST_CASE("relative_time") {
    CHECK(relative_time(1300, 1000) == "in 5 minutes");
    CHECK(relative_time(1000, 1300) == "5 minutes ago");
    CHECK(relative_time(1001, 1000) == "in 1 second");
    CHECK(relative_time(1000 + 7200, 1000) == "in 2 hours");
    CHECK(relative_time(1000 + 3 * 86400, 1000) == "in 3 days");
}

TEST_CASE("status_text shows identity, scopes, expiry, refresh and storage, never a token") {
    auto text = status_text({sample()}, 1000, "Secret Service keychain (libsecret)");
    CHECK(text.find("Logged in as dev@example.com") != std::string::npos);
    CHECK(text.find("openid tavily-mcp/search") != std::string::npos);
    CHECK(text.find("in 1 hour") != std::string::npos);
    CHECK(text.find("Refresh token: yes") != std::string::npos);
    CHECK(text.find("libsecret") != std::string::npos);
    CHECK(text.find("SECRET") == std::string::npos);
}

TEST_CASE("status_json and login_usable") {
    auto r = sample();
    auto doc = status_json({r}, 5000, "keychain", "x");
    REQUIRE(doc.size() == 1);
    CHECK(doc[0]["identity"] == "dev@example.com");
    CHECK(doc[0]["scopes"] == nlohmann::json::array({"openid", "tavily-mcp/search"}));
    CHECK(doc[0]["valid"] == true);  // expired, but a refresh token renews it
    CHECK(doc.dump().find("SECRET") == std::string::npos);
    r.refresh_token.clear();
    CHECK_FALSE(login_usable(r, 5000));
    CHECK(login_usable(r, 2000));
    r.grant = "client_credentials";
    CHECK(login_usable(r, 5000));
    CHECK(status_text({r}, 5000, "x").find("expired") == std::string::npos);
}
