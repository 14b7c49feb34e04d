#pragma once
// What mcp-auth keeps per server and per authorization server, and how it is keyed in
// the secret store. Pure logic: records to and from JSON.
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace mcp_auth {

// Attributes that identify one stored item (besides application=mcp-auth).
using StoreKey = std::map<std::string, std::string>;

// How a login was obtained. Stored by its OAuth grant_type name.
enum class Grant {
    AuthorizationCode,  // a person in the browser
    ClientCredentials,  // --client-credentials: a machine
    JwtBearer,          // enterprise-managed (ID-JAG): an assertion from the IdP's ID token
};
std::string grant_name(Grant grant);  // "authorization_code", ..., the RFC 7523 URN
// nullopt for a name mcp-auth does not know.
std::optional<Grant> grant_from_name(const std::string& name);
// Renewed by asking the grant again, without a person and without a refresh token: an
// expired login of this kind is not "log in again".
bool renews_by_itself(Grant grant);

// How the client authenticates at the token endpoint. Stored by its RFC 7591 name.
enum class ClientAuth { None, SecretBasic, SecretPost, PrivateKeyJwt };
std::string client_auth_name(ClientAuth method);  // "none", "client_secret_basic", ...
std::optional<ClientAuth> client_auth_from_name(const std::string& name);

// One login: the tokens for one MCP server from one authorization server.
struct TokenRecord {
    std::string server;  // canonical MCP server URL
    std::string issuer;
    std::string client_id;
    Grant grant = Grant::AuthorizationCode;
    std::string access_token;
    std::string refresh_token;
    std::string scope;            // granted (as the token endpoint said, else as requested)
    std::string requested_scope;  // what the login asked for (a step-up asks for more)
    std::string identity;         // email / username / sub / client id, for display
    long long expires_at = 0;     // epoch seconds, 0 = unknown
    long long obtained_at = 0;
    std::string token_endpoint;
    std::string revocation_endpoint;
    std::string resource;                   // the RFC 8707 resource sent, "" with --no-resource
    std::optional<ClientAuth> client_auth;  // nullopt in records older than the field

    static StoreKey key(const std::string& server, const std::string& issuer);
    StoreKey key() const { return key(server, issuer); }
    nlohmann::json to_json() const;
    static std::optional<TokenRecord> from_json(const std::string& text);
    std::string label() const;  // what the keychain UI shows

    // Usable without a refresh at `now` (with `margin` seconds to spare).
    bool fresh(long long now, long long margin) const;
};

// A client identity registered at one authorization server (dynamic registration).
// Bound to its issuer: never reused with another one.
struct ClientRecord {
    std::string issuer;
    std::string client_id;
    std::string client_secret;
    std::string redirect_uri;
    std::string auth_method;  // the registration's token_endpoint_auth_method

    static StoreKey key(const std::string& issuer);
    nlohmann::json to_json() const;
    static std::optional<ClientRecord> from_json(const std::string& text);
};

// One string for a key, for stores that name items by a single string (macOS account,
// Windows target): name=value pairs in key order, '%' and ';' and '=' escaped.
std::string encode_store_key(const StoreKey& key);
std::optional<StoreKey> decode_store_key(const std::string& text);

// True when `key` has every attribute of `filter` with the same value.
bool key_matches(const StoreKey& key, const StoreKey& filter);

// A configured client's secret kept in the keychain (for --client-credentials).
StoreKey client_secret_key(const std::string& issuer, const std::string& client_id);

// The authorization server a pre-registered client (one with a secret or an assertion
// key) is pinned to: its issuer, stored as the item's secret at its first login. Its
// credentials are never sent to another issuer, whatever a server's metadata names.
StoreKey issuer_pin_key(const std::string& client_id);

// `doc` as JSON text, never throwing: invalid UTF-8 (from a URL or a server's reply) is
// replaced with U+FFFD, so that tokens already issued are never lost to an exception.
std::string json_text(const nlohmann::json& doc);

// How long before expiry a token is refreshed: a minute, or half the lifetime of
// short-lived tokens.
long long refresh_margin(const TokenRecord& record);

}  // namespace mcp_auth
