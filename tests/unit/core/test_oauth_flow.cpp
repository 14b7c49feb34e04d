#include <doctest/doctest.h>

#include "core/crypto.h"
#include "core/oauth_flow.h"

using namespace mcp_auth;
using namespace mcp_auth::oauth;

namespace {
ServerMetadata server(bool iss_supported = true) {
    ServerMetadata m;
    m.issuer = "https://idp.example.com";
    m.authorization_endpoint = "https://idp.example.com/authorize?tenant=1";
    m.token_endpoint = "https://idp.example.com/token";
    m.iss_parameter_supported = iss_supported;
    m.scopes_supported = {"openid", "search", "offline_access"};
    return m;
}

AuthorizationRequest request(bool iss_supported = true) {
    return make_authorization_request(server(iss_supported), "client-1",
                                      "http://127.0.0.1:5000/callback", "search",
                                      "https://mcp.example.com/mcp", "STATE", "VERIFIER");
}
}  // namespace

TEST_CASE("scopes") {
    CHECK(split_scopes("  a b  a c ") == std::vector<std::string>{"a", "b", "c"});
    CHECK(scope_union("a b", "b c") == "a b c");
    CHECK(missing_scopes("search extract", "openid search") == std::vector<std::string>{"extract"});
    SUBCASE("initial_scope: override, then challenge, then PRM, offline_access only when listed") {
        CHECK(initial_scope("x", "y", {"z"}, server()) == "x offline_access");
        CHECK(initial_scope("", "y", {"z"}, server()) == "y offline_access");
        CHECK(initial_scope("", "", {"z", "w"}, server()) == "z w offline_access");
        CHECK(initial_scope("", "", {}, server()) == "");
        ServerMetadata cognito = server();
        cognito.scopes_supported = {"openid", "tavily-mcp/search"};
        CHECK(initial_scope("openid tavily-mcp/search", "", {}, cognito) ==
              "openid tavily-mcp/search");
    }
}

TEST_CASE("make_authorization_request") {
    auto req = request();
    auto q = parse_query(req.url.substr(req.url.find('?') + 1));
    CHECK(req.url.rfind("https://idp.example.com/authorize?tenant=1&", 0) == 0);
    CHECK(query_value(q, "response_type") == "code");
    CHECK(query_value(q, "client_id") == "client-1");
    CHECK(query_value(q, "redirect_uri") == "http://127.0.0.1:5000/callback");
    CHECK(query_value(q, "state") == "STATE");
    CHECK(query_value(q, "code_challenge") == pkce_challenge_s256("VERIFIER"));
    CHECK(query_value(q, "code_challenge_method") == "S256");
    CHECK(query_value(q, "resource") == "https://mcp.example.com/mcp");
    CHECK(query_value(q, "scope") == "search");
    CHECK(req.issuer == "https://idp.example.com");
    auto no_resource =
        make_authorization_request(server(), "c", "http://127.0.0.1:1/callback", "", "", "s", "v");
    CHECK_FALSE(query_value(parse_query(no_resource.url.substr(no_resource.url.find('?') + 1)),
                            "resource"));
}

TEST_CASE("check_callback: RFC 9207 and state") {
    auto req = request();
    QueryParams good = {{"code", "C"}, {"state", "STATE"}, {"iss", "https://idp.example.com"}};
    REQUIRE(check_callback(good, req));
    CHECK(*check_callback(good, req) == "C");
    SUBCASE("state mismatch") {
        auto r = check_callback(
            {{"code", "C"}, {"state", "OTHER"}, {"iss", "https://idp.example.com"}}, req);
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find("state") != std::string::npos);
        CHECK_FALSE(check_callback({{"code", "C"}, {"iss", "https://idp.example.com"}}, req));
    }
    SUBCASE("iss compared as a plain string, never normalized") {
        CHECK_FALSE(check_callback(
            {{"code", "C"}, {"state", "STATE"}, {"iss", "https://idp.example.com/"}}, req));
        CHECK_FALSE(check_callback(
            {{"code", "C"}, {"state", "STATE"}, {"iss", "https://IDP.example.com"}}, req));
    }
    SUBCASE("iss missing: refused only when the server promised it") {
        CHECK_FALSE(check_callback({{"code", "C"}, {"state", "STATE"}}, req));
        CHECK(check_callback({{"code", "C"}, {"state", "STATE"}}, request(false)));
        CHECK_FALSE(check_callback({{"code", "C"}, {"state", "STATE"}, {"iss", "https://evil"}},
                                   request(false)));
    }
    SUBCASE("an error with a mismatched iss never shows the attacker's description") {
        auto r = check_callback({{"error", "access_denied"},
                                 {"error_description", "CALL 555-EVIL"},
                                 {"state", "STATE"},
                                 {"iss", "https://evil"}},
                                req);
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find("555-EVIL") == std::string::npos);
    }
    SUBCASE("a genuine error is reported") {
        auto r = check_callback(
            {{"error", "access_denied"}, {"state", "STATE"}, {"iss", "https://idp.example.com"}},
            req);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == "access_denied");
    }
}

