#pragma once
// The authorization use case: a valid token for one MCP server, from the store, a
// refresh, or a login. Decision order for a request:
//   stored token fresh → use it; near expiry with a refresh token → refresh (rotated
//   refresh token saved at once); else → log in (client credentials, or the browser
//   flow: discovery → client identity → PKCE + state → loopback callback → exchange).
// 401 → refresh, else log in again. 403 insufficient_scope → re-authorize once with the
// union of scopes. Collaborators (store, HTTP options, browser, clock) come from main.cpp.
//
// What a server may make mcp-auth do: every URL a server or authorization server names
// (the PRM's authorization server, a 401's resource_metadata, every metadata endpoint,
// and the endpoints kept in a stored login, checked again when used) passes
// check_url_from_server against the URL the user named (the server, or --issuer /
// --idp-issuer). A pre-registered client's secret or assertion key goes only to the
// issuer it is pinned to (--issuer, or the first one it logged in at). Every exchange
// with an authorization server or metadata host has a total deadline. A refresh never
// writes a login back that is no longer in the store (`logout` is final), a rotated
// refresh token is never used before it is stored, and a refresh the authorization server
// cannot answer (5xx, unreachable) is retried and then reported: a browser login only
// when the grant itself was refused.
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/credentials.h"
#include "core/expected.h"
#include "core/oauth_discovery.h"
#include "core/oauth_flow.h"
#include "ports/callback.h"
#include "ports/http.h"
#include "ports/locks.h"
#include "ports/log.h"
#include "ports/secret_store.h"
#include "ports/system.h"
#include "app/token_source.h"
#include "core/url.h"

namespace mcp_auth {


struct AuthOptions {
    Url server;
    std::string client_id;             // --client-id
    std::string client_secret;         // MCP_AUTH_CLIENT_SECRET (never from argv)
    std::string client_metadata_url;   // --client-metadata-url
    std::string client_assertion_key;  // --client-assertion-key: PEM key for private_key_jwt
    std::string issuer;                // --issuer: the authorization server, configured by hand
    std::string idp_issuer;            // --idp-issuer: enterprise IdP (ID-JAG), discovered
    std::string idp_token_endpoint;    // --idp-token-endpoint: or its token endpoint directly
    std::string idp_client_id;         // --idp-client-id: mcp-auth's client at the IdP
    std::string idp_id_token;          // MCP_AUTH_IDP_ID_TOKEN (never from argv)
    std::string scope;                 // --scope: overrides what discovery suggests
    int callback_port = 0;             // --callback-port (0 = chosen by the OS)
    bool send_resource = true;         // --no-resource turns RFC 8707 off
    bool client_credentials = false;   // --client-credentials: machine login, no browser
    bool allow_http = false;           // --allow-http: plain http to non-loopback hosts
    std::chrono::milliseconds login_timeout{std::chrono::minutes(5)};
    // For every exchange with an authorization server or metadata host. A total_timeout of
    // 0 becomes read_timeout: a whole metadata or token exchange (a few kB) gets the time
    // the user allows for a silence, so one that drips a byte a second still ends.
    HttpOptions http{std::chrono::seconds(10), std::chrono::seconds(30)};
};

// What the use case needs from the world (ports/); the composition root (cli/compose.cpp)
// passes real adapters, tests/unit/app fakes.
struct AuthContext {
    SecretStore& store;
    Log& log;
    HttpClient& http;
    CallbackServer& callbacks;
    LockService& locks;
    Clock& clock;
    Browser& browser;
    // Starts the browser login in a detached process; null = log in in this process.
    LoginAgentLauncher* agent = nullptr;
    // This process is such a login agent: it already holds the login lock.
    bool holds_login_lock = false;
};

class Authenticator {
public:
    // A store that failed (no Secret Service, a locked keychain) is asked again only
    // after this long: the relay asks for a token with every message.
    static constexpr std::chrono::seconds kStoreRetryAfter{30};

    Authenticator(AuthOptions options, AuthContext context);

    const AuthOptions& options() const { return options_; }
    std::string server() const { return options_.server.to_string(); }

