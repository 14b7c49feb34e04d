// The file store, for machines without a keychain, used only when the user chooses it
// (--store file or MCP_AUTH_STORE=file). One JSON file, mode 0600, in a 0700 directory;
// every change is a locked read-modify-write followed by an atomic rename.
//
// Another local user must not be able to read, plant or redirect the tokens. So the
// directory is refused unless it belongs to this user and nobody else can write to it;
// every later access is relative to the directory descriptor that passed the check (a
// swap of the directory afterwards changes nothing); no symlink inside it is followed;
// the temporary file is created exclusively, under an unguessable name, with mode 0600
// from the start (no umask dependence); and the store never falls back to the current
// directory when it does not know where the user's home is.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/crypto.h"
#include "core/json_limits.h"
#include "adapters/store/stores.h"

namespace mcp_auth {
namespace {

using nlohmann::json;

constexpr const char* kFileName = "credentials.json";
constexpr const char* kLockName = "credentials.lock";
constexpr mode_t kOthers = S_IRWXG | S_IRWXO;

Error io_error(const std::string& what, const std::string& path) {
    return make_error(ErrorKind::StoreUnavailable, "could not " + what + " " + path + ": " +
                                                       std::strerror(errno) +
                                                       ". Check the permissions.");
}

Error refused(const std::string& path, const std::string& why, const std::string& fix) {
    return make_error(ErrorKind::StoreUnavailable,
                      "refusing to use the file store at " + path + ": " + why +
                          ", so another user could read or replace your tokens. " + fix);
}

std::string octal_mode(mode_t mode) {
    std::ostringstream out;
    out << '0' << std::oct << (mode & 07777);
    return out.str();
}

// A file descriptor, closed when it goes out of scope.
class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) close(fd_);
    }
    Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    Fd& operator=(Fd&& other) noexcept {
        std::swap(fd_, other.fd_);
        return *this;
    }
    int get() const { return fd_; }

private:
    int fd_;
};

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

// Opens the store's directory and checks that only this user can change it. A symlink
// to the directory is followed (users move ~/.local/state elsewhere), but the checks are
// on the directory reached, through the descriptor every later access goes through.
Expected<Fd> open_private_dir(const std::string& dir) {
    bool created = false;
    if (!make_dirs(dir, &created)) return io_error("create the directory", dir);
    Fd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) return io_error("open the directory", dir);
    // Exactly 0700 whatever the umask, for a directory made here.
    if (created && fchmod(fd.get(), 0700) != 0) return io_error("set the mode of", dir);
    struct stat st {};
    if (fstat(fd.get(), &st) != 0) return io_error("inspect the directory", dir);
    if (st.st_uid != geteuid())
        return refused(dir,
                       "the directory belongs to uid " + std::to_string(st.st_uid) +
                           ", not to you (uid " + std::to_string(geteuid()) + ")",
                       "Remove it (or move it away) and run the command again; mcp-auth creates "
                       "its own directory with mode 0700.");
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return refused(
            dir, "the directory is writable by other users (mode " + octal_mode(st.st_mode) + ")",
            "Run `chmod 700 " + dir + "` and check the files in it, then run the command again.");
    return fd;
}

// Checks a file of the store, opened without following symlinks: a regular file of this
// user that nobody else can read.
Status check_private_file(int fd, const std::string& path) {
    struct stat st {};
    if (fstat(fd, &st) != 0) return io_error("inspect", path);
    if (!S_ISREG(st.st_mode))
        return refused(path, "it is not a regular file",
                       "Remove it and run the command again (you may have to log in again).");
    if (st.st_uid != geteuid())
        return refused(path,
                       "the file belongs to uid " + std::to_string(st.st_uid) +
                           ", not to you (uid " + std::to_string(geteuid()) + ")",
                       "Remove it and log in again.");
    if (st.st_mode & kOthers)
        return refused(path,
                       "the file is open to other users (mode " + octal_mode(st.st_mode) + ")",
                       "Its tokens may have been read: run `chmod 600 " + path +
                           "`, then `mcp-auth logout` and log in again.");
    return Ok{};
}

