#include "app/auth/grants/grants.h"

#include "app/auth/policy.h"

namespace mcp_auth::auth {

Expected<oauth::TokenSet> refresh_grant(GrantContext& g, const TokenRecord& record,
                                        const Client& client) {
    // An authorization server that is down (5xx, 429, refused connection) does not end a
    // login: a few tries, then a clear error; a browser only when the grant is refused.
    for (int attempt = 1;; ++attempt) {
        bool unavailable = false;
        auto tokens =
            g.tokens.call(record.token_endpoint,
                          oauth::refresh_form(record.refresh_token, client.id, record.resource),
                          client, record.issuer, &unavailable);
        if (tokens || !unavailable) return tokens;
        if (attempt == kRefreshAttempts || g.cancelled)
            return make_error(ErrorKind::Network,
                              "the authorization server is unavailable, the login for " +
                                  g.shown() + " is kept: " + tokens.error().message + " (" +
                                  std::to_string(attempt) +
                                  " tries). Try again later; no new login is needed.",
                              tokens.error().code);
        g.ports.log.debug("refresh for " + g.shown() + " failed (" + tokens.error().message +
                          "); trying again");
        g.ports.clock.sleep(kRefreshBackoff[attempt - 1], g.cancelled);
    }
}

}  // namespace mcp_auth::auth