    // The stored login for this server (the newest if several issuers have one).
    Expected<std::optional<TokenRecord>> stored();
    // A token usable now: the stored one, refreshed when near expiry. Error kind
    // LoginRequired when a person has to log in (no token, or the refresh was refused).
    Expected<TokenRecord> valid_token();
    // Logs in anew. `challenge` is the 401's WWW-Authenticate value ("" when none). With
    // `allow_browser` false, a browser login yields LoginRequired instead.
    Expected<TokenRecord> login(const std::string& challenge, bool allow_browser);
    // The server refused `rejected` with 401: refresh, else log in again.
    Expected<TokenRecord> recover(const std::string& challenge, const std::string& rejected,
                                  bool allow_browser);
    // The server refused `rejected` with 403 insufficient_scope: re-authorize once with
    // the union of the granted and the required scopes.
    Expected<TokenRecord> step_up(const std::string& challenge, const std::string& rejected,
                                  bool allow_browser);
    // Revokes at the authorization server (when it has a revocation endpoint), then
    // deletes. True when the authorization server confirmed the revocation.
    Expected<bool> logout(const TokenRecord& record);
    // Ends a browser login in progress, and refuses new ones (shutdown). Thread-safe.
    void cancel();

private:
    struct Discovery {
        oauth::ServerMetadata server;
        std::vector<std::string> resource_scopes;  // PRM scopes_supported
        std::string resource;                      // sent as RFC 8707 `resource`, "" when off
        std::string no_metadata;  // why there was no resource metadata (2025-03-26 rules used)
    };
    struct Client {
        std::string id;
        std::string secret;
        bool registered = false;  // came from dynamic registration (re-register on invalid_client)
        std::string method = "none";  // how it authenticates at the token endpoint
    };

    Expected<Discovery> discover(const std::string& challenge);
    // Without protected resource metadata: the 2025-03-26 rules (the server's origin is
    // the authorization server). `why` says why there was no resource metadata.
    Expected<oauth::ServerMetadata> legacy_server_metadata(const std::string& why);
    // The body of the first URL that answers 200, tried in order; else why none did.
    Expected<std::string> first_document(const std::vector<std::string>& urls);
    Expected<oauth::ServerMetadata> fetch_server_metadata(const std::string& issuer,
                                                          bool configured);
    Expected<Client> client_for(const Discovery& d, const std::string& redirect_uri);
    // The dynamic registration kept for `issuer`, if any.
    Expected<std::optional<ClientRecord>> registration(const std::string& issuer);
    // The secret of `client_id` at `issuer`: the environment, the keychain, or its registration.
    std::string client_secret_for(const std::string& issuer, const std::string& client_id);
    // `user_asked`: the user ran `login` or `token`; a relay's own logins (after a 401)
    // do not log in with client credentials again once the login was removed (logout).
    Expected<TokenRecord> login_locked(const std::string& challenge, const std::string& scope,
                                       bool allow_browser, bool user_asked);
    Expected<TokenRecord> browser_login(const Discovery& d, const std::string& scope,
                                        bool allow_browser);
    Expected<TokenRecord> machine_login(const Discovery& d, const std::string& scope);
    bool enterprise() const;
    Expected<TokenRecord> enterprise_login(const Discovery& d, const std::string& scope);
    Expected<TokenRecord> refresh_locked(const TokenRecord& stale);
    Expected<TokenRecord> refresh_holding_lock(const TokenRecord& stale);
    // The refresh grant, retried with backoff while the authorization server is down.
    Expected<oauth::TokenSet> refresh_grant(const TokenRecord& record, const Client& client);
    // The URL the user named that the authorization server's URLs are judged against:
    // --issuer when configured, else the server.
    Url as_anchor() const;
    // A stored endpoint, checked again before it is used (the record may be older than
    // the policy, or altered).
    Status check_stored_endpoint(const std::string& url, const char* what) const;
    // The configured client's secret or key may go to `issuer` only: --issuer, else the
    // issuer it is pinned to; the first login pins it (pin_issuer, after it succeeded).
    Status check_issuer_pin(const Client& client, const std::string& issuer);
    void pin_issuer(const Client& client, const std::string& issuer);
    bool pinned_client(const Client& client) const;
    // Saves a login a refresh could not save before (its refresh token is in memory only).
    Status retry_unsaved(bool holding_refresh_lock = false);
    std::string shown() const { return options_.server.display(); }  // for messages
    Expected<TokenRecord> login_via_agent(const std::string& challenge, const std::string& scope,
                                          bool allow_browser);
    // The stored login, re-read, when it is fresh and not the one we had (`before`).
    std::optional<TokenRecord> fresh_login_since(const std::string& before);
    // `unavailable` (when given) is set when the authorization server could not answer:
    // 5xx, 429, or no connection (a timeout is not: its deadline is already spent).
    Expected<oauth::TokenSet> call_token_endpoint(const std::string& endpoint, QueryParams form,
                                                  const Client& client, const std::string& issuer,
                                                  bool* unavailable = nullptr);
    // Adds the client's credentials to a token or revocation request, by its method.
    Status authenticate_client(const Client& client, const std::string& issuer, HeaderList& headers,
                               QueryParams& form);
    // The client behind a stored login, with its method (older records: guessed).
    Client client_of(const TokenRecord& record);
    TokenRecord record_from(const oauth::TokenSet& tokens, const Discovery& d, const Client& client,
                            const std::string& grant, const std::string& requested_scope) const;
    Status save(const TokenRecord& record);
    // Tells other processes the stored login changed (LockService's change marker).
    void note_change();
    // The stored login, from memory unless `again`, the change marker moved, or the
    // store failed more than kStoreRetryAfter ago.
    Expected<std::optional<TokenRecord>> load_locked(bool again = false);
    struct StoreFailure {
        Error error;
        std::chrono::steady_clock::time_point at;
    };
    std::optional<StoreFailure> store_failure_;
    std::string stamp_;  // the change marker when the store was last read

