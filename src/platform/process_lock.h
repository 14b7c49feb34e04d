#pragma once
// Cross-process coordination for one server: advisory flock(2) locks on files in a
// private directory. A lock dies with the last process holding it (a killed process never
// leaves one behind), and can be handed to a child by inheriting its descriptor.
#include <atomic>
#include <chrono>
#include <string>

#include "core/expected.h"

namespace mcp_auth {

class ProcessLock {
public:
    ProcessLock() = default;
    // Opens (creating) the lock file for `server` and `purpose` ("login", "refresh")
    // in lock_directory().
    static Expected<ProcessLock> for_server(const std::string& server, const std::string& purpose);
    ~ProcessLock();
    ProcessLock(ProcessLock&& other) noexcept;
    ProcessLock& operator=(ProcessLock&& other) noexcept;
    ProcessLock(const ProcessLock&) = delete;
    ProcessLock& operator=(const ProcessLock&) = delete;

    // Exclusive, without waiting: false when another process holds it.
    bool try_lock();
    // Waits for the lock (exclusive, or shared just to see it free) up to `timeout`,
    // polling so that `cancelled` can end the wait.
    Status lock(bool exclusive, std::chrono::milliseconds timeout,
                const std::atomic<bool>* cancelled = nullptr);
    // Releases the lock and closes this descriptor (a child that inherited it keeps it).
    void release();
    int fd() const { return fd_; }
    const std::string& path() const { return path_; }

private:
    int fd_ = -1;
    std::string path_;
};

// $XDG_RUNTIME_DIR/mcp-auth, else <state dir>/locks; created with mode 0700.
std::string lock_directory();

}  // namespace mcp_auth
