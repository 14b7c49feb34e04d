#pragma once
// The platform's process locks (ports/locks.h). POSIX: advisory flock(2) locks on files in
// a private directory (platform/posix/process_lock.cpp); a lock dies with the last process
// holding its descriptor, and a child inherits it by descriptor. The change marker is a
// file beside the locks that grows by a byte per change (its size and time are the stamp).
#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "core/expected.h"
#include "ports/locks.h"

namespace mcp_auth {

class FileLock : public ProcessLock {
public:
    FileLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
    ~FileLock() override { release(); }
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

    bool try_lock() override;
    Status lock(bool exclusive, std::chrono::milliseconds timeout,
                const std::atomic<bool>* cancelled = nullptr) override;
    void release() override;
    int handle() const override { return fd_; }
    const std::string& path() const { return path_; }

private:
    int fd_ = -1;
    std::string path_;
};

class FileLockService : public LockService {
public:
    // `directory`: see lock_directory(); "" makes every open() fail saying what to set.
    explicit FileLockService(std::string directory) : dir_(std::move(directory)) {}
    Expected<std::unique_ptr<ProcessLock>> open(const std::string& server,
                                                const std::string& purpose) override;
    std::string change_stamp(const std::string& server) override;
    void note_change(const std::string& server) override;

private:
    // The directory, created 0700 and checked to be this user's alone.
    Expected<std::string> ready_directory();
    std::string dir_;
};

// `runtime_dir`/mcp-auth when XDG_RUNTIME_DIR (given) is this user's private directory,
// else <state dir>/locks; "" when neither exists.
std::string lock_directory(const std::string& runtime_dir, const std::string& state_dir);

}  // namespace mcp_auth
