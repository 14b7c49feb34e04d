// platform/private_dir.h on POSIX: a directory descriptor checked once, then openat()
// with O_NOFOLLOW for every file in it; flock(2) for the locks.
#include "platform/private_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <utility>

#include "core/base64.h"
#include "core/crypto.h"
#include "ports/secret_store.h"

namespace mcp_auth {
namespace {

constexpr mode_t kOthers = S_IRWXG | S_IRWXO;
constexpr off_t kMarkerLimit = 4096;

// A file descriptor, closed when it goes out of scope.
class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) close(fd_);
    }
    Fd(Fd&& other) noexcept : fd_(other.release()) {}
    Fd& operator=(Fd&& other) noexcept {
        std::swap(fd_, other.fd_);
        return *this;
    }
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }

private:
    int fd_;
};

Error io_error(ErrorKind kind, const std::string& what, const std::string& path) {
    return make_error(kind, "could not " + what + " " + path + ": " + std::strerror(errno) +
                                ". Check the permissions.");
}

Error refused(const PrivateDirectoryUse& use, const std::string& path, const std::string& why,
              const std::string& fix) {
    return make_error(use.kind, "refusing to use " + use.what + " at " + path + ": " + why +
                                    ", so another user could " + use.risk + ". " + fix);
}

std::string octal_mode(mode_t mode) {
    std::ostringstream out;
    out << '0' << std::oct << (mode & 07777);
    return out.str();
}

// Creates the missing components of `dir` with mode 0700 (existing ones stay as they
// are). True when the last component was created here.
bool make_dirs(const std::string& dir, bool* created_last) {
    std::string partial;
    std::stringstream parts(dir);
    std::string part;
    if (!dir.empty() && dir[0] == '/') partial = "/";
    *created_last = false;
    while (std::getline(parts, part, '/')) {
        if (part.empty()) continue;
        partial += part + "/";
        bool made = mkdir(partial.c_str(), 0700) == 0;
        if (!made && errno != EEXIST) return false;
        *created_last = made;
    }
    return true;
}

bool private_stat(const struct stat& st) {
    return S_ISDIR(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

// A file of the directory, opened without following a symlink in its name; a symlink
// gives a clear error rather than ELOOP's "Too many levels of symbolic links".
Expected<Fd> open_in_dir(int dir, const std::string& dir_path, const PrivateDirectoryUse& use,
                         const std::string& name, int flags, bool* absent = nullptr) {
    std::string path = dir_path + "/" + name;
    // O_NONBLOCK: a FIFO planted under the name must not block the open.
    Fd fd(openat(dir, name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600));
    if (fd.get() >= 0) return fd;
    if (errno == ENOENT && absent) {
        *absent = true;
        return Fd();
    }
    if (errno == ELOOP)
        return refused(use, path,
                       "it is a symbolic link (mcp-auth follows no link inside its directory)",
                       "Remove the link and run the command again (you may have to log in again).");
    return io_error(use.kind, "open", path);
}

// A file to read secrets from: a regular file of this user that nobody else can read.
Status check_private_file(int fd, const std::string& path, const PrivateDirectoryUse& use) {
    struct stat st {};
    if (fstat(fd, &st) != 0) return io_error(use.kind, "inspect", path);
    if (!S_ISREG(st.st_mode))
        return refused(use, path, "it is not a regular file",
                       "Remove it and run the command again (you may have to log in again).");
    if (st.st_uid != geteuid())
        return refused(use, path,
                       "the file belongs to uid " + std::to_string(st.st_uid) +
                           ", not to you (uid " + std::to_string(geteuid()) + ")",
                       "Remove it and log in again.");
    if (st.st_mode & kOthers)
        return refused(use, path,
                       "the file is open to other users (mode " + octal_mode(st.st_mode) + ")",
                       "Its tokens may have been read: run `chmod 600 " + path +
                           "`, then `mcp-auth logout` and log in again.");
    return Ok{};
}

Status write_all(int fd, const std::string& text) {
    for (size_t done = 0; done < text.size();) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return make_error(ErrorKind::Io, "write failed");
        done += static_cast<size_t>(n);
    }
    return Ok{};
}

}  // namespace

