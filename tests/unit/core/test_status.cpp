#include <doctest/doctest.h>

#include "core/status.h"

using namespace mcp_auth;

namespace {
TokenRecord sample() {
    TokenRecord r;
    r.server = "https://mcp.example.com/mcp";
    r.issuer = "https://idp.example.com";
    r.client_id = "abc";
    r.grant = Grant::AuthorizationCode;
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
    r.grant = Grant::ClientCredentials;
    CHECK(login_usable(r, 5000));
    CHECK(status_text({r}, 5000, "x").find("expired") == std::string::npos);
    // An enterprise (ID-JAG) login is asked again by the relay: not "run mcp-auth login".
    r.grant = Grant::JwtBearer;
    CHECK(login_usable(r, 5000));
    CHECK(status_text({r}, 5000, "x").find("run `mcp-auth login") == std::string::npos);
}

TEST_CASE("terminal_safe: one line, no control characters, printable text kept") {
    CHECK(terminal_safe("dev@example.com (Ünïcødé ✓)") == "dev@example.com (Ünïcødé ✓)");
    CHECK(terminal_safe("alice\n\x1b[31mmcp-auth: Logged in as admin") ==
          "alice\\n\\x1b[31mmcp-auth: Logged in as admin");
    CHECK(terminal_safe("a\r\tb\x7f\x01") == "a\\r\\tb\\x7f\\x01");
    CHECK(terminal_safe(std::string("nul\0here", 8)) == "nul\\x00here");
    // C1 controls (U+009B is CSI), bidi overrides and isolates, line/paragraph separators.
    CHECK(terminal_safe("\xc2\x9b"
                        "2J") == "\\u009b2J");
    CHECK(terminal_safe("abc\u202edef\u2066x\u2069\u2028\u2029\u200f") ==
          "abc\\u202edef\\u2066x\\u2069\\u2028\\u2029\\u200f");
    // Bytes that are not UTF-8: a stray continuation, a truncated sequence, an overlong '/'.
    CHECK(terminal_safe("\x80x") == "\\x80x");
    CHECK(terminal_safe("\xe2\x80") == "\\xe2\\x80");
    CHECK(terminal_safe("\xc0\xaf") == "\\xc0\\xaf");
    CHECK(terminal_safe("\xed\xa0\x80") == "\\xed\\xa0\\x80");  // a UTF-16 surrogate
}

TEST_CASE("status_text escapes what servers sent and hides the server URL's query") {
    TokenRecord r = sample();
    r.identity = "alice\n  \x1b[32m\u2713 Logged in as admin";
    r.issuer = "https://idp.example.com\r\n";
    r.server = "https://mcp.example.com/mcp?api_key=SECRET-KEY";
    std::string text = status_text({r}, 1000, "the file store");
    CHECK(text.find('\x1b') == std::string::npos);
    CHECK(text.find('\r') == std::string::npos);
    CHECK(text.find("Logged in as alice\\n  \\x1b[32m") != std::string::npos);
    CHECK(text.find("SECRET-KEY") == std::string::npos);
    CHECK(status_json({r}, 1000, "file", "f").dump().find("SECRET-KEY") == std::string::npos);
}
