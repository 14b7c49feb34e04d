#include <doctest/doctest.h>

#include "core/credentials.h"

using namespace mcp_auth;

TEST_CASE("TokenRecord round-trips through JSON") {
    TokenRecord r;
    r.server = "https://mcp.example.com/mcp";
    r.issuer = "https://idp.example.com";
    r.client_id = "abc";
    r.grant = Grant::AuthorizationCode;
    r.access_token = "at";
    r.refresh_token = "rt";
    r.scope = "search";
    r.requested_scope = "search extract";
    r.identity = "dev@example.com";
    r.expires_at = 2000;
    r.obtained_at = 1000;
    r.token_endpoint = "https://idp.example.com/token";
    r.resource = r.server;
    auto back = TokenRecord::from_json(r.to_json().dump());
    REQUIRE(back);
    CHECK(back->to_json() == r.to_json());
    CHECK(back->key() == StoreKey{{"kind", "token"}, {"server", r.server}, {"issuer", r.issuer}});
    CHECK_FALSE(TokenRecord::from_json("{}"));
    CHECK_FALSE(TokenRecord::from_json("garbage"));
}

TEST_CASE("TokenRecord::fresh and refresh_margin") {
    TokenRecord r;
    r.access_token = "at";
    r.obtained_at = 1000;
    r.expires_at = 1005;  // a 5-second token refreshes with 2 seconds left
    CHECK(refresh_margin(r) == 2);
    CHECK(r.fresh(1002, refresh_margin(r)));
    CHECK_FALSE(r.fresh(1003, refresh_margin(r)));
    r.expires_at = 1000 + 3600;  // an hour-long one a minute before
    CHECK(refresh_margin(r) == 60);
    r.expires_at = 0;  // unknown lifetime: used until the server refuses it
    CHECK(r.fresh(999999, 60));
}

TEST_CASE("ClientRecord round-trips; keys are per issuer") {
    ClientRecord c{"https://idp", "id", "", "http://127.0.0.1:1234/callback", "none"};
    auto back = ClientRecord::from_json(c.to_json().dump());
    REQUIRE(back);
    CHECK(back->client_id == "id");
    CHECK(back->auth_method == "none");
    CHECK(ClientRecord::key("https://a") != ClientRecord::key("https://b"));
}

TEST_CASE("encode_store_key and decode_store_key") {
    StoreKey key{{"kind", "token"}, {"server", "https://x/a;b=c%d"}, {"issuer", "https://i"}};
    auto text = encode_store_key(key);
    CHECK(text.find("a;b") == std::string::npos);
    auto back = decode_store_key(text);
    REQUIRE(back);
    CHECK(*back == key);
    CHECK_FALSE(decode_store_key("no-equals-sign"));
}

TEST_CASE("key_matches") {
    StoreKey key{{"kind", "token"}, {"server", "s"}, {"issuer", "i"}};
    CHECK(key_matches(key, {{"kind", "token"}}));
    CHECK(key_matches(key, {}));
    CHECK_FALSE(key_matches(key, {{"kind", "client"}}));
    CHECK_FALSE(key_matches(key, {{"other", "x"}}));
}

TEST_CASE("TokenRecord::from_json clamps hostile times") {
    auto r = TokenRecord::from_json(
        R"({"server":"s","access_token":"a","expires_at":1e300,"obtained_at":-9.3e18})");
    REQUIRE(r);
    CHECK(r->expires_at == 253402300799LL);
    CHECK(r->obtained_at == 0);
    CHECK(r->fresh(1000, refresh_margin(*r)));
}

TEST_CASE("json_text never throws on invalid UTF-8, and a record stays readable") {
    TokenRecord r;
    r.server = "https://mcp.example.com/\xff\xfe";  // what an unchecked URL could hold
    r.access_token = "a";
    r.refresh_token = "r";
    std::string text;
    CHECK_NOTHROW(text = json_text(r.to_json()));
    auto back = TokenRecord::from_json(text);
    REQUIRE(back);
    CHECK(back->refresh_token == "r");  // the tokens survive; the bad bytes became U+FFFD
    CHECK(back->server.find("\xef\xbf\xbd") != std::string::npos);
}

TEST_CASE("stored records nested too deep are refused, not walked") {
    std::string deep = R"({"server":"s","access_token":"a","x":)" + std::string(100000, '[') +
                       std::string(100000, ']') + "}";
    CHECK_FALSE(TokenRecord::from_json(deep));
    CHECK_FALSE(ClientRecord::from_json(deep));
}

TEST_CASE("issuer_pin_key is per client id, apart from tokens and registrations") {
    StoreKey pin = issuer_pin_key("abc");
    CHECK(pin.at("kind") == "issuer-pin");
    CHECK(pin.at("client") == "abc");
    CHECK(pin != ClientRecord::key("abc"));
    CHECK_FALSE(key_matches(pin, {{"kind", "token"}}));
}

TEST_CASE("grant and client authentication names round-trip, unknown names are told apart") {
    for (Grant g : {Grant::AuthorizationCode, Grant::ClientCredentials, Grant::JwtBearer})
        CHECK(grant_from_name(grant_name(g)) == g);
    CHECK(grant_name(Grant::JwtBearer) == "urn:ietf:params:oauth:grant-type:jwt-bearer");
    CHECK_FALSE(grant_from_name("password").has_value());
    CHECK(renews_by_itself(Grant::JwtBearer));
    CHECK(renews_by_itself(Grant::ClientCredentials));
    CHECK_FALSE(renews_by_itself(Grant::AuthorizationCode));
    for (ClientAuth m : {ClientAuth::None, ClientAuth::SecretBasic, ClientAuth::SecretPost,
                         ClientAuth::PrivateKeyJwt})
        CHECK(client_auth_from_name(client_auth_name(m)) == m);
    CHECK_FALSE(client_auth_from_name("tls_client_auth").has_value());

    // A record stored before the client_auth field: the method stays unknown (guessed
    // later from whether there is a secret), not "none".
    TokenRecord r;
    r.server = "https://mcp.example/mcp";
    r.access_token = "at";
    auto doc = r.to_json();
    doc.erase("client_auth");
    auto old = TokenRecord::from_json(doc.dump());
    REQUIRE(old.has_value());
    CHECK_FALSE(old->client_auth.has_value());
}
