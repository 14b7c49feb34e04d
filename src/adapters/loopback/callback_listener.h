#pragma once
// The loopback redirect listener (ports/callback.h; RFC 8252 §7.3): binds 127.0.0.1 before the
// browser opens, serves exactly one accepted callback, then closes. The only server-side use of
// cpp-httplib.
//
// Another user of this machine can read a browser's command line (/proc) and reach any
// loopback port, so the callback must be unforgeable by them. The browser is therefore
// never given the authorization URL (its `state` and PKCE challenge): it opens a one-time
// start page on this listener, http://127.0.0.1:<port>/start?n=<nonce>, whose first visit
// answers 302 to the authorization URL and sets a random cookie (HttpOnly, SameSite=Lax,
// Path=/callback). Only a callback that carries that cookie can end the wait; one
// without it is never final. Abuse ends the login with a clear error rather than going
// on: a second visit of the start page (someone else opened the link too, so may have
// seen `state` or may be driving the login), or kMaxBadCallbacks callbacks that were not
// accepted (someone is guessing).
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/expected.h"
#include "core/url.h"
#include "ports/callback.h"

namespace mcp_auth {

class CallbackListener : public CallbackSession {
public:
    // Callbacks refused (no cookie, a wrong state, a wrong start nonce) before the login
    // is given up.
    static constexpr int kMaxBadCallbacks = 5;

    // Binds 127.0.0.1:`port` (0 = a port the OS chooses). Fails when the port is taken,
    // also by a socket that set SO_REUSEPORT (the port is never shared).
    static Expected<std::unique_ptr<CallbackListener>> start(int port);
    ~CallbackListener() override;

    int port() const override;
    std::string redirect_uri() const override;  // http://127.0.0.1:<port>/callback
    // Fails (Invalid) when `authorization_url` is not an absolute http(s) URL of RFC 3986
    // characters (it would reach the browser through the redirect).
    Expected<std::string> start_url(const std::string& authorization_url) override;
    // Requests that are not final (a wrong state, say) get an error page and the wait
    // goes on.
    Expected<QueryParams> wait(std::chrono::milliseconds timeout, Judge judge) override;
    void cancel() override;

private:
    struct Impl;
    explicit CallbackListener(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// The port's adapter: each listen() starts a CallbackListener.
class LoopbackCallbackServer : public CallbackServer {
public:
    Expected<std::unique_ptr<CallbackSession>> listen(int port) override {
        auto listener = CallbackListener::start(port);
        if (!listener) return listener.error();
        return std::unique_ptr<CallbackSession>(std::move(*listener));
    }
};

}  // namespace mcp_auth
