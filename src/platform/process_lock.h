#pragma once
// The platform's process locks (ports/locks.h): one lock file per server and purpose in a
// private directory (platform/private_dir.h), so the lock belongs to an open handle and
// dies with the last process holding it: a killed relay or login agent never leaves one
// behind. The change marker is a file beside the locks that grows by a byte per change
// (its file_stamp is the stamp). File names are a hash of the server URL: a listing of
// the directory does not spell out which servers the user logs in to.
//
// Portable code over platform/private_dir.h (platform/process_lock.cpp). What the
// platform must give it: LockFile handles that are not inherited by default and are passed
// to a login agent only through platform/spawn.h (POSIX: descriptor 3; Windows: an
// explicit handle list), and whose lock ends when the last copy is closed.
#include <memory>
#include <string>

#include "core/expected.h"
#include "ports/locks.h"

namespace mcp_auth {

class FileLockService : public LockService {
public:
    // `directory`: see lock_directory(); "" makes every open() fail saying what to set.
    explicit FileLockService(std::string directory) : dir_(std::move(directory)) {}
    Expected<std::unique_ptr<ProcessLock>> open(const std::string& server,
                                                const std::string& purpose) override;
    std::string change_stamp(const std::string& server) override;
    void note_change(const std::string& server) override;

private:
    std::string dir_;
};

// `runtime_dir`/mcp-auth when `runtime_dir` (XDG_RUNTIME_DIR on Linux) is an absolute path
// to this user's private directory, else `state_dir`/locks; "" when neither is usable.
std::string lock_directory(const std::string& runtime_dir, const std::string& state_dir);

}  // namespace mcp_auth
