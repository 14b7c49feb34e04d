#pragma once
// The grants, one file each: how a login or a renewal is obtained from the authorization
// server once discovery has said where it is. They share a GrantContext (the parts of the
// Authenticator they use) and keep no state of their own: storing what they return, and
// deciding which one runs, is the Authenticator's job.
//   authorization_code.cpp  the browser login: loopback listener, PKCE + state, the code
//                           exchange; a registration the server forgot is replaced once
//   client_credentials.cpp  machine login (--client-credentials)
//   id_jag.cpp              enterprise-managed authorization: the IdP's ID token exchanged
//                           for an identity assertion (RFC 8693), then a JWT bearer grant
//   refresh.cpp             the refresh grant, retried with backoff while the server is down
#include <atomic>
#include <functional>
#include <string>

#include "app/auth/client_registry.h"
#include "app/auth/discovery.h"
#include "app/auth/options.h"
#include "app/auth/token_endpoint.h"
#include "core/credentials.h"
#include "core/oauth_flow.h"

namespace mcp_auth::auth {

struct GrantContext {
    const AuthOptions& options;
    AuthContext& ports;
    DiscoveryClient& discovery;
    ClientRegistry& clients;
    TokenEndpoint& tokens;
    const std::atomic<bool>& cancelled;  // shutdown: waits end, no new browser login
    // Registers the listener of a browser login in progress (null: none), so that a
    // shutdown ends its wait. False when the process is already shutting down.
    std::function<bool(CallbackSession*)> track_listener;
    std::string shown() const { return options.server.display(); }  // for messages
};

// Tracks a listener for the life of one browser login.
struct ListenerGuard {
    ListenerGuard(GrantContext& g, CallbackSession* session)
        : g(g), ok(g.track_listener(session)) {}
    ~ListenerGuard() { g.track_listener(nullptr); }
    ListenerGuard(const ListenerGuard&) = delete;
    ListenerGuard& operator=(const ListenerGuard&) = delete;
    GrantContext& g;
    bool ok;
};

// A person logs in through the browser (`allow_browser` false, or no browser here:
// LoginRequired instead).
Expected<TokenRecord> authorization_code_login(GrantContext& g, const Discovery& d,
                                               const std::string& scope, bool allow_browser);
Expected<TokenRecord> client_credentials_login(GrantContext& g, const Discovery& d,
                                               const std::string& scope);
Expected<TokenRecord> id_jag_login(GrantContext& g, const Discovery& d, const std::string& scope);
// An authorization server that is down (5xx, 429, refused connection) does not end a
// login: a few tries, then a clear Network error; the caller asks for a browser only when
// the grant itself was refused.
Expected<oauth::TokenSet> refresh_grant(GrantContext& g, const TokenRecord& record,
                                        const Client& client);

}  // namespace mcp_auth::auth
