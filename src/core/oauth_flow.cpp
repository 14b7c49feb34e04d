#include "core/oauth_flow.h"

#include <algorithm>

#include "core/crypto.h"
#include "core/json_limits.h"

namespace mcp_auth::oauth {

using nlohmann::json;

std::vector<std::string> split_scopes(std::string_view scopes) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < scopes.size()) {
        size_t start = scopes.find_first_not_of(" \t", i);
        if (start == std::string_view::npos) break;
        size_t end = scopes.find_first_of(" \t", start);
        std::string scope(scopes.substr(start, end - start));
        if (std::find(out.begin(), out.end(), scope) == out.end()) out.push_back(std::move(scope));
        i = end == std::string_view::npos ? scopes.size() : end;
    }
    return out;
}

std::string join_scopes(const std::vector<std::string>& scopes) {
    std::string out;
    for (const auto& s : scopes) {
        if (!out.empty()) out.push_back(' ');
        out += s;
    }
    return out;
}

std::string scope_union(std::string_view a, std::string_view b) {
    auto out = split_scopes(a);
    for (auto& s : split_scopes(b))
        if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
    return join_scopes(out);
}

std::vector<std::string> missing_scopes(std::string_view required, std::string_view granted) {
    auto have = split_scopes(granted);
    std::vector<std::string> out;
    for (auto& s : split_scopes(required))
        if (std::find(have.begin(), have.end(), s) == have.end()) out.push_back(std::move(s));
    return out;
}

std::string initial_scope(std::string_view override_scope, std::string_view challenge_scope,
                          const std::vector<std::string>& resource_scopes,
                          const ServerMetadata& server) {
    std::string scope;
    if (!override_scope.empty()) {
        scope = std::string(override_scope);
    } else if (!challenge_scope.empty()) {
        scope = std::string(challenge_scope);
    } else {
        scope = join_scopes(resource_scopes);
    }
    const auto& listed = server.scopes_supported;
    if (!scope.empty() && std::find(listed.begin(), listed.end(), "offline_access") != listed.end())
        scope = scope_union(scope, "offline_access");
    return scope;
}

AuthorizationRequest make_authorization_request(const ServerMetadata& server,
                                                const std::string& client_id,
                                                const std::string& redirect_uri,
                                                const std::string& scope,
                                                const std::string& resource, std::string state,
                                                std::string verifier) {
    AuthorizationRequest req;
    req.state = std::move(state);
    req.verifier = std::move(verifier);
    req.redirect_uri = redirect_uri;
    req.scope = scope;
    req.issuer = server.issuer;
    req.iss_required = server.iss_parameter_supported;
    QueryParams params = {{"response_type", "code"},
                          {"client_id", client_id},
                          {"redirect_uri", redirect_uri},
                          {"state", req.state},
                          {"code_challenge", pkce_challenge_s256(req.verifier)},
                          {"code_challenge_method", "S256"}};
    if (!scope.empty()) params.emplace_back("scope", scope);
    if (!resource.empty()) params.emplace_back("resource", resource);
    req.url = append_query(server.authorization_endpoint, params);
    return req;
}

bool constant_time_equals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

Expected<std::string> check_callback(const QueryParams& query,
                                     const AuthorizationRequest& request) {
    auto state = query_value(query, "state");
    if (!state || !constant_time_equals(*state, request.state))
        return make_error(
            ErrorKind::Invalid,
            "the browser returned a response that does not belong to this login (state mismatch); "
            "it was ignored");
    auto iss = query_value(query, "iss");
    if (iss && *iss != request.issuer)
        return make_error(ErrorKind::Invalid,
                          "the authorization response came from \"" + *iss +
                              "\", not from the expected issuer " + request.issuer +
                              " (possible mix-up attack); the login was stopped");
    if (!iss && request.iss_required)
        return make_error(ErrorKind::Invalid,
                          "the authorization response lacks the \"iss\" parameter that " +
                              request.issuer + " promises to send; the login was stopped");
    if (auto error = query_value(query, "error")) {
        std::string description = query_value(query, "error_description").value_or("");
        std::string text = "the authorization server refused the login: " + *error;
        if (!description.empty()) text += " (" + description + ")";
        return make_error(ErrorKind::Auth, text, *error);
    }
    auto code = query_value(query, "code");
    if (!code || code->empty())
        return make_error(ErrorKind::Invalid, "the authorization response has no code");
    return *code;
}

QueryParams code_exchange_form(const std::string& code, const AuthorizationRequest& request,
                               const std::string& client_id, const std::string& resource) {
    QueryParams form = {{"grant_type", "authorization_code"},
                        {"code", code},
                        {"redirect_uri", request.redirect_uri},
                        {"code_verifier", request.verifier},
                        {"client_id", client_id}};
    if (!resource.empty()) form.emplace_back("resource", resource);
    return form;
}

QueryParams refresh_form(const std::string& refresh_token, const std::string& client_id,
                         const std::string& resource) {
    QueryParams form = {{"grant_type", "refresh_token"},
                        {"refresh_token", refresh_token},
                        {"client_id", client_id}};
    if (!resource.empty()) form.emplace_back("resource", resource);
    return form;
}

