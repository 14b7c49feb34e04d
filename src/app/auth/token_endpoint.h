#pragma once
// The token endpoint: requests with the client's authentication (none,
// client_secret_basic, client_secret_post, private_key_jwt), replies parsed into tokens,
// and the records kept from them. A configured client's secret or assertion key goes only
// to the issuer it is pinned to (--issuer, or the first one it logged in at: an
// `issuer-pin` item in the store).
#include <string>

#include "app/auth/client_registry.h"
#include "app/auth/discovery.h"
#include "app/auth/options.h"
#include "core/credentials.h"
#include "core/oauth_flow.h"
#include "ports/http.h"
#include "ports/log.h"
#include "ports/secret_store.h"
#include "ports/system.h"

namespace mcp_auth {

class TokenEndpoint {
public:
    TokenEndpoint(const AuthOptions& options, SecretStore& store, HttpClient& http, Clock& clock,
                  Log& log);

    // One request to `endpoint` with `form`, authenticated as `client` at `issuer`.
    // `unavailable` (when given) is set when the authorization server could not answer:
    // 5xx, 429, or no connection (a timeout is not: its deadline is already spent).
    Expected<oauth::TokenSet> call(const std::string& endpoint, QueryParams form,
                                   const Client& client, const std::string& issuer,
                                   bool* unavailable = nullptr);
    // Adds the client's credentials to a token or revocation request, by its method: the
    // one place they are added.
    Status authenticate(const Client& client, const std::string& issuer, HeaderList& headers,
                        QueryParams& form);
    // The login to keep from a token response.
    TokenRecord record_from(const oauth::TokenSet& tokens, const Discovery& d, const Client& client,
                            Grant grant, const std::string& requested_scope) const;

private:
    // A configured client's secret or key (not a dynamic registration, bound to its
    // issuer by its key) is pinned to an issuer.
    bool pinned_client(const Client& client) const;
    Status check_issuer_pin(const Client& client, const std::string& issuer);
    void pin_issuer(const Client& client, const std::string& issuer);
    std::string shown() const;

    const AuthOptions& options_;
    SecretStore& store_;
    HttpClient& http_;
    Clock& clock_;
    Log& log_;
};

}  // namespace mcp_auth
