#pragma once
// Port: the loopback redirect listener of a browser login (RFC 8252 §7.3). The adapter
// (adapters/loopback) binds before the browser opens, gives the browser a one-time start
// page instead of the authorization URL, and serves callbacks until one is final.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/expected.h"
#include "core/url.h"

namespace mcp_auth {

class CallbackSession {
public:
    // What to do with one request to the callback path that carries the login cookie.
    struct Verdict {
        bool final = false;    // true: this callback ends the wait (success or failure)
        bool success = false;  // shown on the page
        std::string message;   // shown on the page (escaped)
    };
    using Judge = std::function<Verdict(const QueryParams& query)>;

    virtual ~CallbackSession() = default;
    virtual int port() const = 0;
    virtual std::string redirect_uri() const = 0;  // e.g. http://127.0.0.1:<port>/callback
    // Arms the one-time start page for `authorization_url` and returns its URL, the only
    // one to give the browser or show the user. Fails (Invalid) for anything but an
    // absolute http(s) URL of RFC 3986 characters. Call before wait().
    virtual Expected<std::string> start_url(const std::string& authorization_url) = 0;
    // Serves callbacks until `judge` calls one final, or `timeout` passes, or the login is
    // given up (abuse). Returns the final callback's query.
    virtual Expected<QueryParams> wait(std::chrono::milliseconds timeout, Judge judge) = 0;
    // Makes a wait() in another thread return at once. Thread-safe.
    virtual void cancel() = 0;
};

class CallbackServer {
public:
    virtual ~CallbackServer() = default;
    // Binds the loopback port (0 = one the OS chooses); fails when it is taken.
    virtual Expected<std::unique_ptr<CallbackSession>> listen(int port) = 0;
};

}  // namespace mcp_auth
