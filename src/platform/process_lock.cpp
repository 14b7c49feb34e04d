// platform/process_lock.h: portable, over platform/private_dir.h.
#include "platform/process_lock.h"

#include <thread>

#include "core/base64.h"
#include "core/crypto.h"
#include "platform/private_dir.h"

namespace mcp_auth {
namespace {

const PrivateDirectoryUse kLockUse{"the lock directory", "hold or replace mcp-auth's login locks",
                                   ErrorKind::Io};

// The name says which server without spelling out its URL.
std::string file_for(const std::string& server, const std::string& suffix) {
    return base64url_encode(sha256(server)).substr(0, 22) + suffix;
}

Expected<PrivateDirectory> ready_directory(const std::string& dir) {
    if (dir.empty())
        return make_error(ErrorKind::Invalid,
                          "no directory for mcp-auth's login locks: set HOME (or XDG_RUNTIME_DIR) "
                          "to an absolute path");
    return PrivateDirectory::open(dir, kLockUse);
}

class FileLock : public ProcessLock {
public:
    explicit FileLock(LockFile file) : file_(std::move(file)) {}

    bool try_lock() override {
        auto taken = file_.try_lock(true);
        return taken && *taken;
    }

    Status lock(bool exclusive, std::chrono::milliseconds timeout,
                const std::atomic<bool>* cancelled) override {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            auto taken = file_.try_lock(exclusive);
            if (!taken) return taken.error();
            if (*taken) return Ok{};
            if (cancelled && *cancelled)
                return make_error(ErrorKind::Cancelled, "mcp-auth is shutting down.");
            if (std::chrono::steady_clock::now() >= deadline)
                return make_error(ErrorKind::Timeout,
                                  "another mcp-auth process held the lock for too long");
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }

    void release() override { file_.release(); }
    int handle() const override { return file_.handle(); }

private:
    LockFile file_;
};

}  // namespace

std::string lock_directory(const std::string& runtime, const std::string& state) {
    if (!runtime.empty() && runtime[0] == '/' && is_private_directory(runtime))
        return runtime + "/mcp-auth";
    return state.empty() ? std::string() : state + "/locks";
}

Expected<std::unique_ptr<ProcessLock>> FileLockService::open(const std::string& server,
                                                             const std::string& purpose) {
    auto dir = ready_directory(dir_);
    if (!dir) return dir.error();
    auto file = dir->open_lock(file_for(server, "." + purpose + ".lock"));
    if (!file) return file.error();
    return std::unique_ptr<ProcessLock>(std::make_unique<FileLock>(std::move(*file)));
}

std::string FileLockService::change_stamp(const std::string& server) {
    if (dir_.empty()) return {};
    return file_stamp(dir_ + "/" + file_for(server, ".changed"));
}

void FileLockService::note_change(const std::string& server) {
    auto dir = ready_directory(dir_);
    if (dir) (void)dir->touch_marker(file_for(server, ".changed"));  // best effort
}

}  // namespace mcp_auth
