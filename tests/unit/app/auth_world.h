#pragma once
// A world for the authorization use case's tests: one fake authorization server and MCP
// server's metadata, one store and one lock table (the machine), and as many
// Authenticators (mcp-auth processes) on them as a test needs.
#include <memory>
#include <vector>

#include "app/auth/authenticator.h"
#include "app/fake_auth_server.h"
#include "app/fake_http.h"
#include "app/fake_ports.h"
#include "app/lines.h"

namespace mcp_auth::testing {

struct AuthWorld {
    FakeAuthServer as;
    FakeHttp http{as.handler()};
    MemoryStore store;
    MemoryLocks locks;
    FakeClock clock;
    FakeBrowser browser;
    FakeCallbacks callbacks{[this](const std::string& url) { return as.approve(url); }};
    Lines log_lines;
    Log log{log_lines, true};

    AuthOptions options() const {
        AuthOptions o;
        o.server = *parse_url(as.server);
        return o;
    }
    // One mcp-auth process: an Authenticator on the shared store and locks.
    std::unique_ptr<Authenticator> process(AuthOptions o, LoginAgentLauncher* agent = nullptr,
                                           bool holds_login_lock = false) {
        AuthContext context{store, log,     http,  callbacks,       locks,
                            clock, browser, agent, holds_login_lock};
        return std::make_unique<Authenticator>(std::move(o), context);
    }
    std::unique_ptr<Authenticator> process() { return process(options()); }
};

}  // namespace mcp_auth::testing
