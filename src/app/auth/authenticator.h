#pragma once
// The authorization use case: a valid token for one MCP server, from the store, a
// refresh, or a login. Decision order for a request:
//   stored token fresh → use it; near expiry with a refresh token → refresh (rotated
//   refresh token saved at once); else → log in (client credentials, or the browser
//   flow: discovery → client identity → PKCE + state → loopback callback → exchange).
// 401 → refresh, else log in again. 403 insufficient_scope → re-authorize once with the
// union of scopes. The ports (store, HTTP, locks, browser, clock) come from the composition
// root (src/cli) or, in tests/unit/app, fakes.
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
//
// The parts, one file each: discovery.h (where the authorization server is),
// client_registry.h (which client), token_endpoint.h (requests and pins), grants/ (how a
// login or renewal is obtained), login_coordinator.h (one login at a time, the agent),
// renewal.cpp (refresh under the cross-process lock), policy.h (shared rules). This class
// holds the state and makes the decisions; BearerTokenSource (bearer_token_source.cpp)
// is the relay's view.
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "app/auth/client_registry.h"
#include "app/auth/discovery.h"
#include "app/auth/grants/grants.h"
#include "app/auth/login_coordinator.h"
#include "app/auth/options.h"
#include "app/auth/token_endpoint.h"
#include "app/token_source.h"
#include "core/credentials.h"
#include "core/expected.h"
#include "ports/log.h"

namespace mcp_auth {

class Authenticator {
public:
    // A store that failed (no Secret Service, a locked keychain) is asked again only
    // after this long: the relay asks for a token with every message.
    static constexpr std::chrono::seconds kStoreRetryAfter{30};
    // How often the relay's per-message lookup looks at another instance's change marker.
    static constexpr std::chrono::milliseconds kStampRecheck{1000};

    Authenticator(AuthOptions options, AuthContext context);
    Authenticator(const Authenticator&) = delete;
    Authenticator& operator=(const Authenticator&) = delete;

    const AuthOptions& options() const { return options_; }
    std::string server() const { return options_.server.to_string(); }

    // The stored login for this server (the newest if several issuers have one).
    Expected<std::optional<TokenRecord>> stored();
    // A token usable now: the stored one, refreshed when near expiry. Error kind
    // LoginRequired when a person has to log in (no token, or the refresh was refused).
    Expected<TokenRecord> valid_token();
    // Whether valid_token() would answer from memory at once: nobody holds the login, the
    // store was read (or failed a moment ago), and the token needs no refresh. Never blocks.
    bool token_at_hand();
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
    // `user_asked`: the user ran `login` or `token`; a relay's own logins (after a 401)
    // do not log in with client credentials again once the login was removed (logout).
    Expected<TokenRecord> login_locked(const std::string& challenge, const std::string& scope,
                                       bool allow_browser, bool user_asked);
    bool enterprise() const;
    // renewal.cpp: a refresh (or a new machine/enterprise grant) under the server's
    // cross-process refresh lock.
    Expected<TokenRecord> refresh_locked(const TokenRecord& stale);
    Expected<TokenRecord> refresh_holding_lock(const TokenRecord& stale);
    // Saves a login a refresh could not save before (its refresh token is in memory only).
    Status retry_unsaved(bool holding_refresh_lock = false);
    // The stored login, re-read, when it is fresh and not the one we had (`before`).
    std::optional<TokenRecord> fresh_login_since(const std::string& before);
    std::string shown() const { return options_.server.display(); }  // for messages
    Status save(const TokenRecord& record);
    // Tells other processes the stored login changed (LockService's change marker).
    void note_change();
    // How fresh a read of the stored login must be.
    enum class Read {
        PerMessage,  // the relay's lookup: the change marker at most once per kStampRecheck
        Marker,      // the change marker now: the store again if it moved
        Again,       // the store again (another process may have written it)
    };
    // The stored login, from memory unless `read` asks for more, the change marker moved,
    // or the store failed more than kStoreRetryAfter ago.
    Expected<std::optional<TokenRecord>> load_locked(Read read = Read::Marker);
    // Takes mutex_, noting when the caller arrived (arrived_): a refresh that failed while
    // it waited is its answer too, so a burst of requests makes one round of tries, and a
    // request that comes later tries again (the authorization server may be back).
    std::unique_lock<std::mutex> enter();

    AuthOptions options_;
    AuthContext ctx_;
    DiscoveryClient discovery_;
    ClientRegistry clients_;
    TokenEndpoint tokens_;
    auth::GrantContext grants_;
    auth::LoginCoordinator logins_;

    std::mutex mutex_;  // one login or refresh at a time; others wait and reuse its result
    std::optional<TokenRecord> current_;
    bool loaded_ = false;
    bool had_login_ = false;              // this process has seen a stored login for the server
    bool logged_out_ = false;             // ... and then found it removed (by `mcp-auth logout`)
    std::optional<TokenRecord> unsaved_;  // a refreshed login the store refused to keep
    std::chrono::steady_clock::time_point arrived_{};
    // The last refresh the authorization server could not answer (5xx, 429, unreachable).
    struct RefreshFailure {
        std::string access_token;
        Error error;
        std::chrono::steady_clock::time_point at;
    };
    std::optional<RefreshFailure> refresh_failure_;
    struct StoreFailure {
        Error error;
        std::chrono::steady_clock::time_point at;
    };
    std::optional<StoreFailure> store_failure_;
    std::string stamp_;  // the change marker when the store was last read
    std::optional<std::chrono::steady_clock::time_point> stamp_checked_;  // ... looked at
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
    bool ready() override { return auth_.token_at_hand(); }
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
