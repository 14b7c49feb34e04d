#pragma once
// One browser login per server at a time, across every mcp-auth process: the server's
// login lock (LockService, purpose "login"). A relay instance does not log in itself: it
// starts a login agent (a detached `mcp-auth login`) that inherits the lock, so a host
// that kills the instance does not end the login the person is completing, and every
// instance (this one included) waits for the lock to come free and then reads the login
// from the store. A terminal command (or the agent itself) logs in in its own process,
// under the same lock; one that finds the lock taken waits for that login instead.
#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "app/auth/options.h"
#include "core/credentials.h"
#include "core/expected.h"

namespace mcp_auth::auth {

class LoginCoordinator {
public:
    // The stored login, read again from the store, when it is fresh and not the one
    // whose access token is `before`.
    using FreshSince = std::function<std::optional<TokenRecord>(const std::string& before)>;

    LoginCoordinator(const AuthOptions& options, AuthContext& ports,
                     const std::atomic<bool>& cancelled, FreshSince fresh_since);

    // Whether this process leaves browser logins to an agent (ports.agent is set).
    bool uses_agent() const { return ports_.agent != nullptr; }
    // Starts an agent for the login (unless one runs already) and waits for its result.
    Expected<TokenRecord> via_agent(const std::string& challenge, const std::string& scope,
                                    bool allow_browser, const std::string& before);
    // Runs `login` in this process under the login lock; when another process holds it,
    // waits and takes its login instead.
    Expected<TokenRecord> in_process(const std::string& before,
                                     const std::function<Expected<TokenRecord>()>& login);

private:
    std::string server() const { return options_.server.to_string(); }
    std::string shown() const { return options_.server.display(); }
    std::chrono::milliseconds wait_budget() const {
        return options_.login_timeout + std::chrono::seconds(15);
    }

    const AuthOptions& options_;
    AuthContext& ports_;
    const std::atomic<bool>& cancelled_;
    FreshSince fresh_since_;
};

}  // namespace mcp_auth::auth
