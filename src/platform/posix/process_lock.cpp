#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "core/base64.h"
#include "core/crypto.h"
#include "platform/process_lock.h"

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

std::string lock_directory(const std::string& runtime, const std::string& state) {
    if (!runtime.empty() && runtime[0] == '/' && owned_private(runtime)) return runtime + "/mcp-auth";
    return state.empty() ? std::string() : state + "/locks";
}

namespace {

// The name says which server without spelling out its URL.
std::string file_for(const std::string& dir, const std::string& server, const char* suffix) {
    return dir + "/" + base64url_encode(sha256(server)).substr(0, 22) + suffix;
}

}  // namespace

Expected<std::string> FileLockService::ready_directory() {
    const std::string& dir = dir_;
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
    return dir;
}

Expected<std::unique_ptr<ProcessLock>> FileLockService::open(const std::string& server,
                                                             const std::string& purpose) {
    auto dir = ready_directory();
    if (!dir) return dir.error();
    std::string path = file_for(*dir, server, ("." + purpose + ".lock").c_str());
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return make_error(ErrorKind::Invalid,
                          "could not open the lock file " + path + ": " + std::strerror(errno));
    return std::unique_ptr<ProcessLock>(std::make_unique<FileLock>(fd, std::move(path)));
}

std::string FileLockService::change_stamp(const std::string& server) {
    if (dir_.empty()) return {};
    struct stat st {};
    if (stat(file_for(dir_, server, ".changed").c_str(), &st) != 0) return "none";
    return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
           std::to_string(static_cast<long long>(st.st_mtime));
}

void FileLockService::note_change(const std::string& server) {
    auto dir = ready_directory();
    if (!dir) return;
    std::string path = file_for(*dir, server, ".changed");
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return;
    struct stat st {};
    // One byte per change: the size always moves (a timestamp alone may not, within a
    // clock tick). Kept small: a truncation changes the size too.
    if (fstat(fd, &st) == 0 && st.st_size >= 4096) (void)!ftruncate(fd, 0);
    (void)!write(fd, "+", 1);
    close(fd);
}

bool FileLock::try_lock() {
    return fd_ >= 0 && flock(fd_, LOCK_EX | LOCK_NB) == 0;
}

Status FileLock::lock(bool exclusive, std::chrono::milliseconds timeout,
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

void FileLock::release() {
    if (fd_ >= 0) close(fd_);  // closing drops this descriptor's hold on the lock
    fd_ = -1;
}

}  // namespace mcp_auth
