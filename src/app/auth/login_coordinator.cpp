#include "app/auth/login_coordinator.h"

#include "app/auth/policy.h"

namespace mcp_auth::auth {

LoginCoordinator::LoginCoordinator(const AuthOptions& options, AuthContext& ports,
                                   const std::atomic<bool>& cancelled, FreshSince fresh_since)
    : options_(options),
      ports_(ports),
      cancelled_(cancelled),
      fresh_since_(std::move(fresh_since)) {}

Expected<TokenRecord> LoginCoordinator::via_agent(const std::string& challenge,
                                                  const std::string& scope, bool allow_browser,
                                                  const std::string& before) {
    if (!allow_browser || !ports_.browser.available())
        return login_required(
            shown(), "Logging in to " + shown() + " needs a browser, and none can be opened here.");
    auto opened = ports_.locks.open(server(), "login");
    if (!opened) return opened.error();
    auto& lock = *opened;
    if (lock->try_lock()) {
        // Someone may have finished a login between our 401 and this lock.
        if (auto done = fresh_since_(before)) return *done;
        // The login runs in a process of its own that inherits this lock: a host that
        // kills this instance does not kill the login, and the tab the user has open
        // still completes it. Every instance waits for the lock to come free.
        if (auto ok = ports_.agent->start(*lock, challenge, scope); !ok) return ok.error();
        lock->release();
        ports_.log.info("logging in to " + shown() +
                        " in the browser; waiting for the login to finish");
    } else {
        ports_.log.info("a login to " + shown() +
                        " is in progress in another mcp-auth process; waiting for it");
    }
    // The agent's hold on the lock ends with its process: wait on a descriptor of our own.
    auto waiter = ports_.locks.open(server(), "login");
    if (!waiter) return waiter.error();
    auto ok = (*waiter)->lock(false, wait_budget(), &cancelled_);
    (*waiter)->release();
    if (!ok) return login_required(shown(), "No login arrived in time.");
    if (auto done = fresh_since_(before)) return *done;
    return login_required(shown(), "The login in the browser did not complete.");
}

Expected<TokenRecord> LoginCoordinator::in_process(
    const std::string& before, const std::function<Expected<TokenRecord>()>& login) {
    std::unique_ptr<ProcessLock> lock;
    if (!ports_.holds_login_lock) {  // a login agent holds it already (inherited)
        auto opened = ports_.locks.open(server(), "login");
        if (!opened) return opened.error();
        lock = std::move(*opened);
        if (!lock->try_lock()) {
            ports_.log.info("another login to " + shown() +
                            " is in progress; waiting for it to finish");
            auto ok = lock->lock(true, wait_budget(), &cancelled_);
            if (!ok) return login_required(shown(), "The other login did not finish.");
            if (auto done = fresh_since_(before)) return *done;
        }
    }
    return login();
}

}  // namespace mcp_auth::auth