// openat() without following a symlink in the last component; a symlink gives a clear
// error rather than ELOOP's "Too many levels of symbolic links".
Expected<Fd> open_in_dir(int dir, const std::string& dir_path, const char* name, int flags,
                         bool* absent = nullptr) {
    std::string path = dir_path + "/" + name;
    // O_NONBLOCK: a FIFO planted under the name must not block the open.
    Fd fd(openat(dir, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600));
    if (fd.get() >= 0) return fd;
    if (errno == ENOENT && absent) {
        *absent = true;
        return Fd();
    }
    if (errno == ELOOP)
        return refused(path,
                       "it is a symbolic link (mcp-auth follows no link inside its directory)",
                       "Remove the link and run the command again (you may have to log in again).");
    return io_error("open", path);
}

class FileStore : public SecretStore {
public:
    explicit FileStore(std::string dir)
        : dir_(std::move(dir)), path_(dir_.empty() ? std::string() : dir_ + "/" + kFileName) {}

    std::string kind() const override { return "file"; }
    std::string description() const override {
        if (dir_.empty()) return "file store (no directory: HOME is not set)";
        return "file " + path_ + " (not encrypted)";
    }

    Expected<std::optional<std::string>> get(const StoreKey& key) override {
        auto items = find(key);
        if (!items) return items.error();
        std::optional<std::string> found;
        for (auto& [attrs, secret] : *items) {
            if (attrs == key && !found) found = std::move(secret);
            wipe_secret(secret);
        }
        return found;
    }

    Status put(const StoreKey& key, const std::string&, const std::string& secret) override {
        return update([&](json& items) {
            erase_from(items, key);
            json attrs(key);
            items.push_back({{"attributes", attrs}, {"secret", secret}});
        });
    }

    Status erase(const StoreKey& key) override {
        return update([&](json& items) { erase_from(items, key); });
    }

    Expected<std::vector<Item>> find(const StoreKey& filter) override {
        auto session = open_session(LOCK_SH);
        if (!session) return session.error();
        auto items = load(session->dir.get());
        if (!items) return items.error();
        std::vector<Item> out;
        for (auto& entry : *items) {
            auto attrs = entry["attributes"].get<StoreKey>();
            if (key_matches(attrs, filter))
                out.emplace_back(std::move(attrs), entry["secret"].get<std::string>());
        }
        wipe_entries(*items);
        return out;
    }

private:
    // The checked directory and an flock() on a side file in it: the lock dies with the
    // process, so a crash never leaves the store locked.
    struct Session {
        Fd dir;
        Fd lock;
    };

    Expected<Session> open_session(int mode) {
        if (dir_.empty())
            return make_error(
                ErrorKind::StoreUnavailable,
                "the file store has no directory: neither HOME nor XDG_STATE_HOME is set to an "
                "absolute path, and mcp-auth does not keep tokens in the current directory. Set "
                "HOME (or XDG_STATE_HOME) in the environment that starts mcp-auth.");
        auto dir = open_private_dir(dir_);
        if (!dir) return dir.error();
        auto lock = open_in_dir(dir->get(), dir_, kLockName, O_RDWR | O_CREAT);
        if (!lock) return lock.error();
        if (flock(lock->get(), mode) != 0) return io_error("lock", dir_ + "/" + kLockName);
        return Session{std::move(*dir), std::move(*lock)};
    }

    // Wipes the secrets of a loaded store before it is dropped (best effort).
    static void wipe_entries(json& items) {
        for (auto& entry : items) wipe_secret(entry["secret"].get_ref<std::string&>());
    }

