#pragma once
// Port: coordination between mcp-auth processes for one server. A lock dies with the last
// process holding it (a killed process never leaves one behind) and can be handed to a
// login agent. platform/posix implements it with flock(2) on files in a private
// directory; unit tests with an in-memory table shared by several Authenticators.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "core/expected.h"

namespace mcp_auth {

class ProcessLock {
public:
    virtual ~ProcessLock() = default;
    // Exclusive, without waiting: false when another holder has it.
    virtual bool try_lock() = 0;
    // Waits for the lock (exclusive, or shared just to see it free) up to `timeout`,
    // polling so that `cancelled` can end the wait. Error kind Timeout when it stayed held.
    virtual Status lock(bool exclusive, std::chrono::milliseconds timeout,
                        const std::atomic<bool>* cancelled = nullptr) = 0;
    // Releases the lock and closes this handle (a login agent that inherited it keeps it).
    virtual void release() = 0;
    // What a login agent inherits to hold the lock (a descriptor on POSIX); -1 when none.
    virtual int handle() const = 0;
};

class LockService {
public:
    virtual ~LockService() = default;
    // The lock for `server` and `purpose` ("login", "refresh"), not yet taken.
    virtual Expected<std::unique_ptr<ProcessLock>> open(const std::string& server,
                                                        const std::string& purpose) = 0;
    // A value that changes whenever note_change(server) is called by any process: lets a
    // relay read the store only when another process may have written it. Cheap (a stat).
    virtual std::string change_stamp(const std::string& server) = 0;
    // Tells every process that the stored login for `server` changed.
    virtual void note_change(const std::string& server) = 0;
};

}  // namespace mcp_auth
