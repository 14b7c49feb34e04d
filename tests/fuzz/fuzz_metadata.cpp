// Fuzzes what mcp-auth reads from servers during a login (src/oauth_discovery.cpp,
// src/oauth_flow.cpp, src/jwt.cpp, src/url.cpp, src/credentials.cpp): protected resource
// metadata, authorization server metadata, token and registration replies, JWT claims,
// and the records read back from the keychain.
//
// The input is one JSON document (or anything else a server may answer). Invariants:
//  - PRM: accepted only when it is a JSON object whose "resource" has the server's origin
//    and covers its path, with at least one authorization server; a document whose
//    resource is the server's own URL and lists an authorization server is accepted;
//  - AS metadata: accepted only for the identical issuer, with a token endpoint, every
//    endpoint https or loopback http, S256 listed unless the issuer was configured by
//    hand; what is accepted without --issuer is accepted with it; another issuer is
//    always refused; the discovery URLs built for an issuer stay on its origin;
//  - URLs: a URL that parses prints (to_string) as text that parses to the same URL;
//  - token replies: a success has an access token, a Bearer (or absent) type, and an
//    expiry that is unknown or not before now; a non-200 is never a success, and an
//    error message never repeats the access token;
//  - registration replies: success only for 200/201 with a string client_id, kept as is;
//  - JWT: claims are an object; a token whose payload is the input (base64url) yields
//    exactly the input's object;
//  - stored records: from_json(to_json()) gives the record back; store keys round-trip.
// Token replies and records are also tried with their numeric members (expires_in,
// expires_at, obtained_at) set to extreme values picked by the input's hash.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/credentials.h"
#include "core/jwt.h"
#include "core/oauth_discovery.h"
#include "core/oauth_flow.h"
#include "core/url.h"
#include "fuzz_common.h"

using nlohmann::json;
namespace oauth = mcp_auth::oauth;

namespace {

constexpr long long kNow = 1'700'000'000;

std::string strip_slash(std::string path) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    return path;
}