    AuthOptions options_;
    AuthContext ctx_;
    std::mutex mutex_;  // one login or refresh at a time; others wait and reuse its result
    std::optional<TokenRecord> current_;
    bool loaded_ = false;
    bool had_login_ = false;              // this process has seen a stored login for the server
    bool logged_out_ = false;             // ... and then found it removed (by `mcp-auth logout`)
    std::optional<TokenRecord> unsaved_;  // a refreshed login the store refused to keep
    // Takes mutex_, noting when the caller arrived (arrived_): a refresh that failed while
    // it waited is its answer too, so a burst of requests makes one round of tries, and a
    // request that comes later tries again (the authorization server may be back).
    std::unique_lock<std::mutex> enter();
    std::chrono::steady_clock::time_point arrived_{};
    // The last refresh the authorization server could not answer (5xx, 429, unreachable).
    struct RefreshFailure {
        std::string access_token;
        Error error;
        std::chrono::steady_clock::time_point at;
    };
    std::optional<RefreshFailure> refresh_failure_;
    std::optional<Discovery> discovery_;
    std::set<std::string> stepped_up_;  // scope sets already requested by a step-up

    std::mutex cancel_mutex_;  // guards the two below; never held while waiting
    std::atomic<bool> cancel_flag_{false};
    CallbackSession* active_listener_ = nullptr;
};

// The relay's view of an Authenticator: "Bearer <token>" in the configured header.
class BearerTokenSource : public TokenSource {
public:
    BearerTokenSource(Authenticator& auth, std::string header_name, bool allow_browser, Log& log)
        : auth_(auth), header_(std::move(header_name)), allow_browser_(allow_browser), log_(log) {}
    std::string header_name() const override { return header_; }
    std::string current() override;
    Expected<std::string> renew(int status, const std::string& www_authenticate,
                                const std::string& sent) override;
    void cancel() override { auth_.cancel(); }

private:
    Authenticator& auth_;
    std::string header_;
    bool allow_browser_;
    Log& log_;
    std::atomic<bool> warned_{false};  // relay workers call current() concurrently
};

// Every login in the store (for `status` and `logout --all`).
Expected<std::vector<TokenRecord>> list_logins(SecretStore& store);

}  // namespace mcp_auth
