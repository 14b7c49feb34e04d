#include <doctest/doctest.h>

#include "core/oauth_discovery.h"

using namespace mcp_auth;
using namespace mcp_auth::oauth;

namespace {
Url url_of(const char* text) {
    return *parse_url(text);
}
}  // namespace

TEST_CASE("resource_metadata_urls: header first, else path-inserted then root") {
    auto server = url_of("https://example.com/public/mcp");
    CHECK(resource_metadata_urls(server, "https://example.com/prm") ==
          std::vector<std::string>{"https://example.com/prm"});
    CHECK(resource_metadata_urls(server, "") ==
          std::vector<std::string>{
              "https://example.com/.well-known/oauth-protected-resource/public/mcp",
              "https://example.com/.well-known/oauth-protected-resource"});
    CHECK(resource_metadata_urls(url_of("https://example.com/"), "") ==
          std::vector<std::string>{"https://example.com/.well-known/oauth-protected-resource"});
    CHECK(resource_metadata_urls(url_of("http://127.0.0.1:8080/mcp"), "")[0] ==
          "http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp");
}

TEST_CASE("server_metadata_urls: the MCP order") {
    CHECK(server_metadata_urls("https://auth.example.com/tenant1") ==
          std::vector<std::string>{
              "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
              "https://auth.example.com/.well-known/openid-configuration/tenant1",
              "https://auth.example.com/tenant1/.well-known/openid-configuration"});
    CHECK(
        server_metadata_urls("https://auth.example.com") ==
        std::vector<std::string>{"https://auth.example.com/.well-known/oauth-authorization-server",
                                 "https://auth.example.com/.well-known/openid-configuration"});
}

TEST_CASE("parse_resource_metadata") {
    auto server = url_of("https://mcp.example.com/mcp");
    auto ok = parse_resource_metadata(
        R"({"resource":"https://mcp.example.com/mcp","authorization_servers":["https://idp.example.com"],"scopes_supported":["search"]})",
        server);
    REQUIRE(ok);
    CHECK(ok->authorization_servers[0] == "https://idp.example.com");
    CHECK(ok->scopes_supported == std::vector<std::string>{"search"});
    SUBCASE("a parent resource covers the server") {
        CHECK(parse_resource_metadata(
            R"({"resource":"https://MCP.example.com","authorization_servers":["x"]})", server));
    }
    SUBCASE("another server is refused") {
        auto other = parse_resource_metadata(
            R"({"resource":"https://evil.example.com/mcp","authorization_servers":["https://idp"]})",
            server);
        REQUIRE_FALSE(other);
        CHECK(other.error().message.find("evil.example.com") != std::string::npos);
        CHECK_FALSE(parse_resource_metadata(
            R"({"resource":"https://mcp.example.com/other","authorization_servers":["x"]})",
            server));
        CHECK_FALSE(parse_resource_metadata(
            R"({"resource":"https://mcp.example.com/mcpx","authorization_servers":["x"]})",
            server));
    }
    SUBCASE("malformed documents") {
        CHECK_FALSE(parse_resource_metadata("[]", server));
        CHECK_FALSE(parse_resource_metadata("{}", server));
        CHECK_FALSE(
            parse_resource_metadata(R"({"resource":"https://mcp.example.com/mcp"})", server));
        CHECK_FALSE(
            parse_resource_metadata(R"({"resource":42,"authorization_servers":["x"]})", server));
    }
}

TEST_CASE("parse_server_metadata") {
    std::string good =
        R"({"issuer":"https://idp.example.com","authorization_endpoint":"https://idp.example.com/auth",
        "token_endpoint":"https://idp.example.com/token","registration_endpoint":"https://idp.example.com/reg",
        "code_challenge_methods_supported":["S256"],"authorization_response_iss_parameter_supported":true,
        "scopes_supported":["openid","offline_access"]})";
    auto meta = parse_server_metadata(good, "https://idp.example.com", false);
    REQUIRE(meta);
    CHECK(meta->iss_parameter_supported);
    CHECK(meta->s256_listed);
    CHECK(meta->registration_endpoint == "https://idp.example.com/reg");
    SUBCASE("the issuer must be identical") {
        auto m = parse_server_metadata(good, "https://idp.example.com/", false);
        REQUIRE_FALSE(m);
        CHECK(m.error().message.find("8414") != std::string::npos);
    }
    SUBCASE("no S256: refused when discovered, accepted when configured and the list is absent") {
        std::string none =
            R"({"issuer":"https://idp","authorization_endpoint":"https://idp/a","token_endpoint":"https://idp/t"})";
        CHECK_FALSE(parse_server_metadata(none, "https://idp", false));
        auto configured = parse_server_metadata(none, "https://idp", true);
        REQUIRE(configured);
        CHECK_FALSE(configured->s256_listed);
        std::string plain_only =
            R"({"issuer":"https://idp","authorization_endpoint":"https://idp/a",
            "token_endpoint":"https://idp/t","code_challenge_methods_supported":["plain"]})";
        CHECK_FALSE(parse_server_metadata(plain_only, "https://idp", true));
    }
    SUBCASE("hostile endpoints") {
        std::string js = R"J({"issuer":"https://idp","authorization_endpoint":"javascript:alert(1)",
            "token_endpoint":"https://idp/t","code_challenge_methods_supported":["S256"]})J";
        CHECK_FALSE(parse_server_metadata(js, "https://idp", false));
        std::string http = R"({"issuer":"https://idp","authorization_endpoint":"https://idp/a",
            "token_endpoint":"http://idp.example.com/t","code_challenge_methods_supported":["S256"]})";
        CHECK_FALSE(parse_server_metadata(http, "https://idp", false));
        std::string loopback =
            R"({"issuer":"http://127.0.0.1:9000","authorization_endpoint":"http://127.0.0.1:9000/a",
            "token_endpoint":"http://127.0.0.1:9000/t","code_challenge_methods_supported":["S256"]})";
        CHECK(parse_server_metadata(loopback, "http://127.0.0.1:9000", false));
    }
}