std::string str_field(const json& doc, const char* key) {
    if (!doc.is_object()) return {};
    auto it = doc.find(key);
    return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<std::string> str_list(const json& doc, const char* key) {
    std::vector<std::string> out;
    if (!doc.is_object()) return out;
    auto it = doc.find(key);
    if (it == doc.end() || !it->is_array()) return out;
    for (const auto& v : *it)
        if (v.is_string()) out.push_back(v.get<std::string>());
    return out;
}

std::optional<mcp_auth::Url> url(const std::string& text) {
    auto u = mcp_auth::parse_url(text);
    if (u) return *u;
    FUZZ_CHECK(!u.error().message.empty(), "parse_url fails without a reason: " + fuzz::show(text));
    return std::nullopt;
}

bool same_url(const mcp_auth::Url& a, const mcp_auth::Url& b) {
    return a.scheme == b.scheme && a.host == b.host && a.port == b.port && a.target == b.target;
}

void check_url_round_trip(const std::string& text) {
    auto u = url(text);
    if (!u) return;
    std::string printed = u->to_string();
    auto again = url(printed);
    FUZZ_CHECK(again && same_url(*u, *again),
               fuzz::show(text) + " parses (host " + fuzz::show(u->host) + ", port " +
                   std::to_string(u->port) + ") but prints as " + fuzz::show(printed) +
                   (again ? ", which is another URL" : ", which does not parse"));
}

void check_resource_metadata(std::string_view body, const json& doc) {
    static const char* kServers[] = {"https://mcp.example.com/mcp",
                                     "http://127.0.0.1:8931/api/v1/mcp/", "https://example.org"};
    std::vector<mcp_auth::Url> servers;
    for (const char* s : kServers) servers.push_back(*url(s));
    // The document's own resource as the server: the "happy" path gets fuzzed too.
    std::string resource = str_field(doc, "resource");
    auto own = url(resource);
    if (own) servers.push_back(*own);

    for (const auto& server : servers) {
        auto meta = oauth::parse_resource_metadata(body, server);
        if (!meta) {
            FUZZ_CHECK(!meta.error().message.empty(), "an error without a message");
            FUZZ_CHECK(
                !(own && same_url(server, *own) && !str_list(doc, "authorization_servers").empty()),
                "a PRM naming this very server with an authorization server was refused: " +
                    meta.error().message);
            continue;
        }
        FUZZ_CHECK(doc.is_object(), "accepted a PRM that is not a JSON object");
        FUZZ_CHECK(meta->resource == resource, "resource " + fuzz::show(meta->resource));
        FUZZ_CHECK(!meta->authorization_servers.empty(), "accepted a PRM without an AS");
        FUZZ_CHECK(meta->authorization_servers == str_list(doc, "authorization_servers"),
                   "authorization_servers changed");
        FUZZ_CHECK(meta->scopes_supported == str_list(doc, "scopes_supported"),
                   "scopes_supported changed");
        auto r = url(meta->resource);
        FUZZ_CHECK(r.has_value(), "accepted an unparsable resource " + fuzz::show(meta->resource));
        FUZZ_CHECK(r->same_origin(server), "accepted the resource " + fuzz::show(meta->resource) +
                                               " for " + server.to_string());
        std::string rpath = strip_slash(r->path()), spath = strip_slash(server.path());
        FUZZ_CHECK(rpath == "/" || rpath == spath || spath.rfind(rpath + "/", 0) == 0,
                   "accepted the resource path " + fuzz::show(rpath) + " for " + fuzz::show(spath));
        for (const auto& as : meta->authorization_servers) check_url_round_trip(as);
    }
    if (own) {
        check_url_round_trip(resource);
        for (const auto& u : oauth::resource_metadata_urls(*own, "")) {
            auto parsed = url(u);
            FUZZ_CHECK(parsed && parsed->same_origin(*own),
                       "PRM URL " + fuzz::show(u) + " for " + fuzz::show(resource));
        }
    }
}

void check_server_metadata(std::string_view body, const json& doc) {
    std::vector<std::string> issuers = {"https://auth.example.com", "http://127.0.0.1:4444/tenant"};
    std::string own = str_field(doc, "issuer");
    if (!own.empty()) issuers.push_back(own);
    for (const auto& issuer : issuers) {
        auto strict = oauth::parse_server_metadata(body, issuer, false);
        auto lenient = oauth::parse_server_metadata(body, issuer, true);
        if (strict) {
            FUZZ_CHECK(lenient.ok(),
                       "accepted without --issuer but refused with it: " + lenient.error().message);
            FUZZ_CHECK(strict->s256_listed, "accepted without S256 and without --issuer");
        }
        for (auto* result : {&strict, &lenient}) {
            if (!*result) {
                FUZZ_CHECK(!result->error().message.empty(), "an error without a message");
                continue;
            }
            const auto& m = result->value();
            FUZZ_CHECK(m.issuer == issuer,
                       "issuer " + fuzz::show(m.issuer) + " accepted for " + fuzz::show(issuer));
            FUZZ_CHECK(!m.token_endpoint.empty(), "accepted without a token endpoint");
            FUZZ_CHECK(m.s256_listed || str_list(doc, "code_challenge_methods_supported").empty(),
                       "accepted a list of PKCE methods without S256");
            for (const auto* e : {&m.authorization_endpoint, &m.token_endpoint,
                                  &m.registration_endpoint, &m.revocation_endpoint}) {
                if (e->empty()) continue;
                auto u = url(*e);
                FUZZ_CHECK(u.has_value(), "accepted the unparsable endpoint " + fuzz::show(*e));
                FUZZ_CHECK(u->scheme == "https" || mcp_auth::is_loopback_host(u->host),
                           "accepted the plain-http endpoint " + fuzz::show(*e));
                check_url_round_trip(*e);
            }
        }
        // Any other issuer is refused (RFC 8414 §3.3), whatever the document says.
        for (const std::string& other : {issuer + "/", issuer + "x", std::string()}) {
            if (other == own) continue;
            FUZZ_CHECK(!oauth::parse_server_metadata(body, other, true).ok(),
                       "metadata for " + fuzz::show(own) + " accepted for " + fuzz::show(other));
        }
    }
    if (auto issuer_url = url(own)) {
        check_url_round_trip(own);
        for (const auto& u : oauth::server_metadata_urls(own)) {
            auto parsed = url(u);
            FUZZ_CHECK(parsed && parsed->same_origin(*issuer_url),
                       "AS metadata URL " + fuzz::show(u) + " for " + fuzz::show(own));
        }
    }
}

// Numbers worth trying in numeric members (lifetimes, epoch times): a server or a stored
// record may hold any JSON number, and random mutation rarely lands on these.
json interesting_number(uint64_t pick) {
    static const json kNumbers[] = {0,
                                    -1,
                                    1,
                                    0.5,
                                    59,
                                    3600,
                                    1e300,
                                    -1e300,
                                    9.3e18,
                                    -9.3e18,
                                    1e19,
                                    4102444800,
                                    json(9223372036854775807LL),
                                    json(-9223372036854775807LL - 1),
                                    json(18446744073709551615ULL),
                                    1.7976931348623157e308};
    return kNumbers[pick % (sizeof kNumbers / sizeof kNumbers[0])];
}

// The document with `key` set to an interesting number (or nothing when it is no object).
std::optional<std::string> with_number(const json& doc, const char* key, uint64_t pick) {
    if (!doc.is_object()) return std::nullopt;
    json copy = doc;
    copy[key] = interesting_number(pick);
    return copy.dump();
}

void check_token_response(std::string_view body, const json& doc, bool vary = true) {
    if (vary)
        if (auto varied = with_number(doc, "expires_in", fuzz::hash(body)))
            check_token_response(*varied, json::parse(*varied), false);
    std::string access = str_field(doc, "access_token");
    for (int status : {200, 400, 401, 500}) {
        auto tokens = oauth::parse_token_response(status, body, kNow);
        if (tokens) {
            FUZZ_CHECK(status == 200, "a success for HTTP " + std::to_string(status));
            FUZZ_CHECK(!tokens->access_token.empty() && tokens->access_token == access,
                       "access token " + fuzz::show(tokens->access_token));
            FUZZ_CHECK(tokens->token_type.empty() || tokens->token_type == "Bearer" ||
                           tokens->token_type == "bearer",
                       "token type " + fuzz::show(tokens->token_type));
            FUZZ_CHECK(tokens->expires_at == 0 || tokens->expires_at >= kNow,
                       "expires_at " + std::to_string(tokens->expires_at) + " is before now");
            continue;
        }
        const auto& e = tokens.error();
        FUZZ_CHECK(!e.message.empty(), "an error without a message");
        std::string token_type = str_field(doc, "token_type");
        std::string description = str_field(doc, "error_description");
        std::string error = str_field(doc, "error");
        if (access.size() >= 8 && token_type.find(access) == std::string::npos &&
            description.find(access) == std::string::npos &&
            error.find(access) == std::string::npos)
            FUZZ_CHECK(e.message.find(access) == std::string::npos,
                       "the error message repeats the access token: " + fuzz::show(e.message));
        if (status != 200) FUZZ_CHECK(e.code == error, "error code " + fuzz::show(e.code));
    }
}

void check_registration_response(std::string_view body, const json& doc) {
    for (int status : {200, 201, 400}) {
        auto client = oauth::parse_registration_response(status, body);
        bool expected = (status == 200 || status == 201) && doc.is_object() &&
                        doc.contains("client_id") && doc["client_id"].is_string();
        FUZZ_CHECK(client.ok() == expected,
                   "registration reply judged wrongly for HTTP " + std::to_string(status));
        if (client) {
            FUZZ_CHECK(client->client_id == doc["client_id"].get<std::string>(), "client_id");
            FUZZ_CHECK(client->client_secret == str_field(doc, "client_secret"), "client_secret");
        }
    }
}

void check_jwt(std::string_view input, const json& doc) {
    if (auto claims = mcp_auth::jwt_claims(input)) {
        FUZZ_CHECK(claims->is_object(), "claims that are not an object");
        (void)mcp_auth::identity_from_claims(*claims);
    }
    std::string token = "eyJhbGciOiJSUzI1NiJ9." + mcp_auth::base64url_encode(input) + ".c2ln";
    auto claims = mcp_auth::jwt_claims(token);
    FUZZ_CHECK(claims.has_value() == doc.is_object(),
               "a JWT whose payload is " + fuzz::show(input) +
                   (claims ? " gave claims" : " gave no claims"));
    if (claims) {
        FUZZ_CHECK(*claims == doc, "the claims are not the payload");
        std::string who = mcp_auth::identity_from_claims(*claims);
        bool found = who.empty();
        for (const char* key :
             {"email", "preferred_username", "username", "name", "sub", "client_id"})
            if (str_field(doc, key) == who) found = true;
        FUZZ_CHECK(found, "identity " + fuzz::show(who) + " is none of the claims");
    }
}

void check_records(const std::string& text, bool vary = true) {
    if (vary) {
        json doc = json::parse(text, nullptr, false);
        uint64_t h = fuzz::hash(text);
        if (auto varied = with_number(doc, "expires_at", h)) {
            json again = json::parse(*varied);
            again["obtained_at"] = interesting_number(h >> 8);
            check_records(again.dump(), false);
        }
    }
    if (auto record = mcp_auth::TokenRecord::from_json(text)) {
        FUZZ_CHECK(!record->server.empty() && !record->access_token.empty(), "an empty record");
        auto again = mcp_auth::TokenRecord::from_json(record->to_json().dump());
        FUZZ_CHECK(again.has_value(), "a token record does not read back");
        FUZZ_CHECK(again->to_json() == record->to_json(), "a token record changes when re-read");
        (void)record->fresh(kNow, mcp_auth::refresh_margin(*record));
    }
    if (auto client = mcp_auth::ClientRecord::from_json(text)) {
        auto again = mcp_auth::ClientRecord::from_json(client->to_json().dump());
        FUZZ_CHECK(again && again->to_json() == client->to_json(), "a client record changes");
    }
    if (auto key = mcp_auth::decode_store_key(text)) {
        std::string encoded = mcp_auth::encode_store_key(*key);
        auto again = mcp_auth::decode_store_key(encoded);
        FUZZ_CHECK(again && *again == *key,
                   "store key " + fuzz::show(text) + " re-encoded as " + fuzz::show(encoded));
        FUZZ_CHECK(mcp_auth::key_matches(*key, *key), "a key does not match itself");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded()) doc = nullptr;

    check_resource_metadata(text, doc);
    check_server_metadata(text, doc);
    check_token_response(text, doc);
    check_registration_response(text, doc);
    check_jwt(text, doc);
    check_records(text);
    return 0;
}
