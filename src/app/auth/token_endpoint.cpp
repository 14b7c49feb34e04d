#include "app/auth/token_endpoint.h"

#include <algorithm>

#include "core/base64.h"
#include "core/crypto.h"
#include "core/jwt.h"

namespace mcp_auth {

namespace {

std::string basic_auth(const std::string& id, const std::string& secret) {
    // RFC 6749 §2.3.1: both parts form-encoded before base64.
    return "Basic " + base64_encode(percent_encode(id) + ":" + percent_encode(secret));
}

}  // namespace

TokenEndpoint::TokenEndpoint(const AuthOptions& options, SecretStore& store, HttpClient& http,
                             Clock& clock, Log& log)
    : options_(options), store_(store), http_(http), clock_(clock), log_(log) {}

std::string TokenEndpoint::shown() const {
    return options_.server.display();
}

bool TokenEndpoint::pinned_client(const Client& client) const {
    // A dynamic registration is bound to its issuer by its key; a configured client's
    // secret (environment, keychain) or assertion key is not, so it is pinned.
    if (client.registered || client.method == ClientAuth::None) return false;
    return (!options_.client_id.empty() && client.id == options_.client_id) ||
           client.method == ClientAuth::PrivateKeyJwt;
}

Status TokenEndpoint::check_issuer_pin(const Client& client, const std::string& issuer) {
    if (!options_.issuer.empty()) {
        if (issuer == options_.issuer) return Ok{};
        return make_error(ErrorKind::Invalid, "refusing to send the credentials of client " +
                                                  client.id + " to " + issuer +
                                                  ": you configured the authorization server " +
                                                  options_.issuer + " with --issuer");
    }
    auto pin = store_.get(issuer_pin_key(client.id));
    if (!pin) return pin.error();
    if (!*pin || **pin == issuer) return Ok{};
    return make_error(
        ErrorKind::Invalid,
        "refusing to send the credentials of client " + client.id +
            " to the authorization server " + issuer + ": they belong to " + **pin +
            ", where this client first logged in, and the server " + shown() +
            " now names another one. If the client really moved, pass --issuer " + issuer +
            " (the pin follows it), or run `mcp-auth logout --all` to forget the pin.");
}

void TokenEndpoint::pin_issuer(const Client& client, const std::string& issuer) {
    auto pin = store_.get(issuer_pin_key(client.id));
    if (pin && *pin && **pin == issuer) return;
    if (auto ok = store_.put(issuer_pin_key(client.id),
                             "mcp-auth: client " + client.id + " belongs to " + issuer, issuer);
        !ok)
        log_.info("could not keep the authorization server of client " + client.id + " (" +
                  ok.error().message + "); it is pinned again at the next login");
}

Status TokenEndpoint::authenticate(const Client& client, const std::string& issuer,
                                   HeaderList& headers, QueryParams& form) {
    // The one place client credentials are added to a request.
    if (pinned_client(client))
        if (auto ok = check_issuer_pin(client, issuer); !ok) return ok.error();
    auto drop_client_id = [&] {
        form.erase(std::remove_if(form.begin(), form.end(),
                                  [](const auto& p) { return p.first == "client_id"; }),
                   form.end());
    };
    if (client.method == ClientAuth::SecretBasic) {
        // RFC 6749 §2.3.1: the id travels in the header only.
        headers.push_back({"Authorization", basic_auth(client.id, client.secret)});
        drop_client_id();
    } else if (client.method == ClientAuth::SecretPost) {
        drop_client_id();
        form.emplace_back("client_id", client.id);
        form.emplace_back("client_secret", client.secret);
    } else if (client.method == ClientAuth::PrivateKeyJwt) {
        // RFC 7523 §2.2; the audience is the authorization server's issuer.
        long long now = clock_.now();
        nlohmann::json claims = {{"iss", client.id}, {"sub", client.id}, {"aud", issuer},
                                 {"iat", now},       {"exp", now + 60},  {"jti", make_state()}};
        auto assertion = sign_jwt(claims, options_.client_assertion_key);
        if (!assertion) return assertion.error();
        drop_client_id();
        form.emplace_back("client_id", client.id);
        form.emplace_back("client_assertion_type",
                          "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        form.emplace_back("client_assertion", *assertion);
    } else if (std::none_of(form.begin(), form.end(),
                            [](const auto& p) { return p.first == "client_id"; })) {
        form.emplace_back("client_id", client.id);  // a public client names itself
    }
    return Ok{};
}

Expected<oauth::TokenSet> TokenEndpoint::call(const std::string& endpoint, QueryParams form,
                                              const Client& client, const std::string& issuer,
                                              bool* unavailable) {
    HeaderList headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                          {"Accept", "application/json"}};
    if (auto ok = authenticate(client, issuer, headers, form); !ok) return ok.error();
    auto res = http_.fetch(endpoint, "POST", headers, form_encode(form), options_.http);
    if (unavailable)
        *unavailable = res.error.empty() ? res.status >= 500 || res.status == 429 : !res.timed_out;
    if (!res.error.empty())
        return make_error(res.timed_out ? ErrorKind::Timeout : ErrorKind::Network,
                          "could not reach the authorization server's token endpoint (" +
                              res.error + "); the stored login is kept, try again later");
    auto tokens = oauth::parse_token_response(res.status, res.body, clock_.now());
    if (tokens && pinned_client(client)) pin_issuer(client, issuer);
    return tokens;
}

TokenRecord TokenEndpoint::record_from(const oauth::TokenSet& tokens, const Discovery& d,
                                       const Client& client, Grant grant,
                                       const std::string& requested_scope) const {
    TokenRecord r;
    r.server = options_.server.to_string();
    r.issuer = d.server.issuer;
    r.client_id = client.id;
    r.grant = grant;
    r.access_token = tokens.access_token;
    r.refresh_token = tokens.refresh_token;
    r.scope = tokens.scope.empty() ? requested_scope : tokens.scope;
    r.requested_scope = requested_scope;
    r.expires_at = tokens.expires_at;
    r.obtained_at = clock_.now();
    r.token_endpoint = d.server.token_endpoint;
    r.revocation_endpoint = d.server.revocation_endpoint;
    r.resource = d.resource;
    r.client_auth = client.method;
    for (const auto& token : {tokens.id_token, tokens.access_token}) {
        if (auto claims = jwt_claims(token)) r.identity = identity_from_claims(*claims);
        if (!r.identity.empty()) break;
    }
    if (r.identity.empty()) r.identity = client.id;
    return r;
}

}  // namespace mcp_auth