TEST_CASE("token endpoint forms") {
    auto req = request();
    auto form = code_exchange_form("C", req, "client-1", "https://mcp.example.com/mcp");
    CHECK(query_value(form, "grant_type") == "authorization_code");
    CHECK(query_value(form, "code_verifier") == "VERIFIER");
    CHECK(query_value(form, "redirect_uri") == req.redirect_uri);
    CHECK(query_value(form, "resource") == "https://mcp.example.com/mcp");
    auto refresh = refresh_form("RT", "client-1", "https://mcp.example.com/mcp");
    CHECK(query_value(refresh, "grant_type") == "refresh_token");
    CHECK_FALSE(query_value(refresh, "scope"));  // never re-request scope on refresh
    CHECK(query_value(refresh, "resource") == "https://mcp.example.com/mcp");
    CHECK_FALSE(query_value(refresh_form("RT", "c", ""), "resource"));
    CHECK(query_value(client_credentials_form("search", ""), "scope") == "search");
}

TEST_CASE("parse_token_response") {
    auto ok = parse_token_response(
        200,
        R"({"access_token":"AT","token_type":"Bearer","expires_in":300,"refresh_token":"RT","scope":"search"})",
        1000);
    REQUIRE(ok);
    CHECK(ok->expires_at == 1300);
    CHECK(ok->refresh_token == "RT");
    auto refused = parse_token_response(
        400, R"({"error":"invalid_grant","error_description":"grant expired"})", 0);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == "invalid_grant");
    CHECK(refused.error().kind == ErrorKind::Auth);
    CHECK_FALSE(parse_token_response(200, R"({"token_type":"Bearer"})", 0));
    auto huge = parse_token_response(200, R"({"access_token":"x","expires_in":1e300})", 1000);
    REQUIRE(huge);
    CHECK(huge->expires_at > 1000);
    CHECK_FALSE(parse_token_response(200, R"({"access_token":"x","token_type":"DPoP"})", 0));
    CHECK_FALSE(parse_token_response(200, "<html>", 0));
    CHECK(parse_token_response(502, "Bad gateway", 0).error().kind == ErrorKind::Network);
}

TEST_CASE("registration") {
    auto req = registration_request("http://127.0.0.1:5000/callback");
    CHECK_FALSE(req.contains("scope"));
    CHECK(req["application_type"] == "native");
    CHECK(req["token_endpoint_auth_method"] == "none");
    CHECK(req["redirect_uris"][0] == "http://127.0.0.1:5000/callback");
    auto ok = parse_registration_response(201, R"({"client_id":"abc"})");
    REQUIRE(ok);
    CHECK(ok->client_id == "abc");
    auto refused = parse_registration_response(400, R"({"error":"invalid_redirect_uri"})");
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message.find("invalid_redirect_uri") != std::string::npos);
}

TEST_CASE("callback_page escapes what it echoes") {
    auto page = callback_page(false, "<script>alert('x')</script>");
    CHECK(page.find("<script>") == std::string::npos);
    CHECK(page.find("&lt;script&gt;") != std::string::npos);
    CHECK(page.find("close this tab") != std::string::npos);
    CHECK(callback_page(true, "ok").find("Login complete") != std::string::npos);
}

TEST_CASE("choose_client_auth") {
    CHECK(choose_client_auth(false, false, "", {}) == ClientAuth::None);
    CHECK(choose_client_auth(true, false, "", {}) == ClientAuth::SecretBasic);
    CHECK(choose_client_auth(true, false, "", {"client_secret_post"}) == ClientAuth::SecretPost);
    CHECK(choose_client_auth(true, false, "", {"client_secret_post", "client_secret_basic"}) ==
          ClientAuth::SecretBasic);
    CHECK(choose_client_auth(true, false, "client_secret_post", {}) == ClientAuth::SecretPost);
    CHECK(choose_client_auth(true, true, "", {}) == ClientAuth::PrivateKeyJwt);
    CHECK(choose_client_auth(false, true, "", {}) == ClientAuth::PrivateKeyJwt);
}

TEST_CASE("constant_time_equals") {
    CHECK(constant_time_equals("", ""));
    CHECK(constant_time_equals("STATE-abc", "STATE-abc"));
    CHECK_FALSE(constant_time_equals("STATE-abc", "STATE-abd"));
    CHECK_FALSE(constant_time_equals("STATE-abc", "STATE-ab"));
    CHECK_FALSE(constant_time_equals("", "x"));
    CHECK_FALSE(constant_time_equals(std::string("a\0b", 3), std::string("a\0c", 3)));
}