// --- LockFile ------------------------------------------------------------------------

Expected<bool> LockFile::try_lock(bool exclusive) {
    if (handle_ < 0) return make_error(kind_, "the lock " + path_ + " is not open");
    for (;;) {
        if (flock(handle_, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0) return true;
        if (errno == EWOULDBLOCK) return false;
        if (errno != EINTR) return io_error(kind_, "lock", path_);
    }
}

Status LockFile::lock(bool exclusive) {
    if (handle_ < 0) return make_error(kind_, "the lock " + path_ + " is not open");
    while (flock(handle_, exclusive ? LOCK_EX : LOCK_SH) != 0)
        if (errno != EINTR) return io_error(kind_, "lock", path_);
    return Ok{};
}

void LockFile::release() {
    if (handle_ >= 0) close(handle_);  // closing drops this descriptor's hold on the lock
    handle_ = -1;
}

// --- PrivateDirectory ----------------------------------------------------------------

Expected<PrivateDirectory> PrivateDirectory::open(const std::string& path,
                                                  PrivateDirectoryUse use) {
    bool created = false;
    if (path.empty() || path[0] != '/')
        return make_error(use.kind,
                          use.what + " needs an absolute directory, not \"" + path + "\"");
    if (!make_dirs(path, &created)) return io_error(use.kind, "create the directory", path);
    Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) return io_error(use.kind, "open the directory", path);
    // Exactly 0700 whatever the umask, for a directory made here.
    if (created && fchmod(fd.get(), 0700) != 0) return io_error(use.kind, "set the mode of", path);
    struct stat st {};
    if (fstat(fd.get(), &st) != 0) return io_error(use.kind, "inspect the directory", path);
    if (st.st_uid != geteuid())
        return refused(use, path,
                       "the directory belongs to uid " + std::to_string(st.st_uid) +
                           ", not to you (uid " + std::to_string(geteuid()) + ")",
                       "Remove it (or move it away) and run the command again; mcp-auth creates "
                       "its own directory with mode 0700.");
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return refused(
            use, path,
            "the directory is writable by other users (mode " + octal_mode(st.st_mode) + ")",
            "Run `chmod 700 " + path + "` and check the files in it, then run the command again.");
    return PrivateDirectory(fd.release(), path, std::move(use));
}

PrivateDirectory::~PrivateDirectory() {
    if (handle_ >= 0) close(handle_);
}

Expected<std::optional<std::string>> PrivateDirectory::read(const std::string& name) const {
    bool absent = false;
    std::string path = path_ + "/" + name;
    auto fd = open_in_dir(handle_, path_, use_, name, O_RDONLY, &absent);
    if (!fd) return fd.error();
    if (absent) return std::optional<std::string>();
    if (auto ok = check_private_file(fd->get(), path, use_); !ok) return ok.error();
    std::string text;
    char buffer[16384];
    for (;;) {
        ssize_t n = ::read(fd->get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            wipe_secret(text);
            wipe_buffer(buffer, sizeof buffer);
            return io_error(use_.kind, "read", path);
        }
        if (n == 0) break;
        text.append(buffer, static_cast<size_t>(n));
    }
    wipe_buffer(buffer, sizeof buffer);
    return std::optional<std::string>(std::move(text));
}