TEST_CASE("check_endpoint: URLs a server names stay within the trust of the URL the user named") {
    Url remote = url_of("https://mcp.example.com/mcp");
    Url local = url_of("http://127.0.0.1:8080/mcp");
    CHECK(check_endpoint("https://as.example.com/token", remote, false, "token endpoint"));
    for (const char* bad :
         {"http://127.0.0.1:6379/", "https://127.0.0.1/token", "https://localhost/t",
          "http://as.example.com/token", "https://169.254.169.254/latest",
          "http://169.254.169.254/latest/meta-data/"}) {
        CAPTURE(bad);
        auto ok = check_endpoint(bad, remote, false, "token endpoint");
        REQUIRE_FALSE(ok);
        CHECK(ok.error().message.find("token endpoint") != std::string::npos);
    }
    // --allow-http lets plain http through, never loopback from a remote server.
    CHECK(check_endpoint("http://as.example.com/token", remote, true, "token endpoint"));
    CHECK_FALSE(check_endpoint("http://127.0.0.1:6379/", remote, true, "token endpoint"));
    // A loopback server may name loopback endpoints; never link-local.
    CHECK(check_endpoint("http://127.0.0.1:9000/token", local, false, "token endpoint"));
    CHECK_FALSE(check_endpoint("http://169.254.169.254/", local, false, "token endpoint"));
    CHECK_FALSE(check_endpoint("not a url", remote, false, "token endpoint"));
}

TEST_CASE("parse_server_metadata judges every endpoint against the anchor") {
    Url remote = url_of("https://mcp.example.com/mcp");
    auto doc = [](const std::string& field, const std::string& value) {
        std::string d =
            R"({"issuer":"https://as.example.com","authorization_endpoint":"https://as.example.com/a",
            "token_endpoint":"https://as.example.com/t","code_challenge_methods_supported":["S256"])";
        if (!field.empty()) d += ",\"" + field + "\":\"" + value + "\"";
        return d + "}";
    };
    CHECK(parse_server_metadata(doc("", ""), "https://as.example.com", false, remote, false));
    for (const char* field :
         {"token_endpoint", "registration_endpoint", "revocation_endpoint",
          "authorization_endpoint", "jwks_uri", "device_authorization_endpoint"}) {
        CAPTURE(field);
        CHECK_FALSE(parse_server_metadata(doc(field, "http://127.0.0.1:6379/"),
                                          "https://as.example.com", false, remote, false));
        CHECK_FALSE(parse_server_metadata(doc(field, "http://as.example.com/x"),
                                          "https://as.example.com", false, remote, false));
    }
    // The three-argument form anchors on the issuer itself.
    CHECK_FALSE(parse_server_metadata(doc("token_endpoint", "http://127.0.0.1:1/t"),
                                      "https://as.example.com", true));
}
