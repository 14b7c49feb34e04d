#pragma once
// Ports: the clock, the browser and the login agent, as the use cases see them.
#include <atomic>
#include <chrono>
#include <string>

#include "core/expected.h"

namespace mcp_auth {

class Clock {
public:
    virtual ~Clock() = default;
    // Wall-clock time, epoch seconds (token expiry, `iat`).
    virtual long long now() = 0;
    // Monotonic time (deadlines, backoff, how old a remembered failure is).
    virtual std::chrono::steady_clock::time_point steady() = 0;
    // Waits `delay`, or less when `cancelled` is set meanwhile.
    virtual void sleep(std::chrono::milliseconds delay, const std::atomic<bool>& cancelled) = 0;
};

class Browser {
public:
    virtual ~Browser() = default;
    // Whether opening a browser can work here at all (false over SSH without a display).
    virtual bool available() = 0;
    // Opens the URL; false when no browser could be started (the user is shown the URL).
    virtual bool open(const std::string& url) = 0;
};

class ProcessLock;

// Starts the browser login in a detached process (a copy of mcp-auth) that inherits the
// server's login lock and saves the tokens: a host that kills this instance does not end
// the login the user is completing.
class LoginAgentLauncher {
public:
    virtual ~LoginAgentLauncher() = default;
    virtual Status start(const ProcessLock& login_lock, const std::string& challenge,
                         const std::string& scope) = 0;
};

}  // namespace mcp_auth