QueryParams client_credentials_form(const std::string& scope, const std::string& resource) {
    QueryParams form = {{"grant_type", "client_credentials"}};
    if (!scope.empty()) form.emplace_back("scope", scope);
    if (!resource.empty()) form.emplace_back("resource", resource);
    return form;
}

QueryParams revocation_form(const std::string& token, const std::string& token_type_hint) {
    return {{"token", token}, {"token_type_hint", token_type_hint}};
}

Expected<TokenSet> parse_token_response(int status, std::string_view body, long long now) {
    json doc = parse_json(body);  // bounded in depth, like every document from the network
    if (status != 200) {
        std::string error = doc.is_object() && doc.contains("error") && doc["error"].is_string()
                                ? doc["error"].get<std::string>()
                                : std::string();
        std::string description = doc.is_object() && doc.contains("error_description") &&
                                          doc["error_description"].is_string()
                                      ? doc["error_description"].get<std::string>()
                                      : std::string();
        std::string text = "the token endpoint answered HTTP " + std::to_string(status);
        if (!error.empty()) text += ": " + error;
        if (!description.empty()) text += " (" + description.substr(0, 300) + ")";
        return make_error(status >= 500 || error.empty() ? ErrorKind::Network : ErrorKind::Auth,
                          text, error);
    }
    if (doc.is_discarded() || !doc.is_object())
        return make_error(ErrorKind::Network, "the token endpoint's reply is not a JSON object");
    TokenSet tokens;
    auto str = [&](const char* key) { return string_member(doc, key); };
    tokens.access_token = str("access_token");
    tokens.token_type = str("token_type");
    tokens.refresh_token = str("refresh_token");
    tokens.id_token = str("id_token");
    tokens.scope = str("scope");
    if (tokens.access_token.empty())
        return make_error(ErrorKind::Network, "the token endpoint's reply has no access_token");
    if (!tokens.token_type.empty() && tokens.token_type != "Bearer" &&
        tokens.token_type != "bearer")
        return make_error(ErrorKind::Invalid, "the token endpoint issued a \"" + tokens.token_type +
                                                  "\" token; only Bearer tokens are supported");
    auto expires = doc.find("expires_in");
    if (expires != doc.end() && expires->is_number() && expires->get<double>() > 0) {
        // Capped at ten years: a hostile or broken value must not overflow the clock.
        double seconds = std::min(expires->get<double>(), 10.0 * 365 * 24 * 3600);
        tokens.expires_at = now + static_cast<long long>(seconds);
    }
    return tokens;
}

ClientAuth choose_client_auth(bool has_secret, bool has_key, const std::string& registered_method,
                              const std::vector<std::string>& server_methods) {
    if (has_key) return ClientAuth::PrivateKeyJwt;
    if (!has_secret) return ClientAuth::None;
    auto registered = client_auth_from_name(registered_method);
    if (registered == ClientAuth::SecretPost || registered == ClientAuth::SecretBasic)
        return *registered;
    auto listed = [&](const char* m) {
        return std::find(server_methods.begin(), server_methods.end(), m) != server_methods.end();
    };
    if (!server_methods.empty() && !listed("client_secret_basic") && listed("client_secret_post"))
        return ClientAuth::SecretPost;
    return ClientAuth::SecretBasic;
}

json registration_request(const std::string& redirect_uri) {
    json req = {
        {"client_name", "mcp-auth"},       {"application_type", "native"},
        {"redirect_uris", {redirect_uri}}, {"grant_types", {"authorization_code", "refresh_token"}},
        {"response_types", {"code"}},      {"token_endpoint_auth_method", "none"}};
    return req;
}

Expected<RegisteredClient> parse_registration_response(int status, std::string_view body) {
    json doc = parse_json(body);  // bounded in depth, like every document from the network
    if (status != 200 && status != 201) {
        std::string text = "client registration failed with HTTP " + std::to_string(status);
        if (doc.is_object() && doc.contains("error") && doc["error"].is_string())
            text += ": " + doc["error"].get<std::string>();
        if (doc.is_object() && doc.contains("error_description") &&
            doc["error_description"].is_string())
            text += " (" + doc["error_description"].get<std::string>().substr(0, 300) + ")";
        return make_error(ErrorKind::Auth, text);
    }
    if (!doc.is_object() || !doc.contains("client_id") || !doc["client_id"].is_string())
        return make_error(ErrorKind::Network, "the registration reply has no client_id");
    RegisteredClient client;
    client.client_id = doc["client_id"].get<std::string>();
    if (doc.contains("client_secret") && doc["client_secret"].is_string())
        client.client_secret = doc["client_secret"].get<std::string>();
    if (doc.contains("token_endpoint_auth_method") && doc["token_endpoint_auth_method"].is_string())
        client.token_endpoint_auth_method = doc["token_endpoint_auth_method"].get<std::string>();
    return client;
}

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out.push_back(c);
        }
    }
    return out;
}

std::string callback_page(bool success, std::string_view message) {
    std::string title = success ? "Login complete" : "Login failed";
    return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>mcp-auth: " +
           title +
           "</title></head><body style=\"font-family:sans-serif;max-width:40em;margin:4em "
           "auto\"><h1>" +
           title + "</h1><p>" + html_escape(message) +
           "</p><p>You can close this tab and return to your application.</p></body></html>";
}

}  // namespace mcp_auth::oauth
