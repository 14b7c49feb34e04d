#include "app/auth/grants/grants.h"

#include "app/auth/policy.h"

namespace mcp_auth::auth {

Expected<TokenRecord> client_credentials_login(GrantContext& g, const Discovery& d,
                                               const std::string& scope) {
    if (g.options.client_id.empty())
        return make_error(ErrorKind::Invalid, "--client-credentials needs --client-id");
    Client client{g.options.client_id, g.clients.secret_for(d.server.issuer, g.options.client_id)};
    bool has_key = !g.options.client_assertion_key.empty();
    if (client.secret.empty() && !has_key)
        return make_error(ErrorKind::Invalid,
                          "no client secret for " + client.id +
                              ": set MCP_AUTH_CLIENT_SECRET (it is then kept in the keychain), or "
                              "pass --client-assertion-key");
    client.method = oauth::choose_client_auth(!client.secret.empty(), has_key, "",
                                              d.server.token_endpoint_auth_methods_supported);
    auto tokens =
        g.tokens.call(d.server.token_endpoint, oauth::client_credentials_form(scope, d.resource),
                      client, d.server.issuer);
    if (!tokens) return tokens.error();
    if (!g.options.client_secret.empty() && !has_key) {
        // Keep the secret for later runs, so it need not stay in the environment.
        auto ok = g.clients.keep_secret(d.server.issuer, client.id, client.secret);
        if (!ok) return ok.error();
    }
    return g.tokens.record_from(*tokens, d, client, Grant::ClientCredentials, scope);
}

}  // namespace mcp_auth::auth
