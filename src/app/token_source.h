#pragma once
// What the relay needs from authorization, and nothing more: a header value for each
// request, and a way to get a better one after the server refused it.
#include <string>

#include "core/expected.h"

namespace mcp_auth {

class TokenSource {
public:
    virtual ~TokenSource() = default;
    // The header that carries the token ("Authorization", or e.g. "X-Authorization").
    virtual std::string header_name() const = 0;
    // The value for the next request ("Bearer ..."), "" when there is none yet.
    virtual std::string current() = 0;
    // Whether current() would answer at once, from memory (no refresh, no store read, no
    // other thread's login to wait for). Never blocks.
    virtual bool ready() { return false; }
    // The server answered `status` (401, or 403 with insufficient_scope) with this
    // WWW-Authenticate value to a request that carried `sent`. Returns the value to
    // retry with (after a refresh or a login, which may take a while), or why there is none.
    virtual Expected<std::string> renew(int status, const std::string& www_authenticate,
                                        const std::string& sent) = 0;
    // Ends a login in progress (the process is shutting down).
    virtual void cancel() = 0;
};

}  // namespace mcp_auth
