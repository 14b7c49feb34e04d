#include "app/auth/grants/grants.h"

#include "app/auth/policy.h"

#include "core/json_limits.h"

namespace mcp_auth::auth {

Expected<TokenRecord> id_jag_login(GrantContext& g, const Discovery& d, const std::string& scope) {
    // Enterprise-managed authorization (ID-JAG): the IdP's ID token is exchanged at the IdP
    // for an identity assertion grant (RFC 8693), which the MCP server's authorization
    // server takes as a JWT bearer grant (RFC 7523). No browser, no redirect to the AS.
    if (g.options.idp_id_token.empty())
        return login_required(g.shown(),
                              "Enterprise login needs the identity provider's ID token in "
                              "MCP_AUTH_IDP_ID_TOKEN.");
    if (g.options.client_id.empty())
        return make_error(ErrorKind::Invalid, "enterprise login needs --client-id (the client at " +
                                                  d.server.issuer + ")");
    std::string idp_endpoint = g.options.idp_token_endpoint;
    if (idp_endpoint.empty()) {
        auto idp = g.discovery.server_metadata(g.options.idp_issuer, true);
        if (!idp) return idp.error();
        idp_endpoint = idp->token_endpoint;
    }
    if (!g.options.idp_token_endpoint.empty()) {
        // Named by the user (--idp-token-endpoint): the policy for such URLs. One from the
        // IdP's metadata was checked against --idp-issuer there.
        auto url = parse_url(idp_endpoint);
        if (!url)
            return make_error(ErrorKind::Invalid,
                              "--idp-token-endpoint is invalid: " + url.error().message);
        if (auto allowed = check_url_policy(*url, g.options.allow_http); !allowed)
            return make_error(ErrorKind::Invalid,
                              "--idp-token-endpoint: " + allowed.error().message);
    }
    QueryParams exchange = {
        {"grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"},
        {"requested_token_type", "urn:ietf:params:oauth:token-type:id-jag"},
        {"subject_token", g.options.idp_id_token},
        {"subject_token_type", "urn:ietf:params:oauth:token-type:id_token"},
        {"audience", d.server.issuer},
        {"resource", d.resource.empty() ? Url{g.options.server.scheme, g.options.server.host,
                                              g.options.server.port, g.options.server.path()}
                                              .to_string()
                                        : d.resource}};
    if (!scope.empty()) exchange.emplace_back("scope", scope);
    if (!g.options.idp_client_id.empty())
        exchange.emplace_back("client_id", g.options.idp_client_id);
    auto res = g.ports.http.fetch(
        idp_endpoint, "POST",
        {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}},
        form_encode(exchange), g.options.http);
    if (!res.error.empty())
        return make_error(ErrorKind::Network,
                          "could not reach the identity provider: " + res.error);
    auto doc = parse_json(res.body);
    if (res.status != 200 || !doc.is_object() || !doc.contains("access_token") ||
        !doc["access_token"].is_string()) {
        auto refused = oauth::parse_token_response(res.status == 200 ? 400 : res.status, res.body,
                                                   g.ports.clock.now());
        return make_error(ErrorKind::Auth, "the identity provider refused the token exchange: " +
                                               (refused ? std::string("no assertion returned")
                                                        : refused.error().message));
    }
    Client client{g.options.client_id, g.clients.secret_for(d.server.issuer, g.options.client_id)};
    client.method =
        oauth::choose_client_auth(!client.secret.empty(), !g.options.client_assertion_key.empty(),
                                  "", d.server.token_endpoint_auth_methods_supported);
    QueryParams grant = {{"grant_type", kJwtBearer},
                         {"assertion", doc["access_token"].get<std::string>()},
                         {"client_id", client.id}};
    if (!scope.empty()) grant.emplace_back("scope", scope);
    auto tokens = g.tokens.call(d.server.token_endpoint, grant, client, d.server.issuer);
    if (!tokens) return tokens.error();
    return g.tokens.record_from(*tokens, d, client, Grant::JwtBearer, scope);
}

}  // namespace mcp_auth::auth
