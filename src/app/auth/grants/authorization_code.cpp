#include "app/auth/grants/grants.h"

#include "app/auth/policy.h"

#include "core/crypto.h"
#include "core/oauth_flow.h"

namespace mcp_auth::auth {

Expected<TokenRecord> authorization_code_login(GrantContext& g, const Discovery& d,
                                               const std::string& scope, bool allow_browser) {
    if (!allow_browser || !g.ports.browser.available())
        return login_required(g.shown(), "Logging in to " + g.shown() +
                                             " needs a browser, and none can be opened here.");
    for (int attempt = 0;; ++attempt) {
        // Bind the callback port before anything can redirect to it.
        auto listener = g.ports.callbacks.listen(g.options.callback_port);
        if (!listener) return listener.error();
        // cancel() (shutdown) must be able to end the wait: tracked until this login ends.
        ListenerGuard tracked(g, listener->get());
        if (!tracked.ok) return login_required(g.shown(), "The login was cancelled.");
        auto client = g.clients.client_for(d, (*listener)->redirect_uri());
        if (!client) return client.error();
        auto request = oauth::make_authorization_request(
            d.server, client->id, (*listener)->redirect_uri(), scope, d.resource, make_state(),
            make_pkce_verifier());
        // The browser (whose command line any local user can read) and the log get only
        // the listener's one-time start page, never the URL with `state` and the challenge.
        auto start_url = (*listener)->start_url(request.url);
        if (!start_url) return start_url.error();
        g.ports.log.info("opening the browser to log in to " + g.shown() +
                         " (scope: " + (scope.empty() ? "default" : scope) + ")");
        // One line each: the message, then the URL alone.
        if (!g.ports.browser.open(*start_url))
            g.ports.log.info("could not open the browser. Please visit this URL to log in:");
        else
            g.ports.log.info("if the browser does not open, visit:");
        g.ports.log.info("  " + *start_url);

        auto query = (*listener)->wait(g.options.login_timeout, [&](const QueryParams& q) {
            auto code = oauth::check_callback(q, request);
            if (code)
                return CallbackSession::Verdict{
                    true, true, "mcp-auth received the login for " + g.shown() + "."};
            // A response that is not ours (wrong state) does not end this login.
            bool ours =
                oauth::constant_time_equals(query_value(q, "state").value_or(""), request.state);
            return CallbackSession::Verdict{ours, false, code.error().message};
        });
        // The listener stays up until this login ends (it closes with `listener`): a repeated
        // callback meanwhile gets a page saying the link was used, not a refused connection.
        if (!query) return query.error();
        auto code = oauth::check_callback(*query, request);
        if (!code) return code.error();
        auto tokens =
            g.tokens.call(d.server.token_endpoint,
                          oauth::code_exchange_form(*code, request, client->id, d.resource),
                          *client, d.server.issuer);
        if (!tokens && is_auth_code(tokens.error(), {"invalid_client", "unauthorized_client"}) &&
            client->registered && attempt == 0) {
            // A registration the server forgot: register again and log in once more.
            g.ports.log.info("the authorization server no longer knows client " + client->id +
                             "; registering again");
            g.clients.forget(d.server.issuer, client->id);
            continue;
        }
        if (!tokens) return tokens.error();
        return g.tokens.record_from(*tokens, d, *client, Grant::AuthorizationCode, scope);
    }
}

}  // namespace mcp_auth::auth
