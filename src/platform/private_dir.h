#pragma once
// A directory only this user can change, and the files mcp-auth keeps in it: the file
// store's credentials (adapters/store/file_store.cpp) and the login locks
// (platform/process_lock.h). Another local user must not be able to read, plant or
// redirect them, and a crashed process must never leave one locked.
//
// What every implementation guarantees (platform/posix/private_dir.cpp; a win32 sibling
// implements the same):
// - open() creates the missing components for this user alone and refuses the directory
//   unless this user owns it and nobody else can write to it (POSIX: owner uid and mode;
//   Windows: owner SID and a DACL that grants writing to nobody else). A link to the
//   directory itself is followed (users move ~/.local/state elsewhere); the checks are on
//   the directory reached, and every later access goes through the handle that passed
//   them, so swapping the path afterwards changes nothing.
// - No link inside the directory is followed (POSIX: O_NOFOLLOW; Windows: a reparse point
//   is refused), with a message that says so.
// - Files are created for this user alone whatever the umask (POSIX 0600; Windows a
//   protected DACL for the user), under unguessable names for temporaries.
// - replace() is atomic and durable: a reader sees the old content or the new, never a
//   mix, also after a crash (POSIX: fsync + renameat + fsync of the directory; Windows:
//   FlushFileBuffers + MoveFileExW(MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)).
// - A LockFile's lock belongs to its open handle: it ends with release(), with the
//   handle's close, or with the process (POSIX flock(2); Windows LockFileEx). Handles are
//   not inherited by children unless passed explicitly (platform/spawn.h).
// No handle type appears here: the implementation keeps its own (the headers of this
// folder include no OS header).
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/expected.h"

namespace mcp_auth {

// How a directory is named in messages, and the kind of its errors.
struct PrivateDirectoryUse {
    std::string what;  // "the file store", "the lock directory"
    std::string risk;  // what another user could do: "read or replace your tokens"
    ErrorKind kind = ErrorKind::StoreUnavailable;
};

// A lock file of a private directory: one open handle, and the lock that belongs to it.
class LockFile {
public:
    LockFile(int handle, std::string path, ErrorKind kind)
        : handle_(handle), path_(std::move(path)), kind_(kind) {}
    ~LockFile() { release(); }
    LockFile(LockFile&& other) noexcept;
    LockFile& operator=(LockFile&& other) noexcept;
    LockFile(const LockFile&) = delete;
    LockFile& operator=(const LockFile&) = delete;

    // Takes the lock (exclusive, or shared with other shared holders) without waiting:
    // false when another holder has it in a conflicting mode.
    Expected<bool> try_lock(bool exclusive);
    // Waits as long as it takes.
    Status lock(bool exclusive);
    // Releases the lock and closes the handle. A child that inherited the handle keeps
    // its hold: the lock ends when the last holder closes it.
    void release();
    // What a child inherits to hold the lock (platform/spawn.h: SpawnOptions::pass_handle);
    // -1 once released. (POSIX: the descriptor. Windows: the HANDLE's value, which fits in
    // 32 bits.)
    int handle() const { return handle_; }
    const std::string& path() const { return path_; }

private:
    int handle_ = -1;
    std::string path_;
    ErrorKind kind_;
};

class PrivateDirectory {
public:
    // Creates `path` if needed and checks it (above). `path` must be absolute and not "".
    static Expected<PrivateDirectory> open(const std::string& path, PrivateDirectoryUse use);
    ~PrivateDirectory();
    PrivateDirectory(PrivateDirectory&& other) noexcept;
    PrivateDirectory& operator=(PrivateDirectory&& other) noexcept;
    PrivateDirectory(const PrivateDirectory&) = delete;
    PrivateDirectory& operator=(const PrivateDirectory&) = delete;

    const std::string& path() const { return path_; }

    // The content of the file `name`; nullopt when there is none. Refused unless it is a
    // regular file of this user that nobody else can read or write (the messages speak of
    // tokens: it is for the file store). The read buffers are wiped.
    Expected<std::optional<std::string>> read(const std::string& name) const;
    // Replaces the file `name` with `content`, atomically (above); mode 0600.
    Status replace(const std::string& name, const std::string& content) const;
    // Opens (creating it) the lock file `name`, not yet locked.
    Expected<LockFile> open_lock(const std::string& name) const;
    // Adds one byte to the marker file `name` (emptied first once it reached 4 KB), so
    // that its file_stamp() changes whatever the clock's resolution.
    Status touch_marker(const std::string& name) const;

private:
    PrivateDirectory(int handle, std::string path, PrivateDirectoryUse use)
        : handle_(handle), path_(std::move(path)), use_(std::move(use)) {}
    int handle_ = -1;
    std::string path_;
    PrivateDirectoryUse use_;
};

// A file outside any private directory that mcp-auth appends lines to: the support log
// (adapters/log/log_file.h), at a path the user chose. Created for this user alone when
// missing (as the files above); an existing file keeps its permissions; a last component
// that is a link (Windows: a reparse point) is refused. Several processes may append at
// once: each append() is one write at the end of the file.
class AppendFile {
public:
    static Expected<AppendFile> open(const std::string& path);
    ~AppendFile();
    AppendFile(AppendFile&& other) noexcept;
    AppendFile& operator=(AppendFile&& other) noexcept;
    AppendFile(const AppendFile&) = delete;
    AppendFile& operator=(const AppendFile&) = delete;

    // One write at the end; false when it failed (disk full, file gone).
    bool append(std::string_view bytes);
    // The file's size now (other processes' appends included); -1 when unknown.
    long long size() const;

private:
    explicit AppendFile(int handle) : handle_(handle) {}
    int handle_ = -1;
};

// Renames the file `from` to `to`, replacing `to` (the support log's rotation). False when
// it could not.
bool rename_over(const std::string& from, const std::string& to);

// Whether `path` is an existing directory of this user's that nobody else can write to
// (for XDG_RUNTIME_DIR, which mcp-auth uses but does not create).
bool is_private_directory(const std::string& path);

// A value that changes whenever the file at `path` changes (POSIX: inode, size, time);
// "none" when there is no such file. One stat, no open: cheap enough per message.
std::string file_stamp(const std::string& path);

}  // namespace mcp_auth
