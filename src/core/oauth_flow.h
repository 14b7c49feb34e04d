#pragma once
// OAuth 2.1 authorization-code + PKCE messages, token responses, scopes and the page
// shown after the browser redirect. Pure logic: no I/O, no clock (times are passed in).
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/credentials.h"
#include "core/expected.h"
#include "core/oauth_discovery.h"
#include "core/url.h"

namespace mcp_auth::oauth {

// --- scopes (space-separated lists, RFC 6749 §3.3) ---
std::vector<std::string> split_scopes(std::string_view scopes);
std::string join_scopes(const std::vector<std::string>& scopes);
// Every scope of `a`, then those of `b` not already there.
std::string scope_union(std::string_view a, std::string_view b);
// The scopes of `required` that `granted` lacks.
std::vector<std::string> missing_scopes(std::string_view required, std::string_view granted);
// The scope of a first login (MCP "Scope Selection Strategy"): the user's override, else
// the 401 challenge's scope, else the PRM's scopes_supported, else none. offline_access
// is added only when the authorization server lists it.
std::string initial_scope(std::string_view override_scope, std::string_view challenge_scope,
                          const std::vector<std::string>& resource_scopes,
                          const ServerMetadata& server);

// --- the authorization request ---
struct AuthorizationRequest {
    std::string url;  // to open in the browser
    std::string state;
    std::string verifier;
    std::string redirect_uri;
    std::string scope;
    std::string issuer;  // recorded before redirecting, checked against `iss`
    bool iss_required = false;
};

// `resource` empty = omitted (--no-resource). `state` and `verifier` are fresh values.
AuthorizationRequest make_authorization_request(
    const ServerMetadata& server, const std::string& client_id, const std::string& redirect_uri,
    const std::string& scope, const std::string& resource, std::string state, std::string verifier);

// Equality of two secrets (state, a cookie) in time that depends on their lengths only, so
// that a caller cannot learn a secret byte by byte from how fast it is refused.
bool constant_time_equals(std::string_view a, std::string_view b);

// Judges the loopback callback's query (RFC 6749 §4.1.2, RFC 9207 §2.4). Returns the
// authorization code. `state` is compared in constant time. A state mismatch is Invalid (someone
// else's redirect); an `iss` mismatch never shows the server's error_description (it may be an
// attacker's text).
Expected<std::string> check_callback(const QueryParams& query, const AuthorizationRequest& request);

// --- token endpoint requests (form bodies) ---
QueryParams code_exchange_form(const std::string& code, const AuthorizationRequest& request,
                               const std::string& client_id, const std::string& resource);
// No `scope`: a refresh keeps the granted scope, and a strict server answers
// invalid_scope to anything else.
QueryParams refresh_form(const std::string& refresh_token, const std::string& client_id,
                         const std::string& resource);
QueryParams client_credentials_form(const std::string& scope, const std::string& resource);
QueryParams revocation_form(const std::string& token, const std::string& token_type_hint);

struct TokenSet {
    std::string access_token;
    std::string token_type;
    std::string refresh_token;  // empty when none was issued
    std::string id_token;
    std::string scope;         // empty when the server did not say
    long long expires_at = 0;  // epoch seconds; 0 when unknown
};

// Parses a token endpoint reply (RFC 6749 §5.1, §5.2). `now` is epoch seconds.
Expected<TokenSet> parse_token_response(int status, std::string_view body, long long now);

// --- client authentication at the token endpoint ---
// A key beats a secret; a secret uses the method the registration named (the server's
// word, by its RFC 7591 name), else one the server lists (Basic preferred, as RFC 6749
// §2.3.1 requires servers to support it); no secret and no key: none.
ClientAuth choose_client_auth(bool has_secret, bool has_key, const std::string& registered_method,
                              const std::vector<std::string>& server_methods);

// --- dynamic client registration (RFC 7591) ---
// No `scope`: many servers take a registered scope as the most the client may ever ask
// for, which would make a later step-up fail with invalid_scope.
nlohmann::json registration_request(const std::string& redirect_uri);
struct RegisteredClient {
    std::string client_id;
    std::string client_secret;
    std::string token_endpoint_auth_method;
};
Expected<RegisteredClient> parse_registration_response(int status, std::string_view body);

// --- the page the browser shows after the redirect ---
std::string html_escape(std::string_view text);
std::string callback_page(bool success, std::string_view message);

}  // namespace mcp_auth::oauth
