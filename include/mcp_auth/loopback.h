#pragma once
// The loopback redirect listener (RFC 8252 §7.3): binds 127.0.0.1 before the browser
// opens, serves exactly one accepted callback, then closes. The only server-side use of
// cpp-httplib.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "mcp_auth/expected.h"
#include "mcp_auth/url.h"

namespace mcp_auth {

class CallbackListener {
public:
    // What to do with one request to /callback.
    struct Verdict {
        bool final = false;    // true: this callback ends the wait (success or failure)
        bool success = false;  // shown on the page
        std::string message;   // shown on the page (escaped)
    };
    using Judge = std::function<Verdict(const QueryParams& query)>;

    // Binds 127.0.0.1:`port` (0 = a port the OS chooses). Fails when the port is taken.
    static Expected<std::unique_ptr<CallbackListener>> start(int port);
    ~CallbackListener();

    int port() const;
    std::string redirect_uri() const;  // http://127.0.0.1:<port>/callback

    // Serves callbacks until `judge` calls one final, or `timeout` passes. Returns the
    // final callback's query. Requests that are not final (a wrong state, say) get an
    // error page and the wait goes on.
    Expected<QueryParams> wait(std::chrono::milliseconds timeout, Judge judge);
    // Makes a wait() in another thread return at once. Thread-safe.
    void cancel();

private:
    struct Impl;
    explicit CallbackListener(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace mcp_auth