Status PrivateDirectory::replace(const std::string& name, const std::string& content) const {
    std::string path = path_ + "/" + name;
    std::string tmp;
    Fd fd;
    // An unguessable name, created exclusively: a file or link planted in advance under
    // the name is never opened (a collision only costs another try).
    for (int attempt = 0; attempt < 8 && fd.get() < 0; ++attempt) {
        try {
            tmp = name + ".tmp." + base64url_encode(random_bytes(12));
        } catch (const std::exception& e) {
            return make_error(use_.kind,
                              std::string("could not name a temporary file: ") + e.what());
        }
        fd = Fd(openat(handle_, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                       0600));
        if (fd.get() < 0 && errno != EEXIST)
            return io_error(use_.kind, "create", path_ + "/" + tmp);
    }
    if (fd.get() < 0) return io_error(use_.kind, "create a temporary file in", path_);
    // O_CREAT applies the umask to 0600; fix the mode exactly (a stricter umask would
    // leave a file mcp-auth itself could not read back).
    bool written =
        fchmod(fd.get(), 0600) == 0 && write_all(fd.get(), content).ok() && fsync(fd.get()) == 0;
    fd = Fd();
    if (!written || renameat(handle_, tmp.c_str(), handle_, name.c_str()) != 0) {
        int saved = errno;
        unlinkat(handle_, tmp.c_str(), 0);
        errno = saved;
        return io_error(use_.kind, "write", path);
    }
    fsync(handle_);  // the rename itself survives a crash
    return Ok{};
}

Expected<LockFile> PrivateDirectory::open_lock(const std::string& name) const {
    auto fd = open_in_dir(handle_, path_, use_, name, O_RDWR | O_CREAT);
    if (!fd) return fd.error();
    // Back to blocking: flock() does not care, but a child that inherits it might.
    int flags = fcntl(fd->get(), F_GETFL);
    if (flags >= 0) fcntl(fd->get(), F_SETFL, flags & ~O_NONBLOCK);
    return LockFile(fd->release(), path_ + "/" + name, use_.kind);
}

Status PrivateDirectory::touch_marker(const std::string& name) const {
    auto fd = open_in_dir(handle_, path_, use_, name, O_WRONLY | O_CREAT | O_APPEND);
    if (!fd) return fd.error();
    struct stat st {};
    // One byte per change: the size always moves (a timestamp alone may not, within a
    // clock tick). Kept small: a truncation changes the size too.
    if (fstat(fd->get(), &st) == 0 && st.st_size >= kMarkerLimit) (void)!ftruncate(fd->get(), 0);
    if (::write(fd->get(), "+", 1) != 1) return io_error(use_.kind, "write", path_ + "/" + name);
    return Ok{};
}

Expected<AppendFile> AppendFile::open(const std::string& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        int code = errno;
        return make_error(ErrorKind::Io, "cannot open " + path + " to append to it: " +
                                             (code == ELOOP ? std::string("it is a symbolic link")
                                                            : std::string(std::strerror(code))));
    }
    return AppendFile(fd);
}

AppendFile::~AppendFile() {
    if (handle_ >= 0) ::close(handle_);
}

AppendFile::AppendFile(AppendFile&& other) noexcept : handle_(std::exchange(other.handle_, -1)) {}

AppendFile& AppendFile::operator=(AppendFile&& other) noexcept {
    if (this != &other) {
        if (handle_ >= 0) ::close(handle_);
        handle_ = std::exchange(other.handle_, -1);
    }
    return *this;
}

bool AppendFile::append(std::string_view bytes) {
    if (handle_ < 0) return false;
    // O_APPEND: each write lands at the end, whoever else appends. A short write (a full
    // disk) is continued once more, then given up.
    size_t done = 0;
    for (int attempt = 0; done < bytes.size() && attempt < 3; ++attempt) {
        ssize_t n = ::write(handle_, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<size_t>(n);
    }
    return done == bytes.size();
}

long long AppendFile::size() const {
    struct stat st {};
    if (handle_ < 0 || fstat(handle_, &st) != 0) return -1;
    return static_cast<long long>(st.st_size);
}

bool rename_over(const std::string& from, const std::string& to) {
    return ::rename(from.c_str(), to.c_str()) == 0;
}

bool is_private_directory(const std::string& path) {
    struct stat st {};
    return !path.empty() && stat(path.c_str(), &st) == 0 && private_stat(st);
}

std::string file_stamp(const std::string& path) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return "none";
    return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
           std::to_string(static_cast<long long>(st.st_mtime));
}

}  // namespace mcp_auth