    static void erase_from(json& items, const StoreKey& key) {
        json kept = json::array();
        for (auto& entry : items) {
            if (entry["attributes"].get<StoreKey>() != key)
                kept.push_back(std::move(entry));
            else
                wipe_secret(entry["secret"].get_ref<std::string&>());
        }
        items = std::move(kept);
    }

    Expected<json> load(int dir) {
        bool absent = false;
        auto fd = open_in_dir(dir, dir_, kFileName, O_RDONLY, &absent);
        if (!fd) return fd.error();
        if (absent) return json::array();
        if (auto ok = check_private_file(fd->get(), path_); !ok) return ok.error();
        std::string text;
        char buffer[16384];
        for (;;) {
            ssize_t n = ::read(fd->get(), buffer, sizeof buffer);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                wipe_secret(text);
                return io_error("read", path_);
            }
            if (n == 0) break;
            text.append(buffer, static_cast<size_t>(n));
        }
        wipe_buffer(buffer, sizeof buffer);
        json doc = parse_json(text);
        wipe_secret(text);
        if (!doc.is_array())
            return make_error(
                ErrorKind::StoreUnavailable,
                path_ + " is damaged (not a JSON array). Move it away and log in again.");
        for (const auto& entry : doc)
            if (!entry.is_object() || !entry.contains("attributes") ||
                !entry["attributes"].is_object() || !entry.contains("secret") ||
                !entry["secret"].is_string() ||
                !std::all_of(entry["attributes"].begin(), entry["attributes"].end(),
                             [](const json& v) { return v.is_string(); }))
                return make_error(
                    ErrorKind::StoreUnavailable,
                    path_ + " is damaged (an entry is malformed). Move it away and log in again.");
        return doc;
    }

    // Writes `text` to a new file in `dir` and renames it over the store file: readers see
    // the old content or the new, never a mix.
    Status replace_file(int dir, const std::string& text) {
        std::string tmp;
        Fd fd;
        // An unguessable name, created exclusively: a file or link planted in advance under
        // the name is never opened (a collision only costs another try).
        for (int attempt = 0; attempt < 8 && fd.get() < 0; ++attempt) {
            try {
                tmp = std::string(kFileName) + ".tmp." + base64url_encode(random_bytes(12));
            } catch (const std::exception& e) {
                return make_error(ErrorKind::StoreUnavailable,
                                  std::string("could not name a temporary file: ") + e.what());
            }
            fd = Fd(openat(dir, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                           0600));
            if (fd.get() < 0 && errno != EEXIST) return io_error("create", dir_ + "/" + tmp);
        }
        if (fd.get() < 0) return io_error("create a temporary file in", dir_);
        // O_CREAT applies the umask to 0600; fix the mode exactly (a stricter umask would
        // leave a file mcp-auth itself could not read back).
        bool written = fchmod(fd.get(), 0600) == 0;
        for (size_t done = 0; written && done < text.size();) {
            ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) written = false;
            if (n > 0) done += static_cast<size_t>(n);
        }
        written = written && fsync(fd.get()) == 0;
        fd = Fd();
        if (!written || renameat(dir, tmp.c_str(), dir, kFileName) != 0) {
            int saved = errno;
            unlinkat(dir, tmp.c_str(), 0);
            errno = saved;
            return io_error("write", path_);
        }
        fsync(dir);  // the rename itself survives a crash
        return Ok{};
    }

    template <class F>
    Status update(F change) {
        auto session = open_session(LOCK_EX);
        if (!session) return session.error();
        auto items = load(session->dir.get());
        if (!items) return items.error();
        change(*items);
        std::string text = items->dump(2) + "\n";
        Status written = replace_file(session->dir.get(), text);
        wipe_secret(text);
        wipe_entries(*items);
        return written;
    }

    std::string dir_;
    std::string path_;
};

}  // namespace

std::unique_ptr<SecretStore> make_file_store(const std::string& dir) {
    return std::make_unique<FileStore>(dir);
}

}  // namespace mcp_auth
