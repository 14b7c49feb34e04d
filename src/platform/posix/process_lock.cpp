#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "core/base64.h"
#include "core/crypto.h"
#include "platform/process_lock.h"
#include "ports/secret_store.h"

namespace mcp_auth {

namespace {

bool make_private_dir(const std::string& dir) {
    std::string partial;
    size_t pos = 0;
    while (pos != std::string::npos) {
        pos = dir.find('/', pos + 1);
        partial = dir.substr(0, pos);
        if (partial.empty()) continue;
        if (mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) return false;
    }
    return true;
}

// A directory of this user's that nobody else can write to (so nobody else can hold, or
// replace, a lock file in it).
bool owned_private(const std::string& dir) {
    struct stat st {};
    return stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid() &&
           (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

}  // namespace

std::string lock_directory() {
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    if (runtime && runtime[0] == '/' && owned_private(runtime))
        return std::string(runtime) + "/mcp-auth";
    std::string state = default_state_dir();
    return state.empty() ? std::string() : state + "/locks";
}

Expected<ProcessLock> ProcessLock::for_server(const std::string& server,
                                              const std::string& purpose) {
    std::string dir = lock_directory();
    if (dir.empty())
        return make_error(ErrorKind::Invalid,
                          "no directory for mcp-auth's login locks: set HOME (or XDG_RUNTIME_DIR) "
                          "to an absolute path");
    if (!make_private_dir(dir))
        return make_error(ErrorKind::Invalid, "could not create the lock directory " + dir + ": " +
                                                  std::strerror(errno));
    if (!owned_private(dir))
        return make_error(ErrorKind::Invalid,
                          "refusing the lock directory " + dir +
                              ": it is not yours, or other users can write to it. Remove it (or "
                              "run `chmod 700 " +
                              dir + "`) and try again.");
    ProcessLock lock;
    // The name says which server without spelling out its URL.
    lock.path_ =
        dir + "/" + base64url_encode(sha256(server)).substr(0, 22) + "." + purpose + ".lock";
    lock.fd_ = open(lock.path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lock.fd_ < 0)
        return make_error(ErrorKind::Invalid, "could not open the lock file " + lock.path_ + ": " +
                                                  std::strerror(errno));
    return lock;
}

ProcessLock::~ProcessLock() {
    release();
}

ProcessLock::ProcessLock(ProcessLock&& other) noexcept
    : fd_(other.fd_), path_(std::move(other.path_)) {
    other.fd_ = -1;
}

ProcessLock& ProcessLock::operator=(ProcessLock&& other) noexcept {
    if (this != &other) {
        release();
        fd_ = other.fd_;
        path_ = std::move(other.path_);
        other.fd_ = -1;
    }
    return *this;
}

bool ProcessLock::try_lock() {
    return fd_ >= 0 && flock(fd_, LOCK_EX | LOCK_NB) == 0;
}

Status ProcessLock::lock(bool exclusive, std::chrono::milliseconds timeout,
                         const std::atomic<bool>* cancelled) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (fd_ < 0) return make_error(ErrorKind::Invalid, "the lock " + path_ + " is not open");
        if (flock(fd_, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0) return Ok{};
        if (errno != EWOULDBLOCK && errno != EINTR)
            return make_error(ErrorKind::Invalid,
                              "could not lock " + path_ + ": " + std::strerror(errno));
        if (cancelled && *cancelled)
            return make_error(ErrorKind::LoginRequired, "mcp-auth is shutting down.");
        if (std::chrono::steady_clock::now() >= deadline)
            return make_error(ErrorKind::Timeout,
                              "another mcp-auth process held the lock for too long");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

void ProcessLock::release() {
    if (fd_ >= 0) close(fd_);  // closing drops this descriptor's hold on the lock
    fd_ = -1;
}

}  // namespace mcp_auth
