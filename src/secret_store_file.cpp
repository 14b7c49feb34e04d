// The file store, for machines without a keychain, used only when the user chooses it
// (--store file or MCP_AUTH_STORE=file). One JSON file, mode 0600, in a 0700 directory;
// every change is a locked read-modify-write followed by an atomic rename.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "mcp_auth/secret_store.h"

namespace mcp_auth {
namespace {

using nlohmann::json;

Error io_error(const std::string& what, const std::string& path) {
    return make_error(ErrorKind::StoreUnavailable, "could not " + what + " " + path + ": " +
                                                       std::strerror(errno) +
                                                       ". Check the permissions.");
}

// Creates `dir` and its parents; the last component gets mode 0700.
bool make_dirs(const std::string& dir) {
    std::string partial;
    std::stringstream parts(dir);
    std::string part;
    if (!dir.empty() && dir[0] == '/') partial = "/";
    while (std::getline(parts, part, '/')) {
        if (part.empty()) continue;
        partial += part + "/";
        if (mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) return false;
    }
    return true;
}

class FileStore : public SecretStore {
public:
    explicit FileStore(std::string dir) : dir_(std::move(dir)), path_(dir_ + "/credentials.json") {}

    std::string kind() const override { return "file"; }
    std::string description() const override { return "file " + path_ + " (not encrypted)"; }

    Expected<std::optional<std::string>> get(const StoreKey& key) override {
        auto items = find(key);
        if (!items) return items.error();
        for (auto& [attrs, secret] : *items)
            if (attrs == key) return std::optional<std::string>(std::move(secret));
        return std::optional<std::string>();
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
        Lock lock(*this, LOCK_SH);
        if (!lock.ok()) return lock.error();
        auto items = load();
        if (!items) return items.error();
        std::vector<Item> out;
        for (const auto& entry : *items) {
            auto attrs = entry["attributes"].get<StoreKey>();
            if (key_matches(attrs, filter))
                out.emplace_back(std::move(attrs), entry["secret"].get<std::string>());
        }
        return out;
    }

private:
    // An flock() on a side file: it dies with the process, so a crash never leaves
    // the store locked.
    class Lock {
    public:
        Lock(FileStore& store, int mode) {
            if (!make_dirs(store.dir_)) {
                error_ = io_error("create the directory", store.dir_);
                return;
            }
            std::string path = store.dir_ + "/credentials.lock";
            fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            if (fd_ < 0 || flock(fd_, mode) != 0) error_ = io_error("lock", path);
        }
        ~Lock() {
            if (fd_ >= 0) close(fd_);
        }
        bool ok() const { return error_.message.empty(); }
        const Error& error() const { return error_; }

    private:
        int fd_ = -1;
        Error error_;
    };

    static void erase_from(json& items, const StoreKey& key) {
        json kept = json::array();
        for (auto& entry : items)
            if (entry["attributes"].get<StoreKey>() != key) kept.push_back(std::move(entry));
        items = std::move(kept);
    }

    Expected<json> load() {
        std::ifstream in(path_);
        if (!in)
            return errno == ENOENT ? Expected<json>(json::array())
                                   : Expected<json>(io_error("read", path_));
        std::stringstream text;
        text << in.rdbuf();
        json doc = json::parse(text.str(), nullptr, false);
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

    template <class F>
    Status update(F change) {
        Lock lock(*this, LOCK_EX);
        if (!lock.ok()) return lock.error();
        auto items = load();
        if (!items) return items.error();
        change(*items);
        std::string tmp = path_ + ".tmp." + std::to_string(getpid());
        int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) return io_error("write", tmp);
        std::string text = items->dump(2) + "\n";
        bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                       fsync(fd) == 0;
        close(fd);
        if (!written || rename(tmp.c_str(), path_.c_str()) != 0) {
            unlink(tmp.c_str());
            return io_error("write", path_);
        }
        return Ok{};
    }

    std::string dir_;
    std::string path_;
};

}  // namespace

std::unique_ptr<SecretStore> make_file_store(const std::string& dir) {
    return std::make_unique<FileStore>(dir);
}

std::string default_state_dir() {
    if (const char* state = std::getenv("XDG_STATE_HOME"); state && *state)
        return std::string(state) + "/mcp-auth";
    const char* home = std::getenv("HOME");
    return std::string(home && *home ? home : ".") + "/.local/state/mcp-auth";
}

}  // namespace mcp_auth
